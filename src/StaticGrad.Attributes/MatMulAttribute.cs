using System;
using System.Diagnostics;

namespace StaticGrad
{
    /// <summary>
    /// Generates a fixed-shape, allocation-free matrix product and its gradient on the annotated
    /// partial type, in <see cref="float"/>: <c>D[M×N] = W[M×K] · X[K×N]</c>, row-major.
    /// </summary>
    /// <remarks>
    /// <para>The generator adds to the type:</para>
    /// <list type="bullet">
    /// <item><description>constants <c>M</c>, <c>K</c>, <c>N</c>;</description></item>
    /// <item><description><c>Forward(ReadOnlySpan&lt;float&gt; w, ReadOnlySpan&lt;float&gt; x, Span&lt;float&gt; d)</c>: <c>D = W·X</c>;</description></item>
    /// <item><description><c>Backward(w, x, dD, dW, dX)</c>: overwrites <c>dW = dD·Xᵀ</c> and <c>dX = Wᵀ·dD</c>;</description></item>
    /// <item><description>the typed matrices <c>WMatrix</c>, <c>XMatrix</c>, <c>DMatrix</c> and typed overloads of both methods, so a wrong shape is a compile error.</description></item>
    /// </list>
    /// <para>Use <see cref="MatMulAttribute{T}"/> for <see cref="double"/>.</para>
    /// </remarks>
    /// <example>
    /// <code>
    /// [MatMul(5, 10, 3)]            // D[5×3] = W[5×10] · X[10×3]
    /// public partial class Scores;
    ///
    /// Scores.Forward(w, x, d);
    /// Scores.Backward(w, x, dD, dW, dX);
    /// </code>
    /// </example>
    [AttributeUsage(AttributeTargets.Class | AttributeTargets.Struct, AllowMultiple = false, Inherited = false)]
    [Conditional("STATICGRAD_KEEP_ATTRIBUTES")]
    public sealed class MatMulAttribute : Attribute
    {
        /// <summary>Declares <c>D[m×n] = W[m×k] · X[k×n]</c> in <see cref="float"/>.</summary>
        /// <param name="m">Rows of W and of D. Must be positive.</param>
        /// <param name="k">Columns of W and rows of X (the summed dimension). Must be positive.</param>
        /// <param name="n">Columns of X and of D. Must be positive.</param>
        public MatMulAttribute(int m, int k, int n)
        {
            M = m;
            K = k;
            N = n;
        }

        /// <summary>Rows of W and of D.</summary>
        public int M { get; }

        /// <summary>Columns of W and rows of X: the dimension the product sums over.</summary>
        public int K { get; }

        /// <summary>Columns of X and of D.</summary>
        public int N { get; }

        /// <summary>Straight-line or looped code; <see cref="UnrollMode.Auto"/> by default.</summary>
        public UnrollMode Unroll { get; set; }

        /// <summary>
        /// How many threads Forward and Backward may use: 1 (the default) keeps everything on the calling thread. With more,
        /// each product is split (by columns on the packed path, by rows otherwise) between the caller and Threads − 1
        /// background workers of the class (started on first use; they spin briefly after each call, then park), once
        /// <c>M·K·N ≥ 1,048,576</c> (below that, waking a thread costs more than it saves). A call made while another one holds
        /// the workers runs on its own thread alone. Needs a .NET 8 or later target (StaticGrad.Runtime's WorkerTeam; SGR0016
        /// otherwise). Allocates nothing per call.
        /// </summary>
        public int Threads { get; set; } = 1;
    }

    /// <summary>
    /// Generates a fixed-shape, allocation-free matrix product and its gradient on the annotated
    /// partial type in element type <typeparamref name="T"/> (<see cref="float"/> or <see cref="double"/>):
    /// <c>D[M×N] = W[M×K] · X[K×N]</c>, row-major. See <see cref="MatMulAttribute"/> for what is generated.
    /// </summary>
    /// <typeparam name="T"><see cref="float"/> or <see cref="double"/>; anything else is reported as SGR0007.</typeparam>
    [AttributeUsage(AttributeTargets.Class | AttributeTargets.Struct, AllowMultiple = false, Inherited = false)]
    [Conditional("STATICGRAD_KEEP_ATTRIBUTES")]
    public sealed class MatMulAttribute<T> : Attribute
    {
        /// <summary>Declares <c>D[m×n] = W[m×k] · X[k×n]</c> in <typeparamref name="T"/>.</summary>
        /// <param name="m">Rows of W and of D. Must be positive.</param>
        /// <param name="k">Columns of W and rows of X (the summed dimension). Must be positive.</param>
        /// <param name="n">Columns of X and of D. Must be positive.</param>
        public MatMulAttribute(int m, int k, int n)
        {
            M = m;
            K = k;
            N = n;
        }

        /// <summary>Rows of W and of D.</summary>
        public int M { get; }

        /// <summary>Columns of W and rows of X: the dimension the product sums over.</summary>
        public int K { get; }

        /// <summary>Columns of X and of D.</summary>
        public int N { get; }

        /// <summary>Straight-line or looped code; <see cref="UnrollMode.Auto"/> by default.</summary>
        public UnrollMode Unroll { get; set; }

        /// <summary>
        /// How many threads Forward and Backward may use: 1 (the default) keeps everything on the calling thread. With more,
        /// each product is split (by columns on the packed path, by rows otherwise) between the caller and Threads − 1
        /// background workers of the class (started on first use; they spin briefly after each call, then park), once
        /// <c>M·K·N ≥ 1,048,576</c> (below that, waking a thread costs more than it saves). A call made while another one holds
        /// the workers runs on its own thread alone. Needs a .NET 8 or later target (StaticGrad.Runtime's WorkerTeam; SGR0016
        /// otherwise). Allocates nothing per call.
        /// </summary>
        public int Threads { get; set; } = 1;
    }
}
