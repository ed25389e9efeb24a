using System;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace StaticGrad.Kernels
{
    /// <summary>
    /// The packed matrix product for operands that outgrow the first cache levels, after Goto and van de Geijn
    /// ("Anatomy of High-Performance Matrix Multiplication") and the BLIS framework.
    /// </summary>
    /// <remarks>
    /// <code>
    /// for jc in columns of C, NC at a time:
    ///   for pc in the summed dimension, KC at a time:
    ///     pack op(B)[pc.., jc..] (KC×NC) into slivers of NR columns        (stays in L2, reused by every row of C)
    ///     for ic in rows of C, MC at a time:                               (the rows of op(A) stay in L1/L2 …)
    ///       for each NR-wide sliver of B:                                  (… while each sliver of B, in L1, meets them)
    ///         for each MR-tall sliver of A, read where it is stored:
    ///           C[MR×NR] (+)= sliver of A · sliver of B                     (the micro-kernel, its accumulators in registers)
    /// </code>
    /// <para>
    /// NR = 2 vectors; MR = 12 rows with Vector512 (24 of the 32 registers accumulate, 12×32 floats) and 6 with Vector256
    /// (12 of 16, 6×16 floats). KC ≤ 256 (the whole summed dimension
    /// when it is at most 320, else equal blocks), MC = 72 rows and NC = 1024 columns. Only B is copied: its slivers are
    /// what the micro-kernel streams, and packing them reads B in its stored orientation (a transposed B goes through 8×8
    /// register transposes) and pads the last sliver with zeros; a B stored in rows of at most 256 bytes is read in place
    /// instead, sliver by sliver. A is read in place through its two strides, which the JIT knows from the shape; the
    /// last rows of C, fewer than MR, get a tile compiled for their count (<see cref="IRowCount"/>), so nothing of A is
    /// copied and nothing past it is read. Copying A as BLIS does cost as much as the products themselves at the sizes of
    /// a network layer (measured: 80 µs of a 210 µs product, 128×784 by 784×128). The scratch is allocated once per thread.
    /// </para>
    /// </remarks>
    internal static class PackedGemm
    {
        /// <summary>Rows of C per block (A is read in place, a block at a time, while a packed sliver of B stays in L1).</summary>
        public const int MC = 72;

        /// <summary>Columns of C per packed block of B.</summary>
        public const int NC = 1024;

        /// <summary>Largest block of the summed dimension.</summary>
        public const int KC = 256;

        /// <summary>Bytes of a B read in place up to which the summed dimension is taken whole.</summary>
        private const long InPlaceBWhole = 256 * 1024;

        /// <summary>The summed dimension is taken whole up to this length.</summary>
        public const int KWhole = 320;

        /// <summary>Whether this CPU has a micro-kernel (AVX-512F, or AVX2 with FMA).</summary>
        public static bool Available =>
            (Vector512.IsHardwareAccelerated && Avx512F.IsSupported) || (Vector256.IsHardwareAccelerated && Fma.IsSupported);

        /// <summary>
        /// Whether the packed path beats the direct kernels: at least 2¹⁵ multiply-adds (32³), at least 6 rows and a summed
        /// dimension of at least 8, and, when B is stored transposed, op(B) at least 64 bytes wide (for a narrower one the
        /// direct kernel's dot products do better). Measured with Stopwatch on float and double, every orientation, 16³ to
        /// 96³ and skinny shapes of a network's last layer: since the last rows of C got their own tiles the packed path is
        /// 1.2–5× faster from 32³ up (64³'s three products 28.3 → 10.4 µs with AVX-512, 34.7 → 24.9 µs with AVX2; 128×128×10
        /// with B transposed 48 → 3.9 µs), and loses only below that (16³ 0.5×) and on 128×10×128 with B transposed (0.84×).
        /// </summary>
        /// <param name="m">Rows of C.</param>
        /// <param name="n">Columns of C.</param>
        /// <param name="k">The dimension summed over.</param>
        /// <param name="elementSize">4 for float, 8 for double.</param>
        /// <param name="transposeB">Whether B is stored transposed (N×K).</param>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static bool Worthwhile(int m, int n, int k, int elementSize, bool transposeB) =>
            (long)m * n * k >= (1L << 15) && m >= 6 && k >= 8 && (!transposeB || n * elementSize >= 64);

        [MethodImpl(MethodImplOptions.NoInlining)]
        public static void Run<TShape, T>(ref T a, ref T b, ref T c, ref T bias, int m, int k)
            where TShape : struct, IGemmShape
            where T : unmanaged, IBinaryFloatingPointIeee754<T> =>
            Run<TShape, T>(ref a, ref b, ref c, ref bias, m, k, 0, default(TShape).N);

        /// <summary>
        /// Columns [<paramref name="firstColumn"/>, <paramref name="endColumn"/>) of C only: how a team splits a packed
        /// product, each thread packing just its own columns of B (A is read in place, so nothing is packed twice).
        /// </summary>
        [MethodImpl(MethodImplOptions.NoInlining)]
        public static void Run<TShape, T>(ref T a, ref T b, ref T c, ref T bias, int m, int k, int firstColumn, int endColumn)
            where TShape : struct, IGemmShape
            where T : unmanaged, IBinaryFloatingPointIeee754<T>
        {
            if (Vector512.IsHardwareAccelerated && Avx512F.IsSupported)
            {
                Run<TShape, T, MicroKernel512<T>>(ref a, ref b, ref c, ref bias, m, k, firstColumn, endColumn);
            }
            else
            {
                Run<TShape, T, MicroKernel256<T>>(ref a, ref b, ref c, ref bias, m, k, firstColumn, endColumn);
            }
        }

        /// <summary>Columns of C per thread's share are multiples of this: whole slivers for either micro-kernel.</summary>
        public static int ColumnGrain<T>()
            where T : unmanaged =>
            Vector512.IsHardwareAccelerated && Avx512F.IsSupported ? 2 * Vector512<T>.Count : 2 * Vector256<T>.Count;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private static void Run<TShape, T, TKernel>(ref T a, ref T b, ref T c, ref T bias, int m, int k, int firstColumn, int endColumn)
            where TShape : struct, IGemmShape
            where T : unmanaged, IBinaryFloatingPointIeee754<T>
            where TKernel : struct, IMicroKernel<T>
        {
            TShape s = default;
            TKernel kernel = default;
            int n = s.N;
            int nr = kernel.NR;
            // op(B) stored K×N in short rows (at most 256 bytes: 128×784×32's 32 floats) is read in place, sliver by
            // sliver, when the share is whole slivers: a step's two vectors are then at most 4 cache lines from the next
            // step's and every line read is used. Read in order, such a B needs no block to stay in L1, so while it fits
            // in half of a 512 KB L2 the summed dimension is taken whole. That product's D = W·X went from 56 to 48 µs;
            // packing its 100 KB of B was the difference.
            bool inPlaceB = !s.TransposeB && (long)s.LeadingB * Unsafe.SizeOf<T>() <= 256 && (endColumn - firstColumn) % nr == 0;
            int bStride = inPlaceB ? s.LeadingB : nr;
            int kcMax = inPlaceB && (long)k * s.LeadingB * Unsafe.SizeOf<T>() <= InPlaceBWhole ? k : DepthBlock(k);
            int ncMax = Math.Min(NC, RoundUp(endColumn - firstColumn, nr));
            int mr = kernel.MR;
            T[] edgeTile = PackScratch<T>.ForEdgeTile();
            ref T packedB = ref inPlaceB ? ref Unsafe.NullRef<T>() : ref PackScratch<T>.ForB(kcMax * ncMax);
            // op(A) is read where it is stored: element (i, p) at a[i·ra + p·pa].
            int ra = s.TransposeA ? 1 : s.LeadingA, pa = s.TransposeA ? s.LeadingA : 1;

            bool accumulateFirst = s.Accumulate;
            if (!Unsafe.IsNullRef(ref bias))
            {
                // The bias goes into C first; every block then accumulates onto it.
                AddBias<TShape, T>(ref bias, ref c, m, n, firstColumn, endColumn, s.Accumulate);
                accumulateFirst = true;
            }

            for (int jc = firstColumn; jc < endColumn; jc += NC)
            {
                int nc = Math.Min(NC, endColumn - jc);
                for (int pc = 0; pc < k; pc += kcMax)
                {
                    int kc = Math.Min(kcMax, k - pc);
                    bool accumulate = accumulateFirst || pc > 0;
                    ref T packed = ref inPlaceB ? ref Unsafe.Add(ref b, (pc * s.LeadingB) + jc) : ref packedB;
                    if (!inPlaceB)
                    {
                        PackB<TShape, T>(ref b, ref packedB, pc, jc, kc, nc, nr);
                    }

                    ref T aDepth = ref Unsafe.Add(ref a, pc * pa);
                    for (int ic = 0; ic < m; ic += MC)
                    {
                        int mc = Math.Min(MC, m - ic);
                        for (int jr = 0; jr < nc; jr += nr)
                        {
                            ref T sliverB = ref Unsafe.Add(ref packed, inPlaceB ? jr : jr * kc);
                            ref T cColumn = ref Unsafe.Add(ref c, jc + jr);
                            int columns = Math.Min(nr, nc - jr);
                            for (int ir = ic; ir < ic + mc; ir += mr)
                            {
                                ref T cTile = ref Unsafe.Add(ref cColumn, ir * n);
                                // A is read where it is: its sliver stays in L1/L2 while the slivers of B go past.
                                kernel.Run(kc, ref Unsafe.Add(ref aDepth, ir * ra), ra, pa, ref sliverB, bStride, ref cTile, n, Math.Min(mr, m - ir), columns, accumulate, ref edgeTile[0]);
                            }
                        }
                    }
                }
            }
        }

        /// <summary>
        /// The block of the summed dimension: all of it up to <see cref="KWhole"/>, else equal blocks of at most
        /// <see cref="KC"/> (784 = 4 × 196), so no block is left with a sliver of work.
        /// </summary>
        private static int DepthBlock(int k)
        {
            if (k <= KWhole)
            {
                return k;
            }

            int blocks = (k + KC - 1) / KC;
            return (k + blocks - 1) / blocks;
        }

        private static int RoundUp(int value, int multiple) => (value + multiple - 1) / multiple * multiple;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)] // optimised from the first call: no slow tier-0 packing while a product waits
        private static void AddBias<TShape, T>(ref T bias, ref T c, int m, int n, int firstColumn, int endColumn, bool accumulate)
            where TShape : struct, IGemmShape
            where T : unmanaged, IBinaryFloatingPointIeee754<T>
        {
            int width = endColumn - firstColumn;
            ReadOnlySpan<T> biasRow = MemoryMarshalHelpers.Span(ref Unsafe.Add(ref bias, firstColumn), width);
            for (int i = 0; i < m; i++)
            {
                Span<T> row = MemoryMarshalHelpers.Span(ref Unsafe.Add(ref c, (i * n) + firstColumn), width);
                if (accumulate)
                {
                    for (int j = 0; j < width; j++)
                    {
                        row[j] += biasRow[j];
                    }
                }
                else
                {
                    biasRow.CopyTo(row);
                }
            }
        }

        /// <summary>
        /// Copies op(B)[pc…pc+kc, jc…jc+nc] into slivers of <paramref name="nr"/> columns: sliver s holds, for each p, the
        /// nr values of columns jc + s·nr … in a row (<c>packed[s·nr·kc + p·nr + j]</c>), the last sliver padded with zeros.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)] // optimised from the first call: no slow tier-0 packing while a product waits
        internal static void PackB<TShape, T>(ref T b, ref T packed, int pc, int jc, int kc, int nc, int nr)
            where TShape : struct, IGemmShape
            where T : unmanaged, IBinaryFloatingPointIeee754<T>
        {
            TShape s = default;
            int ldb = s.LeadingB;
            for (int jr = 0; jr < nc; jr += nr)
            {
                int columns = Math.Min(nr, nc - jr);
                ref T sliver = ref Unsafe.Add(ref packed, jr * kc);
                if (!s.TransposeB)
                {
                    // B is stored K×N: the nr values for one p are contiguous. A whole sliver's row is copied with vectors
                    // in line (a CopyTo per 64-byte row cost 52 of a 353 µs product: 128×784 by 784×128's ∂W on AVX2).
                    ref T source = ref Unsafe.Add(ref b, (pc * ldb) + jc + jr);
                    if (columns == nr && Vector256.IsHardwareAccelerated && nr % Vector256<T>.Count == 0)
                    {
                        for (int p = 0; p < kc; p++)
                        {
                            ref T from = ref Unsafe.Add(ref source, p * ldb);
                            ref T to = ref Unsafe.Add(ref sliver, p * nr);
                            for (int j = 0; j < nr; j += Vector256<T>.Count)
                            {
                                Vector256.LoadUnsafe(ref from, (nuint)j).StoreUnsafe(ref to, (nuint)j);
                            }
                        }
                    }
                    else
                    {
                        for (int p = 0; p < kc; p++)
                        {
                            Span<T> to = MemoryMarshalHelpers.Span(ref Unsafe.Add(ref sliver, p * nr), nr);
                            MemoryMarshalHelpers.Span(ref Unsafe.Add(ref source, p * ldb), columns).CopyTo(to);
                            to.Slice(columns).Clear();
                        }
                    }
                }
                else
                {
                    // B is stored N×K: columns of op(B) are rows in memory. Float slivers go through 8×8 transposes in
                    // registers (16 half-width loads, 16 shuffles, 8 stores per 64 elements); the rest one element at a time.
                    int p0 = 0;
                    if (typeof(T) == typeof(float) && Avx.IsSupported && columns == nr && nr % 8 == 0)
                    {
                        p0 = kc / 8 * 8;
                        for (int j = 0; j < nr; j += 8)
                        {
                            ref float from = ref Unsafe.As<T, float>(ref Unsafe.Add(ref b, ((jc + jr + j) * ldb) + pc));
                            ref float to = ref Unsafe.As<T, float>(ref Unsafe.Add(ref sliver, j));
                            for (int p = 0; p < p0; p += 8)
                            {
                                Transpose8x8(ref Unsafe.Add(ref from, p), ldb, ref Unsafe.Add(ref to, p * nr), nr);
                            }
                        }
                    }

                    for (int j = 0; j < nr; j++)
                    {
                        ref T to = ref Unsafe.Add(ref sliver, j);
                        if (j < columns)
                        {
                            ref T from = ref Unsafe.Add(ref b, ((jc + jr + j) * ldb) + pc);
                            for (int p = p0; p < kc; p++)
                            {
                                Unsafe.Add(ref to, p * nr) = Unsafe.Add(ref from, p);
                            }
                        }
                        else
                        {
                            for (int p = 0; p < kc; p++)
                            {
                                Unsafe.Add(ref to, p * nr) = T.Zero;
                            }
                        }
                    }
                }
            }
        }

        /// <summary>
        /// Writes the transpose of the 8×8 block at <paramref name="from"/> (rows <paramref name="fromStride"/> apart) to
        /// <paramref name="to"/> (rows <paramref name="toStride"/> apart); with <paramref name="add"/> (a constant at each call
        /// site) the block is added to what <paramref name="to"/> holds.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        internal static void Transpose8x8(ref float from, int fromStride, ref float to, int toStride, bool add = false)
        {
            // Row i's left half and row i+4's left half share a register from the start (a 128-bit load and an insert,
            // which the load ports do), so the lanes never have to be crossed afterwards: 16 shuffles instead of 24.
            var r0 = Load2x128(ref from, 0, 4 * fromStride);
            var r1 = Load2x128(ref from, fromStride, 5 * fromStride);
            var r2 = Load2x128(ref from, 2 * fromStride, 6 * fromStride);
            var r3 = Load2x128(ref from, 3 * fromStride, 7 * fromStride);
            var r4 = Load2x128(ref from, 4, (4 * fromStride) + 4);
            var r5 = Load2x128(ref from, fromStride + 4, (5 * fromStride) + 4);
            var r6 = Load2x128(ref from, (2 * fromStride) + 4, (6 * fromStride) + 4);
            var r7 = Load2x128(ref from, (3 * fromStride) + 4, (7 * fromStride) + 4);
            var t0 = Avx.UnpackLow(r0, r1);
            var t1 = Avx.UnpackHigh(r0, r1);
            var t2 = Avx.UnpackLow(r2, r3);
            var t3 = Avx.UnpackHigh(r2, r3);
            var t4 = Avx.UnpackLow(r4, r5);
            var t5 = Avx.UnpackHigh(r4, r5);
            var t6 = Avx.UnpackLow(r6, r7);
            var t7 = Avx.UnpackHigh(r6, r7);
            Store8(Avx.Shuffle(t0, t2, 0x44), ref to, 0, add);
            Store8(Avx.Shuffle(t0, t2, 0xEE), ref to, toStride, add);
            Store8(Avx.Shuffle(t1, t3, 0x44), ref to, 2 * toStride, add);
            Store8(Avx.Shuffle(t1, t3, 0xEE), ref to, 3 * toStride, add);
            Store8(Avx.Shuffle(t4, t6, 0x44), ref to, 4 * toStride, add);
            Store8(Avx.Shuffle(t4, t6, 0xEE), ref to, 5 * toStride, add);
            Store8(Avx.Shuffle(t5, t7, 0x44), ref to, 6 * toStride, add);
            Store8(Avx.Shuffle(t5, t7, 0xEE), ref to, 7 * toStride, add);
        }

        /// <summary>Stores (or, with <paramref name="add"/>, adds) 8 floats at <paramref name="offset"/> from <paramref name="to"/>.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Store8(Vector256<float> values, ref float to, int offset, bool add)
        {
            if (add)
            {
                values += Vector256.LoadUnsafe(ref to, (nuint)offset);
            }

            values.StoreUnsafe(ref to, (nuint)offset);
        }

        /// <summary>Four floats at <paramref name="low"/> in the lower lane and four at <paramref name="high"/> in the upper.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector256<float> Load2x128(ref float from, int low, int high) =>
            Vector256.Create(Vector128.LoadUnsafe(ref from, (nuint)low), Vector128.LoadUnsafe(ref from, (nuint)high));
    }

    /// <summary>
    /// Per-thread packing buffers: allocated on a thread's first packed product (and grown at most to the block sizes), never
    /// per call. The packed slivers start on a 64-byte boundary (pinned arrays, so the boundary stays put): every Vector512
    /// load of a sliver then reads one cache line instead of two. On its own that was within this machine's noise; with the
    /// caller's C 64-byte aligned as well, 128×784×32's ∂W (whose 784×32 op(B) is packed) went from 57 to 53 µs.
    /// </summary>
    internal static class PackScratch<T>
        where T : unmanaged
    {
        [ThreadStatic]
        private static T[]? t_b;

        [ThreadStatic]
        private static int t_bStart;

        [ThreadStatic]
        private static T[]? t_edge;

        /// <summary>At least <paramref name="length"/> elements for packed slivers of B, starting 64-byte aligned.</summary>
        public static ref T ForB(int length)
        {
            if (t_b is not { } buffer || buffer.Length - t_bStart < length)
            {
                buffer = t_b = GC.AllocateArray<T>(length + (64 / Unsafe.SizeOf<T>()), pinned: true);
                t_bStart = AlignedStart(buffer);
            }

            return ref buffer[t_bStart];
        }

        /// <summary>The micro-kernels' edge-tile buffer (<see cref="EdgeTile.Length{T}"/> elements).</summary>
        public static T[] ForEdgeTile() => t_edge ??= new T[EdgeTile.Length<T>()];

        /// <summary>The first index of a pinned array whose address is a multiple of 64 bytes.</summary>
        private static unsafe int AlignedStart(T[] pinned)
        {
            nuint address = (nuint)Unsafe.AsPointer(ref pinned[0]);
            int misalignment = (int)(address % 64);
            return misalignment == 0 ? 0 : (64 - misalignment) / Unsafe.SizeOf<T>();
        }
    }

    /// <summary>Spans over references the caller has bounds-checked.</summary>
    internal static class MemoryMarshalHelpers
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Span<T> Span<T>(ref T start, int length) => System.Runtime.InteropServices.MemoryMarshal.CreateSpan(ref start, length);
    }
}
