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
    ///     pack op(B)[pc.., jc..] (KC×NC) into slivers of NR columns        (stays in L2/L3, reused for every row block)
    ///     for ic in rows of C, MC at a time:
    ///       pack op(A)[ic.., pc..] (MC×KC) into slivers of MR rows          (stays in L2)
    ///       for each NR-wide sliver of B (in L1 while the rows below use it):
    ///         for each MR-tall sliver of A:
    ///           C[MR×NR] (+)= sliver of A · sliver of B                     (the micro-kernel, 12 accumulators in registers)
    /// </code>
    /// <para>
    /// MR = 6 rows and NR = 2 vectors (16 floats with Vector256, 32 with Vector512). KC = 256 (the whole summed dimension when
    /// it is at most 320, so C is written once), MC = 72 rows (72×256 floats = 72 KB, well inside a 512 KB L2) and NC = 1024
    /// columns. Packing reads each operand in its stored orientation, so transposed operands cost nothing extra, and pads the
    /// last slivers with zeros so the micro-kernel never branches inside its loop. The scratch is allocated once per thread.
    /// </para>
    /// </remarks>
    internal static class PackedGemm
    {
        /// <summary>Rows of the micro-kernel.</summary>
        public const int MR = 6;

        /// <summary>Rows of C per packed block of A.</summary>
        public const int MC = 72;

        /// <summary>Columns of C per packed block of B.</summary>
        public const int NC = 1024;

        /// <summary>Largest block of the summed dimension.</summary>
        public const int KC = 256;

        /// <summary>The summed dimension is taken whole up to this length.</summary>
        public const int KWhole = 320;

        /// <summary>Whether this CPU has a micro-kernel (AVX-512F, or AVX2 with FMA).</summary>
        public static bool Available =>
            (Vector512.IsHardwareAccelerated && Avx512F.IsSupported) || (Vector256.IsHardwareAccelerated && Fma.IsSupported);

        /// <summary>
        /// Whether packing pays for itself: at least 2¹⁹ multiply-adds (so 64³ = 2¹⁸ stays direct) with op(B) larger than
        /// 32 KB (an L1 data cache), and at least a micro-kernel's worth of rows and of the summed dimension.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static bool Worthwhile(int m, int n, int k, int elementSize) =>
            (long)m * n * k >= (1L << 19) && (long)k * n * elementSize > 32 * 1024 && m >= MR && k >= 16;

        [MethodImpl(MethodImplOptions.NoInlining)]
        public static void Run<TShape, T>(ref T a, ref T b, ref T c, ref T bias, int m, int k)
            where TShape : struct, IGemmShape
            where T : unmanaged, IBinaryFloatingPointIeee754<T>
        {
            if (Vector512.IsHardwareAccelerated && Avx512F.IsSupported)
            {
                Run<TShape, T, MicroKernel512<T>>(ref a, ref b, ref c, ref bias, m, k);
            }
            else
            {
                Run<TShape, T, MicroKernel256<T>>(ref a, ref b, ref c, ref bias, m, k);
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private static void Run<TShape, T, TKernel>(ref T a, ref T b, ref T c, ref T bias, int m, int k)
            where TShape : struct, IGemmShape
            where T : unmanaged, IBinaryFloatingPointIeee754<T>
            where TKernel : struct, IMicroKernel<T>
        {
            TShape s = default;
            TKernel kernel = default;
            int n = s.N;
            int nr = kernel.NR;
            int kcMax = k <= KWhole ? k : KC;
            int ncMax = Math.Min(NC, RoundUp(n, nr));
            T[] packedA = PackScratch<T>.ForA(MC * kcMax);
            T[] packedB = PackScratch<T>.ForB(kcMax * ncMax);

            bool accumulateFirst = s.Accumulate;
            if (!Unsafe.IsNullRef(ref bias))
            {
                // The bias goes into C first; every block then accumulates onto it.
                AddBias<TShape, T>(ref bias, ref c, m, n, s.Accumulate);
                accumulateFirst = true;
            }

            for (int jc = 0; jc < n; jc += NC)
            {
                int nc = Math.Min(NC, n - jc);
                for (int pc = 0; pc < k; pc += kcMax)
                {
                    int kc = Math.Min(kcMax, k - pc);
                    bool accumulate = accumulateFirst || pc > 0;
                    PackB<TShape, T>(ref b, ref packedB[0], pc, jc, kc, nc, nr);
                    for (int ic = 0; ic < m; ic += MC)
                    {
                        int mc = Math.Min(MC, m - ic);
                        PackA<TShape, T>(ref a, ref packedA[0], ic, pc, mc, kc);
                        for (int jr = 0; jr < nc; jr += nr)
                        {
                            ref T sliverB = ref packedB[jr * kc];
                            ref T cColumn = ref Unsafe.Add(ref c, jc + jr);
                            int columns = Math.Min(nr, nc - jr);
                            for (int ir = 0; ir < mc; ir += MR)
                            {
                                kernel.Run(kc, ref packedA[ir * kc], ref sliverB, ref Unsafe.Add(ref cColumn, (ic + ir) * n), n, Math.Min(MR, mc - ir), columns, accumulate);
                            }
                        }
                    }
                }
            }
        }

        private static int RoundUp(int value, int multiple) => (value + multiple - 1) / multiple * multiple;

        private static void AddBias<TShape, T>(ref T bias, ref T c, int m, int n, bool accumulate)
            where TShape : struct, IGemmShape
            where T : unmanaged, IBinaryFloatingPointIeee754<T>
        {
            ReadOnlySpan<T> biasRow = MemoryMarshalHelpers.Span(ref bias, n);
            for (int i = 0; i < m; i++)
            {
                Span<T> row = MemoryMarshalHelpers.Span(ref Unsafe.Add(ref c, i * n), n);
                if (accumulate)
                {
                    for (int j = 0; j < n; j++)
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
        /// Copies op(A)[ic…ic+mc, pc…pc+kc] into slivers of <see cref="MR"/> rows: sliver s holds, for each p, the MR values
        /// of rows ic + s·MR … in a row (<c>packed[s·MR·kc + p·MR + r]</c>), the last sliver padded with zeros.
        /// </summary>
        private static void PackA<TShape, T>(ref T a, ref T packed, int ic, int pc, int mc, int kc)
            where TShape : struct, IGemmShape
            where T : unmanaged, IBinaryFloatingPointIeee754<T>
        {
            TShape s = default;
            int lda = s.LeadingA;
            for (int ir = 0; ir < mc; ir += MR)
            {
                int rows = Math.Min(MR, mc - ir);
                ref T sliver = ref Unsafe.Add(ref packed, ir * kc);
                if (s.TransposeA)
                {
                    // A is stored K×M: the MR values for one p are contiguous.
                    ref T source = ref Unsafe.Add(ref a, (pc * lda) + ic + ir);
                    for (int p = 0; p < kc; p++)
                    {
                        ref T from = ref Unsafe.Add(ref source, p * lda);
                        ref T to = ref Unsafe.Add(ref sliver, p * MR);
                        for (int r = 0; r < MR; r++)
                        {
                            Unsafe.Add(ref to, r) = r < rows ? Unsafe.Add(ref from, r) : T.Zero;
                        }
                    }
                }
                else
                {
                    // A is stored M×K: read each of the MR rows along p and scatter it with stride MR.
                    for (int r = 0; r < MR; r++)
                    {
                        ref T to = ref Unsafe.Add(ref sliver, r);
                        if (r < rows)
                        {
                            ref T from = ref Unsafe.Add(ref a, ((ic + ir + r) * lda) + pc);
                            for (int p = 0; p < kc; p++)
                            {
                                Unsafe.Add(ref to, p * MR) = Unsafe.Add(ref from, p);
                            }
                        }
                        else
                        {
                            for (int p = 0; p < kc; p++)
                            {
                                Unsafe.Add(ref to, p * MR) = T.Zero;
                            }
                        }
                    }
                }
            }
        }

        /// <summary>
        /// Copies op(B)[pc…pc+kc, jc…jc+nc] into slivers of <paramref name="nr"/> columns: sliver s holds, for each p, the
        /// nr values of columns jc + s·nr … in a row (<c>packed[s·nr·kc + p·nr + j]</c>), the last sliver padded with zeros.
        /// </summary>
        private static void PackB<TShape, T>(ref T b, ref T packed, int pc, int jc, int kc, int nc, int nr)
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
                    // B is stored K×N: the nr values for one p are contiguous.
                    ref T source = ref Unsafe.Add(ref b, (pc * ldb) + jc + jr);
                    for (int p = 0; p < kc; p++)
                    {
                        Span<T> to = MemoryMarshalHelpers.Span(ref Unsafe.Add(ref sliver, p * nr), nr);
                        MemoryMarshalHelpers.Span(ref Unsafe.Add(ref source, p * ldb), columns).CopyTo(to);
                        to.Slice(columns).Clear();
                    }
                }
                else
                {
                    // B is stored N×K: read each of the nr columns along p and scatter it with stride nr.
                    for (int j = 0; j < nr; j++)
                    {
                        ref T to = ref Unsafe.Add(ref sliver, j);
                        if (j < columns)
                        {
                            ref T from = ref Unsafe.Add(ref b, ((jc + jr + j) * ldb) + pc);
                            for (int p = 0; p < kc; p++)
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
    }

    /// <summary>Per-thread packing buffers: allocated on a thread's first packed product (and grown at most to the block sizes), never per call.</summary>
    internal static class PackScratch<T>
        where T : unmanaged
    {
        [ThreadStatic]
        private static T[]? t_a;

        [ThreadStatic]
        private static T[]? t_b;

        public static T[] ForA(int length) => t_a is { } buffer && buffer.Length >= length ? buffer : t_a = new T[length];

        public static T[] ForB(int length) => t_b is { } buffer && buffer.Length >= length ? buffer : t_b = new T[length];
    }

    /// <summary>Spans over references the caller has bounds-checked.</summary>
    internal static class MemoryMarshalHelpers
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Span<T> Span<T>(ref T start, int length) => System.Runtime.InteropServices.MemoryMarshal.CreateSpan(ref start, length);
    }
}
