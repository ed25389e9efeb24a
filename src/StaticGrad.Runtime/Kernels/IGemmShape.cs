namespace StaticGrad.Kernels
{
    /// <summary>
    /// The fixed shape of one matrix product <c>C[M×N] (+)= op(A)·op(B)</c>, for <see cref="Gemm"/>.
    /// </summary>
    /// <remarks>
    /// <para>
    /// StaticGrad's generator writes one small struct per product that implements this interface with members that
    /// return literals (<c>public int N => 64;</c>). <see cref="Gemm"/>'s methods are generic over that struct, so the
    /// JIT compiles one body per shape in which every member is a constant: loop bounds, strides and the choice of
    /// algorithm fold away exactly as if the kernel had been written out for that shape.
    /// </para>
    /// <para>
    /// <c>op(A)</c> is M×K and <c>op(B)</c> is K×N. Stored row-major, element (i, p) of op(A) is
    /// <c>a[i·LeadingA + p]</c>, or <c>a[p·LeadingA + i]</c> when <see cref="TransposeA"/> is set (A is stored as its
    /// transpose, K×M, and read by columns); likewise for B. C is row-major with rows of N elements.
    /// </para>
    /// </remarks>
    public interface IGemmShape
    {
        /// <summary>Rows of C and of op(A), or 0 when the caller passes them at run time (a batch).</summary>
        int M { get; }

        /// <summary>Columns of C and of op(B); always fixed.</summary>
        int N { get; }

        /// <summary>The dimension summed over, or 0 when the caller passes it at run time (a batch).</summary>
        int K { get; }

        /// <summary>Distance between consecutive stored rows of A.</summary>
        int LeadingA { get; }

        /// <summary>Distance between consecutive stored rows of B.</summary>
        int LeadingB { get; }

        /// <summary>A is stored transposed (K×M): op(A) = Aᵀ.</summary>
        bool TransposeA { get; }

        /// <summary>B is stored transposed (N×K): op(B) = Bᵀ.</summary>
        bool TransposeB { get; }

        /// <summary><c>C += op(A)·op(B)</c> instead of <c>C = op(A)·op(B)</c>.</summary>
        bool Accumulate { get; }
    }
}
