using System;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace StaticGrad.Kernels
{
    /// <summary>A register-blocked micro-kernel of <see cref="PackedGemm"/>: <c>C[MR×NR] (+)= A-sliver · B-sliver</c>.</summary>
    internal interface IMicroKernel<T>
        where T : unmanaged
    {
        /// <summary>Rows of C per call.</summary>
        int MR { get; }

        /// <summary>Columns of C per call (2 vectors).</summary>
        int NR { get; }

        /// <summary>
        /// Multiplies a sliver of A (<see cref="MR"/> rows × kc, element (r, p) at <c>a[r·rowStride + p·depthStride]</c>)
        /// by a packed sliver of B (kc × NR) into the top-left <paramref name="rows"/> × <paramref name="columns"/> of the C tile
        /// at <paramref name="c"/>. An edge tile (fewer rows or columns) goes through <paramref name="edge"/>, the caller's
        /// buffer of <see cref="EdgeTile.Length{T}"/> elements: nothing in the kernel may call out while its accumulators are
        /// live, or the JIT spills every one of them to the stack after each multiply-add (measured: 3× slower; a
        /// stackalloc there did it).
        /// </summary>
        void Run(int kc, ref T a, int rowStride, int depthStride, ref T b, ref T c, int ldc, int rows, int columns, bool accumulate, ref T edge);
    }

    /// <summary>
    /// 6 rows × 2 Vector256 (16 floats or 8 doubles) with FMA: 12 accumulators, 2 loads of B and 6 broadcasts of A per step;
    /// with B's two vectors and the broadcast that is 15 of the 16 registers an AVX2 CPU has.
    /// </summary>
    internal readonly struct MicroKernel256<T> : IMicroKernel<T>
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        public int MR => 6;

        public int NR => 2 * Vector256<T>.Count;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Run(int kc, ref T a, int rowStride, int depthStride, ref T b, ref T c, int ldc, int rows, int columns, bool accumulate, ref T edge)
        {
            int lanes = Vector256<T>.Count;
            // Row offsets hoisted out of the loop, so each step is loads and multiply-adds only.
            nint o1 = rowStride, o2 = 2 * (nint)rowStride, o3 = 3 * (nint)rowStride, o4 = 4 * (nint)rowStride, o5 = 5 * (nint)rowStride;
            Vector256<T> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
            Vector256<T> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
            for (int p = 0; p < kc; p++)
            {
                var b0 = Vector256.LoadUnsafe(ref b);
                var b1 = Vector256.LoadUnsafe(ref b, (nuint)lanes);
                var x = Vector256.Create(a);
                c00 = VectorOps.MultiplyAdd(x, b0, c00);
                c01 = VectorOps.MultiplyAdd(x, b1, c01);
                x = Vector256.Create(Unsafe.Add(ref a, o1));
                c10 = VectorOps.MultiplyAdd(x, b0, c10);
                c11 = VectorOps.MultiplyAdd(x, b1, c11);
                x = Vector256.Create(Unsafe.Add(ref a, o2));
                c20 = VectorOps.MultiplyAdd(x, b0, c20);
                c21 = VectorOps.MultiplyAdd(x, b1, c21);
                x = Vector256.Create(Unsafe.Add(ref a, o3));
                c30 = VectorOps.MultiplyAdd(x, b0, c30);
                c31 = VectorOps.MultiplyAdd(x, b1, c31);
                x = Vector256.Create(Unsafe.Add(ref a, o4));
                c40 = VectorOps.MultiplyAdd(x, b0, c40);
                c41 = VectorOps.MultiplyAdd(x, b1, c41);
                x = Vector256.Create(Unsafe.Add(ref a, o5));
                c50 = VectorOps.MultiplyAdd(x, b0, c50);
                c51 = VectorOps.MultiplyAdd(x, b1, c51);
                a = ref Unsafe.Add(ref a, depthStride);
                b = ref Unsafe.Add(ref b, 2 * lanes);
            }

            if (rows == 6 && columns == 2 * lanes)
            {
                Store(ref c, c00, c01, accumulate, lanes);
                Store(ref Unsafe.Add(ref c, ldc), c10, c11, accumulate, lanes);
                Store(ref Unsafe.Add(ref c, 2 * ldc), c20, c21, accumulate, lanes);
                Store(ref Unsafe.Add(ref c, 3 * ldc), c30, c31, accumulate, lanes);
                Store(ref Unsafe.Add(ref c, 4 * ldc), c40, c41, accumulate, lanes);
                Store(ref Unsafe.Add(ref c, 5 * ldc), c50, c51, accumulate, lanes);
                return;
            }

            // An edge tile: through the caller's buffer, then only the rows and columns that exist.
            ref T t = ref edge;
            int width = 2 * lanes;
            c00.StoreUnsafe(ref t); c01.StoreUnsafe(ref t, (nuint)lanes);
            c10.StoreUnsafe(ref t, (nuint)width); c11.StoreUnsafe(ref t, (nuint)(width + lanes));
            c20.StoreUnsafe(ref t, (nuint)(2 * width)); c21.StoreUnsafe(ref t, (nuint)((2 * width) + lanes));
            c30.StoreUnsafe(ref t, (nuint)(3 * width)); c31.StoreUnsafe(ref t, (nuint)((3 * width) + lanes));
            c40.StoreUnsafe(ref t, (nuint)(4 * width)); c41.StoreUnsafe(ref t, (nuint)((4 * width) + lanes));
            c50.StoreUnsafe(ref t, (nuint)(5 * width)); c51.StoreUnsafe(ref t, (nuint)((5 * width) + lanes));
            EdgeTile.Store(ref t, width, ref c, ldc, rows, columns, accumulate);
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

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Run(int kc, ref T a, int rowStride, int depthStride, ref T b, ref T c, int ldc, int rows, int columns, bool accumulate, ref T edge)
        {
            int lanes = Vector512<T>.Count;
            // Row offsets hoisted out of the loop, so each step is loads and multiply-adds only; rows 6–11 from a second base.
            nint o1 = rowStride, o2 = 2 * (nint)rowStride, o3 = 3 * (nint)rowStride, o4 = 4 * (nint)rowStride, o5 = 5 * (nint)rowStride;
            ref T a6 = ref Unsafe.Add(ref a, 6 * (nint)rowStride);
            Vector512<T> c000 = default, c001 = default, c010 = default, c011 = default, c020 = default, c021 = default;
            Vector512<T> c030 = default, c031 = default, c040 = default, c041 = default, c050 = default, c051 = default;
            Vector512<T> c060 = default, c061 = default, c070 = default, c071 = default, c080 = default, c081 = default;
            Vector512<T> c090 = default, c091 = default, c100 = default, c101 = default, c110 = default, c111 = default;
            for (int p = 0; p < kc; p++)
            {
                var b0 = Vector512.LoadUnsafe(ref b);
                var b1 = Vector512.LoadUnsafe(ref b, (nuint)lanes);
                var x = Vector512.Create(a);
                c000 = VectorOps.MultiplyAdd(x, b0, c000);
                c001 = VectorOps.MultiplyAdd(x, b1, c001);
                x = Vector512.Create(Unsafe.Add(ref a, o1));
                c010 = VectorOps.MultiplyAdd(x, b0, c010);
                c011 = VectorOps.MultiplyAdd(x, b1, c011);
                x = Vector512.Create(Unsafe.Add(ref a, o2));
                c020 = VectorOps.MultiplyAdd(x, b0, c020);
                c021 = VectorOps.MultiplyAdd(x, b1, c021);
                x = Vector512.Create(Unsafe.Add(ref a, o3));
                c030 = VectorOps.MultiplyAdd(x, b0, c030);
                c031 = VectorOps.MultiplyAdd(x, b1, c031);
                x = Vector512.Create(Unsafe.Add(ref a, o4));
                c040 = VectorOps.MultiplyAdd(x, b0, c040);
                c041 = VectorOps.MultiplyAdd(x, b1, c041);
                x = Vector512.Create(Unsafe.Add(ref a, o5));
                c050 = VectorOps.MultiplyAdd(x, b0, c050);
                c051 = VectorOps.MultiplyAdd(x, b1, c051);
                x = Vector512.Create(a6);
                c060 = VectorOps.MultiplyAdd(x, b0, c060);
                c061 = VectorOps.MultiplyAdd(x, b1, c061);
                x = Vector512.Create(Unsafe.Add(ref a6, o1));
                c070 = VectorOps.MultiplyAdd(x, b0, c070);
                c071 = VectorOps.MultiplyAdd(x, b1, c071);
                x = Vector512.Create(Unsafe.Add(ref a6, o2));
                c080 = VectorOps.MultiplyAdd(x, b0, c080);
                c081 = VectorOps.MultiplyAdd(x, b1, c081);
                x = Vector512.Create(Unsafe.Add(ref a6, o3));
                c090 = VectorOps.MultiplyAdd(x, b0, c090);
                c091 = VectorOps.MultiplyAdd(x, b1, c091);
                x = Vector512.Create(Unsafe.Add(ref a6, o4));
                c100 = VectorOps.MultiplyAdd(x, b0, c100);
                c101 = VectorOps.MultiplyAdd(x, b1, c101);
                x = Vector512.Create(Unsafe.Add(ref a6, o5));
                c110 = VectorOps.MultiplyAdd(x, b0, c110);
                c111 = VectorOps.MultiplyAdd(x, b1, c111);
                a = ref Unsafe.Add(ref a, depthStride);
                a6 = ref Unsafe.Add(ref a6, depthStride);
                b = ref Unsafe.Add(ref b, 2 * lanes);
            }

            if (rows == 12 && columns == 2 * lanes)
            {
                Store(ref c, c000, c001, accumulate, lanes);
                Store(ref Unsafe.Add(ref c, 1 * ldc), c010, c011, accumulate, lanes);
                Store(ref Unsafe.Add(ref c, 2 * ldc), c020, c021, accumulate, lanes);
                Store(ref Unsafe.Add(ref c, 3 * ldc), c030, c031, accumulate, lanes);
                Store(ref Unsafe.Add(ref c, 4 * ldc), c040, c041, accumulate, lanes);
                Store(ref Unsafe.Add(ref c, 5 * ldc), c050, c051, accumulate, lanes);
                Store(ref Unsafe.Add(ref c, 6 * ldc), c060, c061, accumulate, lanes);
                Store(ref Unsafe.Add(ref c, 7 * ldc), c070, c071, accumulate, lanes);
                Store(ref Unsafe.Add(ref c, 8 * ldc), c080, c081, accumulate, lanes);
                Store(ref Unsafe.Add(ref c, 9 * ldc), c090, c091, accumulate, lanes);
                Store(ref Unsafe.Add(ref c, 10 * ldc), c100, c101, accumulate, lanes);
                Store(ref Unsafe.Add(ref c, 11 * ldc), c110, c111, accumulate, lanes);
                return;
            }

            // An edge tile: through the caller's buffer, then only the rows and columns that exist.
            ref T t = ref edge;
            int width = 2 * lanes;
            c000.StoreUnsafe(ref t, (nuint)(0)); c001.StoreUnsafe(ref t, (nuint)((0) + lanes));
            c010.StoreUnsafe(ref t, (nuint)(1 * width)); c011.StoreUnsafe(ref t, (nuint)((1 * width) + lanes));
            c020.StoreUnsafe(ref t, (nuint)(2 * width)); c021.StoreUnsafe(ref t, (nuint)((2 * width) + lanes));
            c030.StoreUnsafe(ref t, (nuint)(3 * width)); c031.StoreUnsafe(ref t, (nuint)((3 * width) + lanes));
            c040.StoreUnsafe(ref t, (nuint)(4 * width)); c041.StoreUnsafe(ref t, (nuint)((4 * width) + lanes));
            c050.StoreUnsafe(ref t, (nuint)(5 * width)); c051.StoreUnsafe(ref t, (nuint)((5 * width) + lanes));
            c060.StoreUnsafe(ref t, (nuint)(6 * width)); c061.StoreUnsafe(ref t, (nuint)((6 * width) + lanes));
            c070.StoreUnsafe(ref t, (nuint)(7 * width)); c071.StoreUnsafe(ref t, (nuint)((7 * width) + lanes));
            c080.StoreUnsafe(ref t, (nuint)(8 * width)); c081.StoreUnsafe(ref t, (nuint)((8 * width) + lanes));
            c090.StoreUnsafe(ref t, (nuint)(9 * width)); c091.StoreUnsafe(ref t, (nuint)((9 * width) + lanes));
            c100.StoreUnsafe(ref t, (nuint)(10 * width)); c101.StoreUnsafe(ref t, (nuint)((10 * width) + lanes));
            c110.StoreUnsafe(ref t, (nuint)(11 * width)); c111.StoreUnsafe(ref t, (nuint)((11 * width) + lanes));
            EdgeTile.Store(ref t, width, ref c, ldc, rows, columns, accumulate);
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
                ref T row = ref Unsafe.Add(ref c, r * ldc);
                for (int j = 0; j < columns; j++)
                {
                    T value = Unsafe.Add(ref tile, (r * width) + j);
                    Unsafe.Add(ref row, j) = accumulate ? Unsafe.Add(ref row, j) + value : value;
                }
            }
        }
    }
}
