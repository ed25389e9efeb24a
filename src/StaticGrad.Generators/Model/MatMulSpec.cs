namespace StaticGrad.Generators.Model
{
    /// <summary>
    /// Everything the emitter needs to write one <c>[MatMul]</c> type, as plain values, so the
    /// incremental pipeline can compare two runs' models and skip the emitter when nothing changed.
    /// </summary>
    /// <param name="Type">Where the generated code goes.</param>
    /// <param name="Element">float or double.</param>
    /// <param name="M">Rows of W and D.</param>
    /// <param name="K">Columns of W, rows of X.</param>
    /// <param name="N">Columns of X and D.</param>
    /// <param name="Unrolled">Straight-line code (<see langword="true"/>) or loops.</param>
    /// <param name="CodeShapeReason">One sentence saying why the code is unrolled or looped.</param>
    /// <param name="AttributeText">The attribute as the user wrote it, normalised: <c>MatMul(5, 10, 3)</c>.</param>
    /// <param name="NullableDirective">Whether the consumer's language version accepts <c>#nullable enable</c>.</param>
    /// <param name="RuntimeKernels">Whether the compilation references StaticGrad.Runtime (a .NET 8+ target), whose kernels the looped path calls.</param>
    /// <param name="Threads">How many threads the looped SIMD path splits rows across (1: the calling thread only).</param>
    internal sealed record MatMulSpec(
        TypeHierarchy Type,
        ElementKind Element,
        int M,
        int K,
        int N,
        bool Unrolled,
        string CodeShapeReason,
        string AttributeText,
        bool NullableDirective,
        bool RuntimeKernels,
        int Threads)
    {
        /// <summary>Products at least this large (M·K·N) are split across <see cref="Threads"/> threads.</summary>
        public const long ParallelThreshold = 1L << 20;

        /// <summary>Whether Forward and Backward split their rows across threads.</summary>
        public bool Parallel => Threads > 1;

        /// <summary>Element count of W (M×K).</summary>
        public int WLength => M * K;

        /// <summary>Element count of X (K×N).</summary>
        public int XLength => K * N;

        /// <summary>Element count of D (M×N).</summary>
        public int DLength => M * N;
    }
}
