using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace StaticGrad.Kernels
{
    /// <summary>
    /// Register-blocked products that read the operands where they are (no packing): the fastest choice while the
    /// operands stay in the first cache levels. Each has a Vector256 + FMA, a Vector128 and a scalar path; the JIT keeps one.
    /// </summary>
    /// <remarks>
    /// Element (i, p) of op(A) is <c>a[i·ra + p·pa]</c> with <c>(ra, pa) = (LeadingA, 1)</c>, or <c>(1, LeadingA)</c> when A is
    /// stored transposed, so a transposed A costs nothing in the broadcast kernel. The blocks are small methods the JIT
    /// inlines with constant arguments, so each loop nest ends up call-free and its accumulators stay in registers.
    /// </remarks>
    internal static class DirectKernels
    {
        /// <summary>
        /// <c>C (+)= op(A)·B</c> with B stored row by row: each step broadcasts one element of op(A) and multiplies it into a
        /// row of B. Blocks of 4 rows × 2 vectors (8 accumulators), then one-vector blocks, then scalar columns.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public static void Broadcast<TShape, T>(ref T a, ref T b, ref T c, ref T bias, int m, int k)
            where TShape : struct, IGemmShape
            where T : unmanaged, IBinaryFloatingPointIeee754<T>
        {
            TShape s = default;
            int n = s.N;
            int ra = s.TransposeA ? 1 : s.LeadingA, pa = s.TransposeA ? s.LeadingA : 1, ldb = s.LeadingB;
            bool hasBias = !Unsafe.IsNullRef(ref bias);
            if (Vector256.IsHardwareAccelerated && Fma.IsSupported && n >= Vector256<T>.Count)
            {
                int lanes = Vector256<T>.Count;
                int fullWide = n / (2 * lanes) * (2 * lanes);
                bool oneVectorTail = n - fullWide >= lanes;
                int vectorColumns = fullWide + (oneVectorTail ? lanes : 0);
                int i = 0;
                for (; i + 4 <= m; i += 4)
                {
                    ref T ai = ref Unsafe.Add(ref a, i * ra);
                    ref T ci = ref Unsafe.Add(ref c, i * n);
                    for (int j = 0; j < fullWide; j += 2 * lanes)
                    {
                        Block256x4<TShape, T>(ref ai, ref Unsafe.Add(ref b, j), ref Unsafe.Add(ref ci, j), ref bias, j, hasBias, k, ra, pa, ldb, n, two: true);
                    }

                    if (oneVectorTail)
                    {
                        Block256x4<TShape, T>(ref ai, ref Unsafe.Add(ref b, fullWide), ref Unsafe.Add(ref ci, fullWide), ref bias, fullWide, hasBias, k, ra, pa, ldb, n, two: false);
                    }

                    ScalarColumns<TShape, T>(ref ai, ref b, ref ci, ref bias, hasBias, 4, vectorColumns, k, ra, pa, ldb, n);
                }

                for (; i < m; i++)
                {
                    ref T ai = ref Unsafe.Add(ref a, i * ra);
                    ref T ci = ref Unsafe.Add(ref c, i * n);
                    for (int j = 0; j < fullWide; j += 2 * lanes)
                    {
                        Block256x1<TShape, T>(ref ai, ref Unsafe.Add(ref b, j), ref Unsafe.Add(ref ci, j), ref bias, j, hasBias, k, pa, ldb, two: true);
                    }

                    if (oneVectorTail)
                    {
                        Block256x1<TShape, T>(ref ai, ref Unsafe.Add(ref b, fullWide), ref Unsafe.Add(ref ci, fullWide), ref bias, fullWide, hasBias, k, pa, ldb, two: false);
                    }

                    ScalarColumns<TShape, T>(ref ai, ref b, ref ci, ref bias, hasBias, 1, vectorColumns, k, ra, pa, ldb, n);
                }

                return;
            }

            if (Vector128.IsHardwareAccelerated && n >= Vector128<T>.Count)
            {
                int lanes = Vector128<T>.Count;
                int fullWide = n / (2 * lanes) * (2 * lanes);
                bool oneVectorTail = n - fullWide >= lanes;
                int vectorColumns = fullWide + (oneVectorTail ? lanes : 0);
                int i = 0;
                for (; i + 4 <= m; i += 4)
                {
                    ref T ai = ref Unsafe.Add(ref a, i * ra);
                    ref T ci = ref Unsafe.Add(ref c, i * n);
                    for (int j = 0; j < fullWide; j += 2 * lanes)
                    {
                        Block128x4<TShape, T>(ref ai, ref Unsafe.Add(ref b, j), ref Unsafe.Add(ref ci, j), ref bias, j, hasBias, k, ra, pa, ldb, n, two: true);
                    }

                    if (oneVectorTail)
                    {
                        Block128x4<TShape, T>(ref ai, ref Unsafe.Add(ref b, fullWide), ref Unsafe.Add(ref ci, fullWide), ref bias, fullWide, hasBias, k, ra, pa, ldb, n, two: false);
                    }

                    ScalarColumns<TShape, T>(ref ai, ref b, ref ci, ref bias, hasBias, 4, vectorColumns, k, ra, pa, ldb, n);
                }

                for (; i < m; i++)
                {
                    ref T ai = ref Unsafe.Add(ref a, i * ra);
                    ref T ci = ref Unsafe.Add(ref c, i * n);
                    for (int j = 0; j < fullWide; j += 2 * lanes)
                    {
                        Block128x1<TShape, T>(ref ai, ref Unsafe.Add(ref b, j), ref Unsafe.Add(ref ci, j), ref bias, j, hasBias, k, pa, ldb, two: true);
                    }

                    if (oneVectorTail)
                    {
                        Block128x1<TShape, T>(ref ai, ref Unsafe.Add(ref b, fullWide), ref Unsafe.Add(ref ci, fullWide), ref bias, fullWide, hasBias, k, pa, ldb, two: false);
                    }

                    ScalarColumns<TShape, T>(ref ai, ref b, ref ci, ref bias, hasBias, 1, vectorColumns, k, ra, pa, ldb, n);
                }

                return;
            }

            Plain<TShape, T>(ref a, ref b, ref c, ref bias, m, k);
        }

        /// <summary>
        /// <c>C (+)= A·Bᵀ</c> with A and B both stored row by row along the summed dimension: each output is the dot product
        /// of two contiguous rows. Blocks of 2 rows × 4 columns (8 vector accumulators), each reduced once at the end.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public static void Dot<TShape, T>(ref T a, ref T b, ref T c, ref T bias, int m, int k)
            where TShape : struct, IGemmShape
            where T : unmanaged, IBinaryFloatingPointIeee754<T>
        {
            TShape s = default;
            int n = s.N, lda = s.LeadingA, ldb = s.LeadingB;
            bool hasBias = !Unsafe.IsNullRef(ref bias);
            int fullColumns = n / 4 * 4;
            if (Vector256.IsHardwareAccelerated && Fma.IsSupported && k >= Vector256<T>.Count)
            {
                int i = 0;
                for (; i + 2 <= m; i += 2)
                {
                    for (int q = 0; q < fullColumns; q += 4)
                    {
                        Dot256<TShape, T>(ref a, ref b, ref c, ref bias, hasBias, i, q, k, lda, ldb, n, rows: 2, columns: 4);
                    }

                    for (int q = fullColumns; q < n; q++)
                    {
                        Dot256<TShape, T>(ref a, ref b, ref c, ref bias, hasBias, i, q, k, lda, ldb, n, rows: 2, columns: 1);
                    }
                }

                for (; i < m; i++)
                {
                    for (int q = 0; q < fullColumns; q += 4)
                    {
                        Dot256<TShape, T>(ref a, ref b, ref c, ref bias, hasBias, i, q, k, lda, ldb, n, rows: 1, columns: 4);
                    }

                    for (int q = fullColumns; q < n; q++)
                    {
                        Dot256<TShape, T>(ref a, ref b, ref c, ref bias, hasBias, i, q, k, lda, ldb, n, rows: 1, columns: 1);
                    }
                }

                return;
            }

            if (Vector128.IsHardwareAccelerated && k >= Vector128<T>.Count)
            {
                int i = 0;
                for (; i + 2 <= m; i += 2)
                {
                    for (int q = 0; q < fullColumns; q += 4)
                    {
                        Dot128<TShape, T>(ref a, ref b, ref c, ref bias, hasBias, i, q, k, lda, ldb, n, rows: 2, columns: 4);
                    }

                    for (int q = fullColumns; q < n; q++)
                    {
                        Dot128<TShape, T>(ref a, ref b, ref c, ref bias, hasBias, i, q, k, lda, ldb, n, rows: 2, columns: 1);
                    }
                }

                for (; i < m; i++)
                {
                    for (int q = 0; q < fullColumns; q += 4)
                    {
                        Dot128<TShape, T>(ref a, ref b, ref c, ref bias, hasBias, i, q, k, lda, ldb, n, rows: 1, columns: 4);
                    }

                    for (int q = fullColumns; q < n; q++)
                    {
                        Dot128<TShape, T>(ref a, ref b, ref c, ref bias, hasBias, i, q, k, lda, ldb, n, rows: 1, columns: 1);
                    }
                }

                return;
            }

            Plain<TShape, T>(ref a, ref b, ref c, ref bias, m, k);
        }

        /// <summary>The plain product, one element at a time, for any orientation: the scalar path and the reference shape of every other.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public static void Plain<TShape, T>(ref T a, ref T b, ref T c, ref T bias, int m, int k)
            where TShape : struct, IGemmShape
            where T : unmanaged, IBinaryFloatingPointIeee754<T>
        {
            TShape s = default;
            int n = s.N;
            int ra = s.TransposeA ? 1 : s.LeadingA, pa = s.TransposeA ? s.LeadingA : 1;
            int rb = s.TransposeB ? 1 : s.LeadingB, pb = s.TransposeB ? s.LeadingB : 1;
            bool hasBias = !Unsafe.IsNullRef(ref bias);
            for (int i = 0; i < m; i++)
            {
                for (int j = 0; j < n; j++)
                {
                    T sum = Start<TShape, T>(ref c, ref bias, hasBias, (i * n) + j, j);
                    for (int p = 0; p < k; p++)
                    {
                        sum += Unsafe.Add(ref a, (i * ra) + (p * pa)) * Unsafe.Add(ref b, (p * rb) + (j * pb));
                    }

                    Unsafe.Add(ref c, (i * n) + j) = sum;
                }
            }
        }

        /// <summary>What output (i, j) starts from: its old value when accumulating, plus the bias of its column.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static T Start<TShape, T>(ref T c, ref T bias, bool hasBias, int index, int column)
            where TShape : struct, IGemmShape
            where T : unmanaged, IBinaryFloatingPointIeee754<T>
        {
            T start = default(TShape).Accumulate ? Unsafe.Add(ref c, index) : T.Zero;
            return hasBias ? start + Unsafe.Add(ref bias, column) : start;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector256<T> Start256<TShape, T>(ref T c, ref T biasAtColumn, bool hasBias)
            where TShape : struct, IGemmShape
            where T : unmanaged, IBinaryFloatingPointIeee754<T>
        {
            Vector256<T> start = default(TShape).Accumulate ? Vector256.LoadUnsafe(ref c) : Vector256<T>.Zero;
            return hasBias ? start + Vector256.LoadUnsafe(ref biasAtColumn) : start;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector128<T> Start128<TShape, T>(ref T c, ref T biasAtColumn, bool hasBias)
            where TShape : struct, IGemmShape
            where T : unmanaged, IBinaryFloatingPointIeee754<T>
        {
            Vector128<T> start = default(TShape).Accumulate ? Vector128.LoadUnsafe(ref c) : Vector128<T>.Zero;
            return hasBias ? start + Vector128.LoadUnsafe(ref biasAtColumn) : start;
        }

        /// <summary>4 rows × one or two vectors of C: <c>c[r] += A(i + r, p) · B[p, j…]</c> over every p.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Block256x4<TShape, T>(ref T a, ref T b, ref T c, ref T bias, int j, bool hasBias, int k, int ra, int pa, int ldb, int n, bool two)
            where TShape : struct, IGemmShape
            where T : unmanaged, IBinaryFloatingPointIeee754<T>
        {
            int lanes = Vector256<T>.Count;
            ref T bj = ref Unsafe.Add(ref bias, j);
            ref T c1 = ref Unsafe.Add(ref c, n);
            ref T c2 = ref Unsafe.Add(ref c, 2 * n);
            ref T c3 = ref Unsafe.Add(ref c, 3 * n);
            var c00 = Start256<TShape, T>(ref c, ref bj, hasBias);
            var c10 = Start256<TShape, T>(ref c1, ref bj, hasBias);
            var c20 = Start256<TShape, T>(ref c2, ref bj, hasBias);
            var c30 = Start256<TShape, T>(ref c3, ref bj, hasBias);
            Vector256<T> c01 = default, c11 = default, c21 = default, c31 = default;
            if (two)
            {
                ref T bj1 = ref Unsafe.Add(ref bj, lanes);
                c01 = Start256<TShape, T>(ref Unsafe.Add(ref c, lanes), ref bj1, hasBias);
                c11 = Start256<TShape, T>(ref Unsafe.Add(ref c1, lanes), ref bj1, hasBias);
                c21 = Start256<TShape, T>(ref Unsafe.Add(ref c2, lanes), ref bj1, hasBias);
                c31 = Start256<TShape, T>(ref Unsafe.Add(ref c3, lanes), ref bj1, hasBias);
            }

            for (int p = 0; p < k; p++)
            {
                ref T bRow = ref Unsafe.Add(ref b, p * ldb);
                ref T ap = ref Unsafe.Add(ref a, p * pa);
                var b0 = Vector256.LoadUnsafe(ref bRow);
                var a0 = Vector256.Create(ap);
                var a1 = Vector256.Create(Unsafe.Add(ref ap, ra));
                var a2 = Vector256.Create(Unsafe.Add(ref ap, 2 * ra));
                var a3 = Vector256.Create(Unsafe.Add(ref ap, 3 * ra));
                c00 = VectorOps.MultiplyAdd(a0, b0, c00);
                c10 = VectorOps.MultiplyAdd(a1, b0, c10);
                c20 = VectorOps.MultiplyAdd(a2, b0, c20);
                c30 = VectorOps.MultiplyAdd(a3, b0, c30);
                if (two)
                {
                    var b1 = Vector256.LoadUnsafe(ref bRow, (nuint)lanes);
                    c01 = VectorOps.MultiplyAdd(a0, b1, c01);
                    c11 = VectorOps.MultiplyAdd(a1, b1, c11);
                    c21 = VectorOps.MultiplyAdd(a2, b1, c21);
                    c31 = VectorOps.MultiplyAdd(a3, b1, c31);
                }
            }

            c00.StoreUnsafe(ref c);
            c10.StoreUnsafe(ref c1);
            c20.StoreUnsafe(ref c2);
            c30.StoreUnsafe(ref c3);
            if (two)
            {
                c01.StoreUnsafe(ref c, (nuint)lanes);
                c11.StoreUnsafe(ref c1, (nuint)lanes);
                c21.StoreUnsafe(ref c2, (nuint)lanes);
                c31.StoreUnsafe(ref c3, (nuint)lanes);
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Block256x1<TShape, T>(ref T a, ref T b, ref T c, ref T bias, int j, bool hasBias, int k, int pa, int ldb, bool two)
            where TShape : struct, IGemmShape
            where T : unmanaged, IBinaryFloatingPointIeee754<T>
        {
            int lanes = Vector256<T>.Count;
            ref T bj = ref Unsafe.Add(ref bias, j);
            var c00 = Start256<TShape, T>(ref c, ref bj, hasBias);
            Vector256<T> c01 = two ? Start256<TShape, T>(ref Unsafe.Add(ref c, lanes), ref Unsafe.Add(ref bj, lanes), hasBias) : default;
            for (int p = 0; p < k; p++)
            {
                ref T bRow = ref Unsafe.Add(ref b, p * ldb);
                var a0 = Vector256.Create(Unsafe.Add(ref a, p * pa));
                c00 = VectorOps.MultiplyAdd(a0, Vector256.LoadUnsafe(ref bRow), c00);
                if (two)
                {
                    c01 = VectorOps.MultiplyAdd(a0, Vector256.LoadUnsafe(ref bRow, (nuint)lanes), c01);
                }
            }

            c00.StoreUnsafe(ref c);
            if (two)
            {
                c01.StoreUnsafe(ref c, (nuint)lanes);
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Block128x4<TShape, T>(ref T a, ref T b, ref T c, ref T bias, int j, bool hasBias, int k, int ra, int pa, int ldb, int n, bool two)
            where TShape : struct, IGemmShape
            where T : unmanaged, IBinaryFloatingPointIeee754<T>
        {
            int lanes = Vector128<T>.Count;
            ref T bj = ref Unsafe.Add(ref bias, j);
            ref T c1 = ref Unsafe.Add(ref c, n);
            ref T c2 = ref Unsafe.Add(ref c, 2 * n);
            ref T c3 = ref Unsafe.Add(ref c, 3 * n);
            var c00 = Start128<TShape, T>(ref c, ref bj, hasBias);
            var c10 = Start128<TShape, T>(ref c1, ref bj, hasBias);
            var c20 = Start128<TShape, T>(ref c2, ref bj, hasBias);
            var c30 = Start128<TShape, T>(ref c3, ref bj, hasBias);
            Vector128<T> c01 = default, c11 = default, c21 = default, c31 = default;
            if (two)
            {
                ref T bj1 = ref Unsafe.Add(ref bj, lanes);
                c01 = Start128<TShape, T>(ref Unsafe.Add(ref c, lanes), ref bj1, hasBias);
                c11 = Start128<TShape, T>(ref Unsafe.Add(ref c1, lanes), ref bj1, hasBias);
                c21 = Start128<TShape, T>(ref Unsafe.Add(ref c2, lanes), ref bj1, hasBias);
                c31 = Start128<TShape, T>(ref Unsafe.Add(ref c3, lanes), ref bj1, hasBias);
            }

            for (int p = 0; p < k; p++)
            {
                ref T bRow = ref Unsafe.Add(ref b, p * ldb);
                ref T ap = ref Unsafe.Add(ref a, p * pa);
                var b0 = Vector128.LoadUnsafe(ref bRow);
                var a0 = Vector128.Create(ap);
                var a1 = Vector128.Create(Unsafe.Add(ref ap, ra));
                var a2 = Vector128.Create(Unsafe.Add(ref ap, 2 * ra));
                var a3 = Vector128.Create(Unsafe.Add(ref ap, 3 * ra));
                c00 = (a0 * b0) + c00;
                c10 = (a1 * b0) + c10;
                c20 = (a2 * b0) + c20;
                c30 = (a3 * b0) + c30;
                if (two)
                {
                    var b1 = Vector128.LoadUnsafe(ref bRow, (nuint)lanes);
                    c01 = (a0 * b1) + c01;
                    c11 = (a1 * b1) + c11;
                    c21 = (a2 * b1) + c21;
                    c31 = (a3 * b1) + c31;
                }
            }

            c00.StoreUnsafe(ref c);
            c10.StoreUnsafe(ref c1);
            c20.StoreUnsafe(ref c2);
            c30.StoreUnsafe(ref c3);
            if (two)
            {
                c01.StoreUnsafe(ref c, (nuint)lanes);
                c11.StoreUnsafe(ref c1, (nuint)lanes);
                c21.StoreUnsafe(ref c2, (nuint)lanes);
                c31.StoreUnsafe(ref c3, (nuint)lanes);
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Block128x1<TShape, T>(ref T a, ref T b, ref T c, ref T bias, int j, bool hasBias, int k, int pa, int ldb, bool two)
            where TShape : struct, IGemmShape
            where T : unmanaged, IBinaryFloatingPointIeee754<T>
        {
            int lanes = Vector128<T>.Count;
            ref T bj = ref Unsafe.Add(ref bias, j);
            var c00 = Start128<TShape, T>(ref c, ref bj, hasBias);
            Vector128<T> c01 = two ? Start128<TShape, T>(ref Unsafe.Add(ref c, lanes), ref Unsafe.Add(ref bj, lanes), hasBias) : default;
            for (int p = 0; p < k; p++)
            {
                ref T bRow = ref Unsafe.Add(ref b, p * ldb);
                var a0 = Vector128.Create(Unsafe.Add(ref a, p * pa));
                c00 = (a0 * Vector128.LoadUnsafe(ref bRow)) + c00;
                if (two)
                {
                    c01 = (a0 * Vector128.LoadUnsafe(ref bRow, (nuint)lanes)) + c01;
                }
            }

            c00.StoreUnsafe(ref c);
            if (two)
            {
                c01.StoreUnsafe(ref c, (nuint)lanes);
            }
        }

        /// <summary>The columns right of the last whole vector, one at a time, for <paramref name="rows"/> (1 or 4) rows.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void ScalarColumns<TShape, T>(ref T a, ref T b, ref T c, ref T bias, bool hasBias, int rows, int from, int k, int ra, int pa, int ldb, int n)
            where TShape : struct, IGemmShape
            where T : unmanaged, IBinaryFloatingPointIeee754<T>
        {
            for (int j = from; j < n; j++)
            {
                for (int r = 0; r < rows; r++)
                {
                    T sum = Start<TShape, T>(ref c, ref bias, hasBias, (r * n) + j, j);
                    for (int p = 0; p < k; p++)
                    {
                        sum += Unsafe.Add(ref a, (r * ra) + (p * pa)) * Unsafe.Add(ref b, (p * ldb) + j);
                    }

                    Unsafe.Add(ref c, (r * n) + j) = sum;
                }
            }
        }

        /// <summary><paramref name="rows"/> (1 or 2) × <paramref name="columns"/> (1 or 4) dot products over contiguous rows.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Dot256<TShape, T>(ref T a, ref T b, ref T c, ref T bias, bool hasBias, int i, int q, int k, int lda, int ldb, int n, int rows, int columns)
            where TShape : struct, IGemmShape
            where T : unmanaged, IBinaryFloatingPointIeee754<T>
        {
            int lanes = Vector256<T>.Count;
            int vectorEnd = k / lanes * lanes;
            ref T a0 = ref Unsafe.Add(ref a, i * lda);
            ref T a1 = ref Unsafe.Add(ref a0, lda);
            ref T b0 = ref Unsafe.Add(ref b, q * ldb);
            ref T b1 = ref Unsafe.Add(ref b0, ldb);
            ref T b2 = ref Unsafe.Add(ref b0, 2 * ldb);
            ref T b3 = ref Unsafe.Add(ref b0, 3 * ldb);
            Vector256<T> s00 = default, s01 = default, s02 = default, s03 = default;
            Vector256<T> s10 = default, s11 = default, s12 = default, s13 = default;
            for (int p = 0; p < vectorEnd; p += lanes)
            {
                var x0 = Vector256.LoadUnsafe(ref a0, (nuint)p);
                var x1 = rows == 2 ? Vector256.LoadUnsafe(ref a1, (nuint)p) : default;
                var y0 = Vector256.LoadUnsafe(ref b0, (nuint)p);
                s00 = VectorOps.MultiplyAdd(x0, y0, s00);
                if (rows == 2)
                {
                    s10 = VectorOps.MultiplyAdd(x1, y0, s10);
                }

                if (columns == 4)
                {
                    var y1 = Vector256.LoadUnsafe(ref b1, (nuint)p);
                    s01 = VectorOps.MultiplyAdd(x0, y1, s01);
                    var y2 = Vector256.LoadUnsafe(ref b2, (nuint)p);
                    s02 = VectorOps.MultiplyAdd(x0, y2, s02);
                    var y3 = Vector256.LoadUnsafe(ref b3, (nuint)p);
                    s03 = VectorOps.MultiplyAdd(x0, y3, s03);
                    if (rows == 2)
                    {
                        s11 = VectorOps.MultiplyAdd(x1, y1, s11);
                        s12 = VectorOps.MultiplyAdd(x1, y2, s12);
                        s13 = VectorOps.MultiplyAdd(x1, y3, s13);
                    }
                }
            }

            Finish<TShape, T>(ref a0, ref b0, ref c, ref bias, hasBias, i, q, 0, 0, Vector256.Sum(s00), vectorEnd, k, ldb, n);
            if (columns == 4)
            {
                Finish<TShape, T>(ref a0, ref b1, ref c, ref bias, hasBias, i, q, 0, 1, Vector256.Sum(s01), vectorEnd, k, ldb, n);
                Finish<TShape, T>(ref a0, ref b2, ref c, ref bias, hasBias, i, q, 0, 2, Vector256.Sum(s02), vectorEnd, k, ldb, n);
                Finish<TShape, T>(ref a0, ref b3, ref c, ref bias, hasBias, i, q, 0, 3, Vector256.Sum(s03), vectorEnd, k, ldb, n);
            }

            if (rows == 2)
            {
                Finish<TShape, T>(ref a1, ref b0, ref c, ref bias, hasBias, i, q, 1, 0, Vector256.Sum(s10), vectorEnd, k, ldb, n);
                if (columns == 4)
                {
                    Finish<TShape, T>(ref a1, ref b1, ref c, ref bias, hasBias, i, q, 1, 1, Vector256.Sum(s11), vectorEnd, k, ldb, n);
                    Finish<TShape, T>(ref a1, ref b2, ref c, ref bias, hasBias, i, q, 1, 2, Vector256.Sum(s12), vectorEnd, k, ldb, n);
                    Finish<TShape, T>(ref a1, ref b3, ref c, ref bias, hasBias, i, q, 1, 3, Vector256.Sum(s13), vectorEnd, k, ldb, n);
                }
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Dot128<TShape, T>(ref T a, ref T b, ref T c, ref T bias, bool hasBias, int i, int q, int k, int lda, int ldb, int n, int rows, int columns)
            where TShape : struct, IGemmShape
            where T : unmanaged, IBinaryFloatingPointIeee754<T>
        {
            int lanes = Vector128<T>.Count;
            int vectorEnd = k / lanes * lanes;
            ref T a0 = ref Unsafe.Add(ref a, i * lda);
            ref T a1 = ref Unsafe.Add(ref a0, lda);
            ref T b0 = ref Unsafe.Add(ref b, q * ldb);
            ref T b1 = ref Unsafe.Add(ref b0, ldb);
            ref T b2 = ref Unsafe.Add(ref b0, 2 * ldb);
            ref T b3 = ref Unsafe.Add(ref b0, 3 * ldb);
            Vector128<T> s00 = default, s01 = default, s02 = default, s03 = default;
            Vector128<T> s10 = default, s11 = default, s12 = default, s13 = default;
            for (int p = 0; p < vectorEnd; p += lanes)
            {
                var x0 = Vector128.LoadUnsafe(ref a0, (nuint)p);
                var x1 = rows == 2 ? Vector128.LoadUnsafe(ref a1, (nuint)p) : default;
                var y0 = Vector128.LoadUnsafe(ref b0, (nuint)p);
                s00 = (x0 * y0) + s00;
                if (rows == 2)
                {
                    s10 = (x1 * y0) + s10;
                }

                if (columns == 4)
                {
                    var y1 = Vector128.LoadUnsafe(ref b1, (nuint)p);
                    s01 = (x0 * y1) + s01;
                    var y2 = Vector128.LoadUnsafe(ref b2, (nuint)p);
                    s02 = (x0 * y2) + s02;
                    var y3 = Vector128.LoadUnsafe(ref b3, (nuint)p);
                    s03 = (x0 * y3) + s03;
                    if (rows == 2)
                    {
                        s11 = (x1 * y1) + s11;
                        s12 = (x1 * y2) + s12;
                        s13 = (x1 * y3) + s13;
                    }
                }
            }

            Finish<TShape, T>(ref a0, ref b0, ref c, ref bias, hasBias, i, q, 0, 0, Vector128.Sum(s00), vectorEnd, k, ldb, n);
            if (columns == 4)
            {
                Finish<TShape, T>(ref a0, ref b1, ref c, ref bias, hasBias, i, q, 0, 1, Vector128.Sum(s01), vectorEnd, k, ldb, n);
                Finish<TShape, T>(ref a0, ref b2, ref c, ref bias, hasBias, i, q, 0, 2, Vector128.Sum(s02), vectorEnd, k, ldb, n);
                Finish<TShape, T>(ref a0, ref b3, ref c, ref bias, hasBias, i, q, 0, 3, Vector128.Sum(s03), vectorEnd, k, ldb, n);
            }

            if (rows == 2)
            {
                Finish<TShape, T>(ref a1, ref b0, ref c, ref bias, hasBias, i, q, 1, 0, Vector128.Sum(s10), vectorEnd, k, ldb, n);
                if (columns == 4)
                {
                    Finish<TShape, T>(ref a1, ref b1, ref c, ref bias, hasBias, i, q, 1, 1, Vector128.Sum(s11), vectorEnd, k, ldb, n);
                    Finish<TShape, T>(ref a1, ref b2, ref c, ref bias, hasBias, i, q, 1, 2, Vector128.Sum(s12), vectorEnd, k, ldb, n);
                    Finish<TShape, T>(ref a1, ref b3, ref c, ref bias, hasBias, i, q, 1, 3, Vector128.Sum(s13), vectorEnd, k, ldb, n);
                }
            }
        }

        /// <summary>Output (i + row, q + column) = its start + the vector sum + the scalar tail of the dot product.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Finish<TShape, T>(ref T aRow, ref T bRow, ref T c, ref T bias, bool hasBias, int i, int q, int row, int column, T vectorSum, int vectorEnd, int k, int ldb, int n)
            where TShape : struct, IGemmShape
            where T : unmanaged, IBinaryFloatingPointIeee754<T>
        {
            int index = ((i + row) * n) + q + column;
            T result = Start<TShape, T>(ref c, ref bias, hasBias, index, q + column) + vectorSum;
            for (int p = vectorEnd; p < k; p++)
            {
                result += Unsafe.Add(ref aRow, p) * Unsafe.Add(ref bRow, p);
            }

            Unsafe.Add(ref c, index) = result;
        }
    }
}
