using System;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace StaticGrad.Kernels
{
    /// <summary>A register-blocked micro-kernel of <see cref="PackedGemm"/>: <c>C[rows×NR] (+)= A-sliver · B-sliver</c>.</summary>
    internal interface IMicroKernel<T>
        where T : unmanaged
    {
        /// <summary>Most rows of C per call.</summary>
        int MR { get; }

        /// <summary>Columns of C per call (2 vectors).</summary>
        int NR { get; }

        /// <summary>
        /// Multiplies <paramref name="rows"/> (1 to <see cref="MR"/>) rows of A, read in place (element (r, p) at
        /// <c>a[r·rowStride + p·depthStride]</c>), by a sliver of B (kc × NR, row p at <c>b[p·bStride]</c>: NR apart when
        /// packed, B's own row length when read in place) into the top-left <paramref name="rows"/> ×
        /// <paramref name="columns"/> of the C tile at <paramref name="c"/>. Each row count has its own compiled tile (<see cref="IRowCount"/>), so the last rows of C cost what they compute and nothing of A is
        /// copied or read past its end. A tile of fewer columns than NR goes through <paramref name="edge"/>, the caller's
        /// buffer of <see cref="EdgeTile.Length{T}"/> elements: nothing in a tile may call out while its accumulators are
        /// live, or the JIT spills every one of them to the stack after each multiply-add (measured: 3× slower; a
        /// stackalloc there did it).
        /// </summary>
        void Run(int kc, ref T a, int rowStride, int depthStride, ref T b, int bStride, ref T c, int ldc, int rows, int columns, bool accumulate, ref T edge);
    }

    /// <summary>
    /// A number of rows the JIT sees as a constant: a micro-kernel's tile is compiled once per count, and each
    /// <c>if (rows &gt; i)</c> in it disappears (measured on 128×784×32: the last 8 of 128 rows used to be copied and
    /// computed as 12, and cost a quarter of <c>D = W·X</c>).
    /// </summary>
    internal interface IRowCount
    {
        /// <summary>The number of rows, 1 to 12.</summary>
        int Rows { get; }
    }

    internal readonly struct Rows1 : IRowCount { public int Rows => 1; }

    internal readonly struct Rows2 : IRowCount { public int Rows => 2; }

    internal readonly struct Rows3 : IRowCount { public int Rows => 3; }

    internal readonly struct Rows4 : IRowCount { public int Rows => 4; }

    internal readonly struct Rows5 : IRowCount { public int Rows => 5; }

    internal readonly struct Rows6 : IRowCount { public int Rows => 6; }

    internal readonly struct Rows7 : IRowCount { public int Rows => 7; }

    internal readonly struct Rows8 : IRowCount { public int Rows => 8; }

    internal readonly struct Rows9 : IRowCount { public int Rows => 9; }

    internal readonly struct Rows10 : IRowCount { public int Rows => 10; }

    internal readonly struct Rows11 : IRowCount { public int Rows => 11; }

    internal readonly struct Rows12 : IRowCount { public int Rows => 12; }

    /// <summary>
    /// 6 rows × 2 Vector256 (16 floats or 8 doubles) with FMA: 12 accumulators, 2 loads of B and 6 broadcasts of A per step;
    /// with B's two vectors and the broadcast that is 15 of the 16 registers an AVX2 CPU has.
    /// </summary>
    internal readonly struct MicroKernel256<T> : IMicroKernel<T>
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        public int MR => 6;

        public int NR => 2 * Vector256<T>.Count;

        public void Run(int kc, ref T a, int rowStride, int depthStride, ref T b, int bStride, ref T c, int ldc, int rows, int columns, bool accumulate, ref T edge)
        {
            switch (rows)
            {
                case 6: Tile<Rows6>(kc, ref a, rowStride, depthStride, ref b, bStride, ref c, ldc, columns, accumulate, ref edge); break;
                case 5: Tile<Rows5>(kc, ref a, rowStride, depthStride, ref b, bStride, ref c, ldc, columns, accumulate, ref edge); break;
                case 4: Tile<Rows4>(kc, ref a, rowStride, depthStride, ref b, bStride, ref c, ldc, columns, accumulate, ref edge); break;
                case 3: Tile<Rows3>(kc, ref a, rowStride, depthStride, ref b, bStride, ref c, ldc, columns, accumulate, ref edge); break;
                case 2: Tile<Rows2>(kc, ref a, rowStride, depthStride, ref b, bStride, ref c, ldc, columns, accumulate, ref edge); break;
                case 1: Tile<Rows1>(kc, ref a, rowStride, depthStride, ref b, bStride, ref c, ldc, columns, accumulate, ref edge); break;
                default: throw new ArgumentOutOfRangeException(nameof(rows), rows, "A tile has 1 to 6 rows.");
            }
        }

        /// <summary>A tile of <typeparamref name="TRows"/> rows; every <c>if (rows &gt; i)</c> is decided when the JIT compiles it.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private static void Tile<TRows>(int kc, ref T a, int rowStride, int depthStride, ref T b, int bStride, ref T c, int ldc, int columns, bool accumulate, ref T edge)
            where TRows : struct, IRowCount
        {
            int rows = default(TRows).Rows;
            int lanes = Vector256<T>.Count;
            // Row offsets hoisted out of the loop, so each step is loads and multiply-adds only.
            nint o1 = rowStride, o2 = 2 * (nint)rowStride, o3 = 3 * (nint)rowStride, o4 = 4 * (nint)rowStride, o5 = 5 * (nint)rowStride;
            Vector256<T> c000 = default, c001 = default, c010 = default, c011 = default, c020 = default, c021 = default;
            Vector256<T> c030 = default, c031 = default, c040 = default, c041 = default, c050 = default, c051 = default;
            for (int p = 0; p < kc; p++)
            {
                var b0 = Vector256.LoadUnsafe(ref b);
                var b1 = Vector256.LoadUnsafe(ref b, (nuint)lanes);
                var x0 = Vector256.Create(a);
                c000 = VectorOps.MultiplyAdd(x0, b0, c000);
                c001 = VectorOps.MultiplyAdd(x0, b1, c001);

                if (rows > 1)
                {
                    var x1 = Vector256.Create(Unsafe.Add(ref a, o1));
                    c010 = VectorOps.MultiplyAdd(x1, b0, c010);
                    c011 = VectorOps.MultiplyAdd(x1, b1, c011);
                }

                if (rows > 2)
                {
                    var x2 = Vector256.Create(Unsafe.Add(ref a, o2));
                    c020 = VectorOps.MultiplyAdd(x2, b0, c020);
                    c021 = VectorOps.MultiplyAdd(x2, b1, c021);
                }

                if (rows > 3)
                {
                    var x3 = Vector256.Create(Unsafe.Add(ref a, o3));
                    c030 = VectorOps.MultiplyAdd(x3, b0, c030);
                    c031 = VectorOps.MultiplyAdd(x3, b1, c031);
                }

                if (rows > 4)
                {
                    var x4 = Vector256.Create(Unsafe.Add(ref a, o4));
                    c040 = VectorOps.MultiplyAdd(x4, b0, c040);
                    c041 = VectorOps.MultiplyAdd(x4, b1, c041);
                }

                if (rows > 5)
                {
                    var x5 = Vector256.Create(Unsafe.Add(ref a, o5));
                    c050 = VectorOps.MultiplyAdd(x5, b0, c050);
                    c051 = VectorOps.MultiplyAdd(x5, b1, c051);
                }

                a = ref Unsafe.Add(ref a, depthStride);
                b = ref Unsafe.Add(ref b, bStride);
            }

            if (columns == 2 * lanes)
            {
                Store(ref c, c000, c001, accumulate, lanes);
                if (rows > 1) Store(ref Unsafe.Add(ref c, 1 * (nint)ldc), c010, c011, accumulate, lanes);
                if (rows > 2) Store(ref Unsafe.Add(ref c, 2 * (nint)ldc), c020, c021, accumulate, lanes);
                if (rows > 3) Store(ref Unsafe.Add(ref c, 3 * (nint)ldc), c030, c031, accumulate, lanes);
                if (rows > 4) Store(ref Unsafe.Add(ref c, 4 * (nint)ldc), c040, c041, accumulate, lanes);
                if (rows > 5) Store(ref Unsafe.Add(ref c, 5 * (nint)ldc), c050, c051, accumulate, lanes);
                return;
            }

            // Fewer columns than a sliver (the last of C): through the caller's buffer, then only the columns that exist.
            int width = 2 * lanes;
            c000.StoreUnsafe(ref edge);
            c001.StoreUnsafe(ref edge, (nuint)lanes);
            if (rows > 1) { c010.StoreUnsafe(ref edge, (nuint)(1 * width)); c011.StoreUnsafe(ref edge, (nuint)((1 * width) + lanes)); }
            if (rows > 2) { c020.StoreUnsafe(ref edge, (nuint)(2 * width)); c021.StoreUnsafe(ref edge, (nuint)((2 * width) + lanes)); }
            if (rows > 3) { c030.StoreUnsafe(ref edge, (nuint)(3 * width)); c031.StoreUnsafe(ref edge, (nuint)((3 * width) + lanes)); }
            if (rows > 4) { c040.StoreUnsafe(ref edge, (nuint)(4 * width)); c041.StoreUnsafe(ref edge, (nuint)((4 * width) + lanes)); }
            if (rows > 5) { c050.StoreUnsafe(ref edge, (nuint)(5 * width)); c051.StoreUnsafe(ref edge, (nuint)((5 * width) + lanes)); }
            EdgeTile.Store(ref edge, width, ref c, ldc, rows, columns, accumulate);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Store(ref T row, Vector256<T> left, Vector256<T> right, bool accumulate, int lanes)
        {
            if (accumulate)
            {
                left += Vector256.LoadUnsafe(ref row);
                right += Vector256.LoadUnsafe(ref row, (nuint)lanes);
            }

            left.StoreUnsafe(ref row);
            right.StoreUnsafe(ref row, (nuint)lanes);
        }
    }

    /// <summary>
    /// 12 rows × 2 Vector512 (32 floats or 16 doubles) with AVX-512 FMA: 24 of the 32 vector registers hold accumulators,
    /// so each step does 24 multiply-adds for 2 loads of B and 12 broadcasts of A.
    /// </summary>
    internal readonly struct MicroKernel512<T> : IMicroKernel<T>
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        public int MR => 12;

        public int NR => 2 * Vector512<T>.Count;

        public void Run(int kc, ref T a, int rowStride, int depthStride, ref T b, int bStride, ref T c, int ldc, int rows, int columns, bool accumulate, ref T edge)
        {
            switch (rows)
            {
                case 12: Tile<Rows12>(kc, ref a, rowStride, depthStride, ref b, bStride, ref c, ldc, columns, accumulate, ref edge); break;
                case 11: Tile<Rows11>(kc, ref a, rowStride, depthStride, ref b, bStride, ref c, ldc, columns, accumulate, ref edge); break;
                case 10: Tile<Rows10>(kc, ref a, rowStride, depthStride, ref b, bStride, ref c, ldc, columns, accumulate, ref edge); break;
                case 9: Tile<Rows9>(kc, ref a, rowStride, depthStride, ref b, bStride, ref c, ldc, columns, accumulate, ref edge); break;
                case 8: Tile<Rows8>(kc, ref a, rowStride, depthStride, ref b, bStride, ref c, ldc, columns, accumulate, ref edge); break;
                case 7: Tile<Rows7>(kc, ref a, rowStride, depthStride, ref b, bStride, ref c, ldc, columns, accumulate, ref edge); break;
                case 6: Tile<Rows6>(kc, ref a, rowStride, depthStride, ref b, bStride, ref c, ldc, columns, accumulate, ref edge); break;
                case 5: Tile<Rows5>(kc, ref a, rowStride, depthStride, ref b, bStride, ref c, ldc, columns, accumulate, ref edge); break;
                case 4: Tile<Rows4>(kc, ref a, rowStride, depthStride, ref b, bStride, ref c, ldc, columns, accumulate, ref edge); break;
                case 3: Tile<Rows3>(kc, ref a, rowStride, depthStride, ref b, bStride, ref c, ldc, columns, accumulate, ref edge); break;
                case 2: Tile<Rows2>(kc, ref a, rowStride, depthStride, ref b, bStride, ref c, ldc, columns, accumulate, ref edge); break;
                case 1: Tile<Rows1>(kc, ref a, rowStride, depthStride, ref b, bStride, ref c, ldc, columns, accumulate, ref edge); break;
                default: throw new ArgumentOutOfRangeException(nameof(rows), rows, "A tile has 1 to 12 rows.");
            }
        }

        /// <summary>A tile of <typeparamref name="TRows"/> rows; every <c>if (rows &gt; i)</c> is decided when the JIT compiles it.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private static void Tile<TRows>(int kc, ref T a, int rowStride, int depthStride, ref T b, int bStride, ref T c, int ldc, int columns, bool accumulate, ref T edge)
            where TRows : struct, IRowCount
        {
            int rows = default(TRows).Rows;
            int lanes = Vector512<T>.Count;
            // Row offsets hoisted out of the loop, so each step is loads and multiply-adds only; rows 6–11 from a second base
            // (which points at A itself when there are no such rows, so no reference ever leaves A).
            nint o1 = rowStride, o2 = 2 * (nint)rowStride, o3 = 3 * (nint)rowStride, o4 = 4 * (nint)rowStride, o5 = 5 * (nint)rowStride;
            ref T a6 = ref rows > 6 ? ref Unsafe.Add(ref a, 6 * (nint)rowStride) : ref a;
            Vector512<T> c000 = default, c001 = default, c010 = default, c011 = default, c020 = default, c021 = default;
            Vector512<T> c030 = default, c031 = default, c040 = default, c041 = default, c050 = default, c051 = default;
            Vector512<T> c060 = default, c061 = default, c070 = default, c071 = default, c080 = default, c081 = default;
            Vector512<T> c090 = default, c091 = default, c100 = default, c101 = default, c110 = default, c111 = default;
            for (int p = 0; p < kc; p++)
            {
                var b0 = Vector512.LoadUnsafe(ref b);
                var b1 = Vector512.LoadUnsafe(ref b, (nuint)lanes);
                var x0 = Vector512.Create(a);
                c000 = VectorOps.MultiplyAdd(x0, b0, c000);
                c001 = VectorOps.MultiplyAdd(x0, b1, c001);

                if (rows > 1)
                {
                    var x1 = Vector512.Create(Unsafe.Add(ref a, o1));
                    c010 = VectorOps.MultiplyAdd(x1, b0, c010);
                    c011 = VectorOps.MultiplyAdd(x1, b1, c011);
                }

                if (rows > 2)
                {
                    var x2 = Vector512.Create(Unsafe.Add(ref a, o2));
                    c020 = VectorOps.MultiplyAdd(x2, b0, c020);
                    c021 = VectorOps.MultiplyAdd(x2, b1, c021);
                }

                if (rows > 3)
                {
                    var x3 = Vector512.Create(Unsafe.Add(ref a, o3));
                    c030 = VectorOps.MultiplyAdd(x3, b0, c030);
                    c031 = VectorOps.MultiplyAdd(x3, b1, c031);
                }

                if (rows > 4)
                {
                    var x4 = Vector512.Create(Unsafe.Add(ref a, o4));
                    c040 = VectorOps.MultiplyAdd(x4, b0, c040);
                    c041 = VectorOps.MultiplyAdd(x4, b1, c041);
                }

                if (rows > 5)
                {
                    var x5 = Vector512.Create(Unsafe.Add(ref a, o5));
                    c050 = VectorOps.MultiplyAdd(x5, b0, c050);
                    c051 = VectorOps.MultiplyAdd(x5, b1, c051);
                }

                if (rows > 6)
                {
                    var x6 = Vector512.Create(a6);
                    c060 = VectorOps.MultiplyAdd(x6, b0, c060);
                    c061 = VectorOps.MultiplyAdd(x6, b1, c061);
                }

                if (rows > 7)
                {
                    var x7 = Vector512.Create(Unsafe.Add(ref a6, o1));
                    c070 = VectorOps.MultiplyAdd(x7, b0, c070);
                    c071 = VectorOps.MultiplyAdd(x7, b1, c071);
                }

                if (rows > 8)
                {
                    var x8 = Vector512.Create(Unsafe.Add(ref a6, o2));
                    c080 = VectorOps.MultiplyAdd(x8, b0, c080);
                    c081 = VectorOps.MultiplyAdd(x8, b1, c081);
                }

                if (rows > 9)
                {
                    var x9 = Vector512.Create(Unsafe.Add(ref a6, o3));
                    c090 = VectorOps.MultiplyAdd(x9, b0, c090);
                    c091 = VectorOps.MultiplyAdd(x9, b1, c091);
                }

                if (rows > 10)
                {
                    var x10 = Vector512.Create(Unsafe.Add(ref a6, o4));
                    c100 = VectorOps.MultiplyAdd(x10, b0, c100);
                    c101 = VectorOps.MultiplyAdd(x10, b1, c101);
                }

                if (rows > 11)
                {
                    var x11 = Vector512.Create(Unsafe.Add(ref a6, o5));
                    c110 = VectorOps.MultiplyAdd(x11, b0, c110);
                    c111 = VectorOps.MultiplyAdd(x11, b1, c111);
                }

                a = ref Unsafe.Add(ref a, depthStride);
                a6 = ref Unsafe.Add(ref a6, depthStride);
                b = ref Unsafe.Add(ref b, bStride);
            }

            if (columns == 2 * lanes)
            {
                Store(ref c, c000, c001, accumulate, lanes);
                if (rows > 1) Store(ref Unsafe.Add(ref c, 1 * (nint)ldc), c010, c011, accumulate, lanes);
                if (rows > 2) Store(ref Unsafe.Add(ref c, 2 * (nint)ldc), c020, c021, accumulate, lanes);
                if (rows > 3) Store(ref Unsafe.Add(ref c, 3 * (nint)ldc), c030, c031, accumulate, lanes);
                if (rows > 4) Store(ref Unsafe.Add(ref c, 4 * (nint)ldc), c040, c041, accumulate, lanes);
                if (rows > 5) Store(ref Unsafe.Add(ref c, 5 * (nint)ldc), c050, c051, accumulate, lanes);
                if (rows > 6) Store(ref Unsafe.Add(ref c, 6 * (nint)ldc), c060, c061, accumulate, lanes);
                if (rows > 7) Store(ref Unsafe.Add(ref c, 7 * (nint)ldc), c070, c071, accumulate, lanes);
                if (rows > 8) Store(ref Unsafe.Add(ref c, 8 * (nint)ldc), c080, c081, accumulate, lanes);
                if (rows > 9) Store(ref Unsafe.Add(ref c, 9 * (nint)ldc), c090, c091, accumulate, lanes);
                if (rows > 10) Store(ref Unsafe.Add(ref c, 10 * (nint)ldc), c100, c101, accumulate, lanes);
                if (rows > 11) Store(ref Unsafe.Add(ref c, 11 * (nint)ldc), c110, c111, accumulate, lanes);
                return;
            }

            // Fewer columns than a sliver (the last of C): through the caller's buffer, then only the columns that exist.
            int width = 2 * lanes;
            c000.StoreUnsafe(ref edge);
            c001.StoreUnsafe(ref edge, (nuint)lanes);
            if (rows > 1) { c010.StoreUnsafe(ref edge, (nuint)(1 * width)); c011.StoreUnsafe(ref edge, (nuint)((1 * width) + lanes)); }
            if (rows > 2) { c020.StoreUnsafe(ref edge, (nuint)(2 * width)); c021.StoreUnsafe(ref edge, (nuint)((2 * width) + lanes)); }
            if (rows > 3) { c030.StoreUnsafe(ref edge, (nuint)(3 * width)); c031.StoreUnsafe(ref edge, (nuint)((3 * width) + lanes)); }
            if (rows > 4) { c040.StoreUnsafe(ref edge, (nuint)(4 * width)); c041.StoreUnsafe(ref edge, (nuint)((4 * width) + lanes)); }
            if (rows > 5) { c050.StoreUnsafe(ref edge, (nuint)(5 * width)); c051.StoreUnsafe(ref edge, (nuint)((5 * width) + lanes)); }
            if (rows > 6) { c060.StoreUnsafe(ref edge, (nuint)(6 * width)); c061.StoreUnsafe(ref edge, (nuint)((6 * width) + lanes)); }
            if (rows > 7) { c070.StoreUnsafe(ref edge, (nuint)(7 * width)); c071.StoreUnsafe(ref edge, (nuint)((7 * width) + lanes)); }
            if (rows > 8) { c080.StoreUnsafe(ref edge, (nuint)(8 * width)); c081.StoreUnsafe(ref edge, (nuint)((8 * width) + lanes)); }
            if (rows > 9) { c090.StoreUnsafe(ref edge, (nuint)(9 * width)); c091.StoreUnsafe(ref edge, (nuint)((9 * width) + lanes)); }
            if (rows > 10) { c100.StoreUnsafe(ref edge, (nuint)(10 * width)); c101.StoreUnsafe(ref edge, (nuint)((10 * width) + lanes)); }
            if (rows > 11) { c110.StoreUnsafe(ref edge, (nuint)(11 * width)); c111.StoreUnsafe(ref edge, (nuint)((11 * width) + lanes)); }
            EdgeTile.Store(ref edge, width, ref c, ldc, rows, columns, accumulate);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Store(ref T row, Vector512<T> left, Vector512<T> right, bool accumulate, int lanes)
        {
            if (accumulate)
            {
                left += Vector512.LoadUnsafe(ref row);
                right += Vector512.LoadUnsafe(ref row, (nuint)lanes);
            }

            left.StoreUnsafe(ref row);
            right.StoreUnsafe(ref row, (nuint)lanes);
        }
    }

    /// <summary>Writes the part of a computed tile that lies inside C.</summary>
    internal static class EdgeTile
    {
        /// <summary>Elements of an edge-tile buffer: one tile of either micro-kernel (12 × 2 Vector512 at most).</summary>
        public static int Length<T>()
            where T : unmanaged => 12 * 2 * Vector512<T>.Count;

        [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
        public static void Store<T>(ref T tile, int width, ref T c, int ldc, int rows, int columns, bool accumulate)
            where T : unmanaged, IBinaryFloatingPointIeee754<T>
        {
            for (int r = 0; r < rows; r++)
            {
                ref T from = ref Unsafe.Add(ref tile, r * width);
                ref T row = ref Unsafe.Add(ref c, r * ldc);
                int j = 0;
                if (Vector256.IsHardwareAccelerated)
                {
                    for (; j <= columns - Vector256<T>.Count; j += Vector256<T>.Count)
                    {
                        var value = Vector256.LoadUnsafe(ref from, (nuint)j);
                        if (accumulate)
                        {
                            value += Vector256.LoadUnsafe(ref row, (nuint)j);
                        }

                        value.StoreUnsafe(ref row, (nuint)j);
                    }
                }

                for (; j < columns; j++)
                {
                    T value = Unsafe.Add(ref from, j);
                    Unsafe.Add(ref row, j) = accumulate ? Unsafe.Add(ref row, j) + value : value;
                }
            }
        }
    }
}
