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
        /// <summary>Columns of C per call (2 vectors).</summary>
        int NR { get; }

        /// <summary>
        /// Multiplies a sliver of A (<see cref="PackedGemm.MR"/> rows × kc, element (r, p) at <c>a[r·rowStride + p·depthStride]</c>)
        /// by a packed sliver of B (kc × NR) into the top-left <paramref name="rows"/> × <paramref name="columns"/> of the C tile
        /// at <paramref name="c"/>.
        /// </summary>
        void Run(int kc, ref T a, int rowStride, int depthStride, ref T b, ref T c, int ldc, int rows, int columns, bool accumulate);
    }

    /// <summary>6 rows × 2 Vector256 (16 floats or 8 doubles) with FMA: 12 accumulators, 2 loads of B and 6 broadcasts of A per step.</summary>
    internal readonly struct MicroKernel256<T> : IMicroKernel<T>
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        public int NR => 2 * Vector256<T>.Count;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Run(int kc, ref T a, int rowStride, int depthStride, ref T b, ref T c, int ldc, int rows, int columns, bool accumulate)
        {
            int lanes = Vector256<T>.Count;
            Vector256<T> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
            Vector256<T> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
            for (int p = 0; p < kc; p++)
            {
                var b0 = Vector256.LoadUnsafe(ref b);
                var b1 = Vector256.LoadUnsafe(ref b, (nuint)lanes);
                var x = Vector256.Create(a);
                c00 = VectorOps.MultiplyAdd(x, b0, c00);
                c01 = VectorOps.MultiplyAdd(x, b1, c01);
                x = Vector256.Create(Unsafe.Add(ref a, 1 * rowStride));
                c10 = VectorOps.MultiplyAdd(x, b0, c10);
                c11 = VectorOps.MultiplyAdd(x, b1, c11);
                x = Vector256.Create(Unsafe.Add(ref a, 2 * rowStride));
                c20 = VectorOps.MultiplyAdd(x, b0, c20);
                c21 = VectorOps.MultiplyAdd(x, b1, c21);
                x = Vector256.Create(Unsafe.Add(ref a, 3 * rowStride));
                c30 = VectorOps.MultiplyAdd(x, b0, c30);
                c31 = VectorOps.MultiplyAdd(x, b1, c31);
                x = Vector256.Create(Unsafe.Add(ref a, 4 * rowStride));
                c40 = VectorOps.MultiplyAdd(x, b0, c40);
                c41 = VectorOps.MultiplyAdd(x, b1, c41);
                x = Vector256.Create(Unsafe.Add(ref a, 5 * rowStride));
                c50 = VectorOps.MultiplyAdd(x, b0, c50);
                c51 = VectorOps.MultiplyAdd(x, b1, c51);
                a = ref Unsafe.Add(ref a, depthStride);
                b = ref Unsafe.Add(ref b, 2 * lanes);
            }

            if (rows == PackedGemm.MR && columns == 2 * lanes)
            {
                Store(ref c, c00, c01, accumulate, lanes);
                Store(ref Unsafe.Add(ref c, ldc), c10, c11, accumulate, lanes);
                Store(ref Unsafe.Add(ref c, 2 * ldc), c20, c21, accumulate, lanes);
                Store(ref Unsafe.Add(ref c, 3 * ldc), c30, c31, accumulate, lanes);
                Store(ref Unsafe.Add(ref c, 4 * ldc), c40, c41, accumulate, lanes);
                Store(ref Unsafe.Add(ref c, 5 * ldc), c50, c51, accumulate, lanes);
                return;
            }

            // An edge tile: through a small buffer, then only the rows and columns that exist.
            Span<T> tile = stackalloc T[PackedGemm.MR * 2 * Vector256<T>.Count];
            ref T t = ref tile[0];
            int width = 2 * lanes;
            c00.StoreUnsafe(ref t); c01.StoreUnsafe(ref t, (nuint)lanes);
            c10.StoreUnsafe(ref t, (nuint)width); c11.StoreUnsafe(ref t, (nuint)(width + lanes));
            c20.StoreUnsafe(ref t, (nuint)(2 * width)); c21.StoreUnsafe(ref t, (nuint)((2 * width) + lanes));
            c30.StoreUnsafe(ref t, (nuint)(3 * width)); c31.StoreUnsafe(ref t, (nuint)((3 * width) + lanes));
            c40.StoreUnsafe(ref t, (nuint)(4 * width)); c41.StoreUnsafe(ref t, (nuint)((4 * width) + lanes));
            c50.StoreUnsafe(ref t, (nuint)(5 * width)); c51.StoreUnsafe(ref t, (nuint)((5 * width) + lanes));
            EdgeTile.Store(tile, width, ref c, ldc, rows, columns, accumulate);
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

    /// <summary>6 rows × 2 Vector512 (32 floats or 16 doubles) with AVX-512 FMA: 12 accumulators.</summary>
    internal readonly struct MicroKernel512<T> : IMicroKernel<T>
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        public int NR => 2 * Vector512<T>.Count;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Run(int kc, ref T a, int rowStride, int depthStride, ref T b, ref T c, int ldc, int rows, int columns, bool accumulate)
        {
            int lanes = Vector512<T>.Count;
            Vector512<T> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
            Vector512<T> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
            for (int p = 0; p < kc; p++)
            {
                var b0 = Vector512.LoadUnsafe(ref b);
                var b1 = Vector512.LoadUnsafe(ref b, (nuint)lanes);
                var x = Vector512.Create(a);
                c00 = VectorOps.MultiplyAdd(x, b0, c00);
                c01 = VectorOps.MultiplyAdd(x, b1, c01);
                x = Vector512.Create(Unsafe.Add(ref a, 1 * rowStride));
                c10 = VectorOps.MultiplyAdd(x, b0, c10);
                c11 = VectorOps.MultiplyAdd(x, b1, c11);
                x = Vector512.Create(Unsafe.Add(ref a, 2 * rowStride));
                c20 = VectorOps.MultiplyAdd(x, b0, c20);
                c21 = VectorOps.MultiplyAdd(x, b1, c21);
                x = Vector512.Create(Unsafe.Add(ref a, 3 * rowStride));
                c30 = VectorOps.MultiplyAdd(x, b0, c30);
                c31 = VectorOps.MultiplyAdd(x, b1, c31);
                x = Vector512.Create(Unsafe.Add(ref a, 4 * rowStride));
                c40 = VectorOps.MultiplyAdd(x, b0, c40);
                c41 = VectorOps.MultiplyAdd(x, b1, c41);
                x = Vector512.Create(Unsafe.Add(ref a, 5 * rowStride));
                c50 = VectorOps.MultiplyAdd(x, b0, c50);
                c51 = VectorOps.MultiplyAdd(x, b1, c51);
                a = ref Unsafe.Add(ref a, depthStride);
                b = ref Unsafe.Add(ref b, 2 * lanes);
            }

            if (rows == PackedGemm.MR && columns == 2 * lanes)
            {
                Store(ref c, c00, c01, accumulate, lanes);
                Store(ref Unsafe.Add(ref c, ldc), c10, c11, accumulate, lanes);
                Store(ref Unsafe.Add(ref c, 2 * ldc), c20, c21, accumulate, lanes);
                Store(ref Unsafe.Add(ref c, 3 * ldc), c30, c31, accumulate, lanes);
                Store(ref Unsafe.Add(ref c, 4 * ldc), c40, c41, accumulate, lanes);
                Store(ref Unsafe.Add(ref c, 5 * ldc), c50, c51, accumulate, lanes);
                return;
            }

            Span<T> tile = stackalloc T[PackedGemm.MR * 2 * Vector512<T>.Count];
            ref T t = ref tile[0];
            int width = 2 * lanes;
            c00.StoreUnsafe(ref t); c01.StoreUnsafe(ref t, (nuint)lanes);
            c10.StoreUnsafe(ref t, (nuint)width); c11.StoreUnsafe(ref t, (nuint)(width + lanes));
            c20.StoreUnsafe(ref t, (nuint)(2 * width)); c21.StoreUnsafe(ref t, (nuint)((2 * width) + lanes));
            c30.StoreUnsafe(ref t, (nuint)(3 * width)); c31.StoreUnsafe(ref t, (nuint)((3 * width) + lanes));
            c40.StoreUnsafe(ref t, (nuint)(4 * width)); c41.StoreUnsafe(ref t, (nuint)((4 * width) + lanes));
            c50.StoreUnsafe(ref t, (nuint)(5 * width)); c51.StoreUnsafe(ref t, (nuint)((5 * width) + lanes));
            EdgeTile.Store(tile, width, ref c, ldc, rows, columns, accumulate);
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
        public static void Store<T>(ReadOnlySpan<T> tile, int width, ref T c, int ldc, int rows, int columns, bool accumulate)
            where T : unmanaged, IBinaryFloatingPointIeee754<T>
        {
            for (int r = 0; r < rows; r++)
            {
                ref T row = ref Unsafe.Add(ref c, r * ldc);
                for (int j = 0; j < columns; j++)
                {
                    T value = tile[(r * width) + j];
                    Unsafe.Add(ref row, j) = accumulate ? Unsafe.Add(ref row, j) + value : value;
                }
            }
        }
    }
}
