using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace StaticGrad.Kernels
{
    /// <summary>
    /// Matrix products <c>C[M×N] (+)= op(A)·op(B) (+ bias)</c> for shapes fixed by an <see cref="IGemmShape"/> struct.
    /// StaticGrad's generated code calls these after it has checked every length; they check nothing themselves.
    /// </summary>
    /// <remarks>
    /// <para>
    /// Two algorithms, chosen per shape when the JIT compiles the call (the choice folds to one branch):
    /// </para>
    /// <list type="bullet">
    /// <item><description><b>Direct</b> register-blocked kernels for small products (under 32³ multiply-adds, fewer than 6
    /// rows, or a narrow transposed B), and for CPUs without AVX2 and FMA: a <i>broadcast</i> kernel (4 rows × 2 vectors of
    /// C; one element of op(A) times a row of B) when B is stored row by row, and a <i>dot</i> kernel (2 × 4 outputs, each a
    /// dot product of two contiguous rows) when B is stored transposed. No copies, nothing to set up.</description></item>
    /// <item><description><b>Packed</b> (Goto and van de Geijn, as in BLIS) for the rest: op(B) is copied into per-thread
    /// scratch in the order the micro-kernel reads it (or read in place when its rows are short), the loops are blocked so
    /// a block of A stays in L2 and a sliver of B in L1, and a register-blocked micro-kernel does the work: 12 rows × 2
    /// Vector512 where the CPU has AVX-512, else 6 rows × 2 Vector256 with FMA. The rule is
    /// <see cref="PackedGemm.Worthwhile"/>; see <see cref="PackedGemm"/>.</description></item>
    /// </list>
    /// <para>
    /// Every path has a Vector256 + FMA, a Vector128 and a scalar variant, picked by the JIT once per process from the
    /// CPU's features. Nothing is allocated per call; the packed path's scratch is allocated once per thread.
    /// </para>
    /// </remarks>
    public static class Gemm
    {
        /// <summary>
        /// <c>C = op(A)·op(B)</c>, or <c>C += op(A)·op(B)</c> when <see cref="IGemmShape.Accumulate"/> is set.
        /// </summary>
        /// <typeparam name="TShape">The product's shape; its members must return constants.</typeparam>
        /// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
        /// <param name="a">The first element of A.</param>
        /// <param name="b">The first element of B.</param>
        /// <param name="c">The first element of C (row-major, N columns).</param>
        /// <param name="rows">M, when <typeparamref name="TShape"/> leaves it to run time (its M is 0); ignored otherwise.</param>
        /// <param name="depth">K, when <typeparamref name="TShape"/> leaves it to run time (its K is 0); ignored otherwise.</param>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Multiply<TShape, T>(ref T a, ref T b, ref T c, int rows = 0, int depth = 0)
            where TShape : struct, IGemmShape
            where T : unmanaged, IBinaryFloatingPointIeee754<T> =>
            Run<TShape, T>(ref a, ref b, ref c, ref Unsafe.NullRef<T>(), rows, depth);

        /// <summary>
        /// <c>C[i,j] = bias[j] + Σ_p op(A)[i,p]·op(B)[p,j]</c> (the bias is added once, also when accumulating).
        /// </summary>
        /// <typeparam name="TShape">The product's shape; its members must return constants.</typeparam>
        /// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
        /// <param name="a">The first element of A.</param>
        /// <param name="b">The first element of B.</param>
        /// <param name="bias">The first of N bias values, one per column of C.</param>
        /// <param name="c">The first element of C (row-major, N columns).</param>
        /// <param name="rows">M, when <typeparamref name="TShape"/> leaves it to run time (its M is 0); ignored otherwise.</param>
        /// <param name="depth">K, when <typeparamref name="TShape"/> leaves it to run time (its K is 0); ignored otherwise.</param>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void MultiplyAddBias<TShape, T>(ref T a, ref T b, ref T bias, ref T c, int rows = 0, int depth = 0)
            where TShape : struct, IGemmShape
            where T : unmanaged, IBinaryFloatingPointIeee754<T> =>
            Run<TShape, T>(ref a, ref b, ref c, ref bias, rows, depth);

        /// <summary>
        /// As <see cref="Multiply{TShape, T}(ref T, ref T, ref T, int, int)"/>, with the rows of C split across
        /// <paramref name="team"/>'s threads when the product is large enough to gain (at least 2²⁰ multiply-adds and
        /// 24 rows); smaller products, and <paramref name="team"/> <see langword="null"/>, run on the calling thread.
        /// </summary>
        /// <typeparam name="TShape">The product's shape; its members must return constants.</typeparam>
        /// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
        /// <param name="a">The first element of A.</param>
        /// <param name="b">The first element of B.</param>
        /// <param name="c">The first element of C (row-major, N columns).</param>
        /// <param name="team">The threads to use, or <see langword="null"/> for this one.</param>
        /// <param name="rows">M, when <typeparamref name="TShape"/> leaves it to run time.</param>
        /// <param name="depth">K, when <typeparamref name="TShape"/> leaves it to run time.</param>
        public static void Multiply<TShape, T>(ref T a, ref T b, ref T c, WorkerTeam? team, int rows = 0, int depth = 0)
            where TShape : struct, IGemmShape
            where T : unmanaged, IBinaryFloatingPointIeee754<T> =>
            RunOnTeam<TShape, T>(ref a, ref b, ref c, ref Unsafe.NullRef<T>(), team, rows, depth);

        /// <summary>
        /// As <see cref="MultiplyAddBias{TShape, T}(ref T, ref T, ref T, ref T, int, int)"/>, with the rows of C split across
        /// <paramref name="team"/>'s threads when the product is large enough to gain.
        /// </summary>
        /// <typeparam name="TShape">The product's shape; its members must return constants.</typeparam>
        /// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
        /// <param name="a">The first element of A.</param>
        /// <param name="b">The first element of B.</param>
        /// <param name="bias">The first of N bias values, one per column of C.</param>
        /// <param name="c">The first element of C (row-major, N columns).</param>
        /// <param name="team">The threads to use, or <see langword="null"/> for this one.</param>
        /// <param name="rows">M, when <typeparamref name="TShape"/> leaves it to run time.</param>
        /// <param name="depth">K, when <typeparamref name="TShape"/> leaves it to run time.</param>
        public static void MultiplyAddBias<TShape, T>(ref T a, ref T b, ref T bias, ref T c, WorkerTeam? team, int rows = 0, int depth = 0)
            where TShape : struct, IGemmShape
            where T : unmanaged, IBinaryFloatingPointIeee754<T> =>
            RunOnTeam<TShape, T>(ref a, ref b, ref c, ref bias, team, rows, depth);

        /// <summary>Whether a product of this size, with B stored K×N, takes the packed path on this machine (the rule is in <see cref="PackedGemm.Worthwhile"/>).</summary>
        /// <param name="m">Rows of C.</param>
        /// <param name="n">Columns of C.</param>
        /// <param name="k">The dimension summed over.</param>
        /// <param name="elementSize">4 for float, 8 for double.</param>
        public static bool UsesPackedPath(int m, int n, int k, int elementSize) => UsesPackedPath(m, n, k, elementSize, transposeB: false);

        /// <summary>Whether a product of this size takes the packed path on this machine (the rule is in <see cref="PackedGemm.Worthwhile"/>).</summary>
        /// <param name="m">Rows of C.</param>
        /// <param name="n">Columns of C.</param>
        /// <param name="k">The dimension summed over.</param>
        /// <param name="elementSize">4 for float, 8 for double.</param>
        /// <param name="transposeB">Whether B is stored transposed (N×K).</param>
        public static bool UsesPackedPath(int m, int n, int k, int elementSize, bool transposeB) =>
            PackedGemm.Available && PackedGemm.Worthwhile(m, n, k, elementSize, transposeB);

        /// <summary>Products at least this large (multiply-adds) are split across a team's threads.</summary>
        private const long ParallelThreshold = 1L << 20;

        /// <summary>Each thread gets at least this many rows (two Vector512 micro-kernel slivers).</summary>
        private const int RowsPerPart = 24;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Run<TShape, T>(ref T a, ref T b, ref T c, ref T bias, int rows, int depth)
            where TShape : struct, IGemmShape
            where T : unmanaged, IBinaryFloatingPointIeee754<T>
        {
            TShape shape = default;
            RunRows<TShape, T>(ref a, ref b, ref c, ref bias, shape.M != 0 ? shape.M : rows, shape.K != 0 ? shape.K : depth);
        }

        private static unsafe void RunOnTeam<TShape, T>(ref T a, ref T b, ref T c, ref T bias, WorkerTeam? team, int rows, int depth)
            where TShape : struct, IGemmShape
            where T : unmanaged, IBinaryFloatingPointIeee754<T>
        {
            TShape shape = default;
            int m = shape.M != 0 ? shape.M : rows;
            int k = shape.K != 0 ? shape.K : depth;
            if (team is null || m < 2 * RowsPerPart || (long)m * shape.N * k < ParallelThreshold)
            {
                RunRows<TShape, T>(ref a, ref b, ref c, ref bias, m, k);
                return;
            }

            // The operands are pinned while the workers use them through pointers; Run returns only when every part is done.
            // Packed products wider than tall split by columns (each thread packs only its part of B and reads all of A in
            // place); the others, and direct ones, by rows (each thread packs all of B and reads its part of A). Measured on
            // two threads: 128×784 by 784×128 (a Fashion MLP's forward) 145 µs by columns, 108 µs by rows (177 µs on one);
            // 128×128 by 128×784 (its ∂W) 97 µs by columns; 256³ the same either way.
            // The algorithm is chosen for the whole product: a share of rows too small to be worth packing on its own still
            // takes the packed path (784×128 by 128×32 in halves on the direct kernels took 58–78 µs, packed 40 µs on one).
            bool packed = PackedGemm.Available && PackedGemm.Worthwhile(m, shape.N, k, Unsafe.SizeOf<T>(), shape.TransposeB);
            bool byColumns = packed && shape.N >= 2 * PackedGemm.ColumnGrain<T>() && shape.N > m;
            fixed (T* pa = &a, pb = &b, pc = &c, pBias = &bias)
            {
                var job = new SplitJob<TShape, T> { A = pa, B = pb, C = pc, Bias = pBias, M = m, K = k, Packed = packed, ByColumns = byColumns };
                team.Run(ref job);
            }
        }

        /// <summary>
        /// One thread's share of a product: a band of columns of C (and of op(B)) on whole micro-kernel slivers for a packed
        /// product wider than tall, or a band of rows of C (and of op(A)) on 12-row boundaries, on the path chosen for the
        /// whole product.
        /// </summary>
        private unsafe struct SplitJob<TShape, T> : IPartitionedJob
            where TShape : struct, IGemmShape
            where T : unmanaged, IBinaryFloatingPointIeee754<T>
        {
            public T* A;
            public T* B;
            public T* C;
            public T* Bias;
            public int M;
            public int K;
            public bool Packed;
            public bool ByColumns;

            public void Run(int part, int parts)
            {
                TShape s = default;
                int length = ByColumns ? s.N : M, grain = ByColumns ? PackedGemm.ColumnGrain<T>() : 12;
                int first = Boundary(length, grain, part, parts), end = part + 1 == parts ? length : Boundary(length, grain, part + 1, parts);
                if (end <= first)
                {
                    return;
                }

                if (ByColumns)
                {
                    PackedGemm.Run<TShape, T>(ref *A, ref *B, ref *C, ref *Bias, M, K, first, end);
                    return;
                }

                int ra = s.TransposeA ? 1 : s.LeadingA;
                if (Packed)
                {
                    PackedGemm.Run<TShape, T>(ref *(A + ((nint)first * ra)), ref *B, ref *(C + ((nint)first * s.N)), ref *Bias, end - first, K);
                    return;
                }

                RunRows<TShape, T>(ref *(A + ((nint)first * ra)), ref *B, ref *(C + ((nint)first * s.N)), ref *Bias, end - first, K);
            }

            private static int Boundary(int length, int grain, int part, int parts) => (int)((long)length * part / parts) / grain * grain;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void RunRows<TShape, T>(ref T a, ref T b, ref T c, ref T bias, int m, int k)
            where TShape : struct, IGemmShape
            where T : unmanaged, IBinaryFloatingPointIeee754<T>
        {
            TShape shape = default;
            if (m <= 0)
            {
                return;
            }

            if (PackedGemm.Available && PackedGemm.Worthwhile(m, shape.N, k, Unsafe.SizeOf<T>(), shape.TransposeB))
            {
                PackedGemm.Run<TShape, T>(ref a, ref b, ref c, ref bias, m, k);
            }
            else if (!shape.TransposeB)
            {
                DirectKernels.Broadcast<TShape, T>(ref a, ref b, ref c, ref bias, m, k);
            }
            else if (!shape.TransposeA)
            {
                DirectKernels.Dot<TShape, T>(ref a, ref b, ref c, ref bias, m, k);
            }
            else
            {
                DirectKernels.Plain<TShape, T>(ref a, ref b, ref c, ref bias, m, k);
            }
        }
    }
}
