using System;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace StaticGrad.Kernels
{
    /// <summary>
    /// The forward pass and the input gradient with the output channels in the vector lanes. The wide-plane correlation of
    /// <see cref="PlaneConvolution"/> computes every position of a padded row (16 for a 14-wide plane with padding 1) and
    /// rounds each plane up to 64 positions: on the 14×14 planes of a residual block, 196 of every 256 products it computes are
    /// kept. Here a register tile is 2 vectors of output channels (32 floats with Vector512) × 14 neighbouring positions of one
    /// output row (28 of AVX-512's 32 registers accumulate; then tiles of 7 and of 1 for the rest of a row; 6 with Vector256):
    /// per tap it loads the tap's weights for the 32 channels once and broadcasts 14 input values, so every multiply-add is one
    /// that counts, and the result, channels-last, is turned back into planes at the end. Tiles of 14 rather than 7 halve the
    /// weights read per multiply-add (a 32→32 layer's 36 KB of weights and its input rows overflow a 48 KB L1 together):
    /// on 14×14 planes, batch 64, forward 1784 → 1592–1606 µs and ∂X 1849 → 1603–1633 µs (Intel Xeon 6/207, AVX-512).
    /// </summary>
    public static partial class PlaneConvolution
    {
        /// <summary>Below this many taps per output (in·k·k) the wide-plane path stays: the tiles' stores and the turn back into planes would cost more than the waste they save.</summary>
        private const int ChannelsLastMinTaps = 16;

        /// <summary>
        /// Whether a correlation of <paramref name="taps"/> taps per output into <paramref name="channels"/> channels runs
        /// channels-last on this machine: enough taps, and channels that fill at least three quarters of their tiles (1 input
        /// channel in a tile of 32 would compute 32 times the work; the wide planes waste less there).
        /// </summary>
        private static bool ChannelsLast<T>(int taps, int channels)
            where T : unmanaged =>
            taps >= ChannelsLastMinTaps && (Wide512 || (Vector256.IsHardwareAccelerated && Fma.IsSupported)) && Tiled<T>(channels) * 3 <= channels * 4;

        /// <summary>Channels per register tile of the channels-last correlation: 2 vectors (32 floats or 16 doubles with Vector512; 16 or 8 with Vector256).</summary>
        private static int CorrelationTile<T>()
            where T : unmanaged => 2 * (Wide512 ? Vector512<T>.Count : Vector256<T>.Count);

        /// <summary>Rounds <paramref name="channels"/> up to whole register tiles.</summary>
        private static int Tiled<T>(int channels)
            where T : unmanaged => (channels + CorrelationTile<T>() - 1) / CorrelationTile<T>() * CorrelationTile<T>();

        /// <summary>The forward pass over <paramref name="batch"/> examples channels-last: <c>yᵀ[p][o…] = b[o…] + Σ_tap x̂[c, p + ky·paddedWidth + kx] · Wᵀ[tap][o…]</c>.</summary>
        private static void ForwardChannelsLast<T>(in PlaneConvolutionShape shape, ReadOnlySpan<T> input, int batch, ReadOnlySpan<T> weights, ReadOnlySpan<T> bias, Span<T> output, Span<T> scratch)
            where T : unmanaged, IBinaryFloatingPointIeee754<T>
        {
            int channels = shape.InChannels, outChannels = shape.OutChannels, taps = shape.Taps, paddedPlane = shape.PaddedPlane, paddedWidth = shape.PaddedWidth;
            int outTiled = Tiled<T>(outChannels), positions = shape.OutHeight * shape.OutWidth;
            Span<T> transposed = scratch.Slice(0, taps * outTiled);
            Span<T> start = scratch.Slice(transposed.Length, outTiled);
            Span<T> padded = scratch.Slice(transposed.Length + outTiled, channels * paddedPlane);
            Span<T> result = scratch.Slice(transposed.Length + outTiled + padded.Length, positions * outTiled);
            transposed.Clear(); // the channels that round up to a tile have zero weights and zero bias
            start.Clear();
            padded.Clear(); // the borders stay zero; each example writes only the interior
            Transpose(weights, outChannels, taps, transposed, outTiled); // Wᵀ[tap][o] = W[o][tap]
            bias.CopyTo(start);

            int inputSize = shape.InputSize, outputSize = shape.OutputSize, interior = (shape.Padding * paddedWidth) + shape.Padding;
            for (int b = 0; b < batch; b++)
            {
                Embed(input.Slice(b * inputSize, inputSize), channels, shape.Height, shape.Width, padded, paddedPlane, paddedWidth, interior);
                CorrelateChannelsLast(ref MemoryMarshal.GetReference(padded), paddedPlane, paddedWidth, channels, shape.Kernel, ref MemoryMarshal.GetReference(transposed), outTiled, ref MemoryMarshal.GetReference(start), shape.OutHeight, shape.OutWidth, ref MemoryMarshal.GetReference(result));
                Transpose(result, positions, outChannels, outTiled, output.Slice(b * outputSize, outputSize), positions, add: false);
            }
        }

        /// <summary>Whether the input gradient of <paramref name="shape"/> runs channels-last (the input channels in the lanes).</summary>
        private static bool InputGradientIsChannelsLast<T>(in PlaneConvolutionShape shape)
            where T : unmanaged => ChannelsLast<T>(shape.OutChannels * shape.Kernel * shape.Kernel, shape.InChannels);

        /// <summary>
        /// The channels-last input gradient's scratch: the forward correlation runs on ∂y bordered by <c>kernel − 1</c> zeros,
        /// with the weights flipped and their channel axes swapped, the input channels in the lanes.
        /// </summary>
        private static void PrepareInputGradientChannelsLast<T>(in PlaneConvolutionShape shape, ReadOnlySpan<T> weights, Span<T> scratch)
            where T : unmanaged, IBinaryFloatingPointIeee754<T>
        {
            int channels = shape.InChannels, outChannels = shape.OutChannels, area = shape.Kernel * shape.Kernel, taps = shape.Taps, inTiled = Tiled<T>(channels);
            InputGradientRegions(shape, scratch, out Span<T> flipped, out Span<T> zeros, out Span<T> bordered, out _);

            // flipped[o, k−1−ky, k−1−kx][c] = w[o, c, ky, kx]; the channels that round up to a tile stay zero.
            flipped.Clear();
            zeros.Clear();
            for (int o = 0; o < outChannels; o++)
            {
                for (int c = 0; c < channels; c++)
                {
                    for (int t = 0; t < area; t++)
                    {
                        flipped[(((o * area) + (area - 1 - t)) * inTiled) + c] = weights[(o * taps) + (c * area) + t];
                    }
                }
            }

            bordered.Clear();
        }

        /// <summary>One example's input gradient, channels-last, in the scratch <see cref="PrepareInputGradientChannelsLast{T}"/> set up; written, or with <paramref name="add"/> added.</summary>
        private static void InputGradientExampleChannelsLast<T>(in PlaneConvolutionShape shape, ReadOnlySpan<T> outputGradient, Span<T> inputGradient, bool add, Span<T> scratch)
            where T : unmanaged, IBinaryFloatingPointIeee754<T>
        {
            int kernel = shape.Kernel, gradientWidth = shape.GradientWidth, padding = shape.Padding, positions = shape.Height * shape.Width;
            InputGradientRegions(shape, scratch, out Span<T> flipped, out Span<T> zeros, out Span<T> bordered, out Span<T> result);
            int border = ((kernel - 1) * gradientWidth) + kernel - 1;
            Embed(outputGradient, shape.OutChannels, shape.OutHeight, shape.OutWidth, bordered, shape.GradientPlane, gradientWidth, border);
            ref T first = ref Unsafe.Add(ref MemoryMarshal.GetReference(bordered), (padding * gradientWidth) + padding);
            CorrelateChannelsLast(ref first, shape.GradientPlane, gradientWidth, shape.OutChannels, kernel, ref MemoryMarshal.GetReference(flipped), zeros.Length, ref MemoryMarshal.GetReference(zeros), shape.Height, shape.Width, ref MemoryMarshal.GetReference(result));
            Transpose(result, positions, shape.InChannels, zeros.Length, inputGradient, positions, add);
        }

        /// <summary>The channels-last input gradient's regions of scratch, after the weight gradient's: the flipped Wᵀ, a row of zeros (the start values), the bordered ∂y planes, the result.</summary>
        private static void InputGradientRegions<T>(in PlaneConvolutionShape shape, Span<T> scratch, out Span<T> flipped, out Span<T> zeros, out Span<T> bordered, out Span<T> result)
            where T : unmanaged
        {
            int inTiled = Tiled<T>(shape.InChannels);
            Span<T> region = scratch.Slice(shape.WeightGradientLength);
            flipped = region.Slice(0, shape.OutChannels * shape.Kernel * shape.Kernel * inTiled);
            zeros = region.Slice(flipped.Length, inTiled);
            bordered = region.Slice(flipped.Length + inTiled, shape.OutChannels * shape.GradientPlane);
            result = region.Slice(flipped.Length + inTiled + bordered.Length, shape.Height * shape.Width * inTiled);
        }

        /// <summary>
        /// <c>y[(r·columns + s)·stride + o] = start[o] + Σ_{c,ky,kx} x[c·planeStride + (r + ky)·rowWidth + s + kx] · w[((c·kernel + ky)·kernel + kx)·stride + o]</c>
        /// for r below <paramref name="rows"/>, s below <paramref name="columns"/> and o below <paramref name="stride"/> (whole tiles).
        /// </summary>
        private static void CorrelateChannelsLast<T>(ref T x, int planeStride, int rowWidth, int channels, int kernel, ref T w, int stride, ref T start, int rows, int columns, ref T y)
            where T : unmanaged, IBinaryFloatingPointIeee754<T>
        {
            int tile = CorrelationTile<T>();
            for (int o = 0; o < stride; o += tile)
            {
                ref T wo = ref Unsafe.Add(ref w, o);
                ref T so = ref Unsafe.Add(ref start, o);
                if (!Wide512)
                {
                    CorrelateFlat256(ref x, planeStride, rowWidth, channels, kernel, ref wo, stride, ref so, rows, columns, ref Unsafe.Add(ref y, o));
                    continue;
                }

                for (int r = 0; r < rows; r++)
                {
                    ref T xr = ref Unsafe.Add(ref x, r * rowWidth);
                    ref T yr = ref Unsafe.Add(ref y, (r * columns * stride) + o);
                    int s = 0;
                    for (; s + 14 <= columns; s += 14)
                    {
                        Fourteen512(ref Unsafe.Add(ref xr, s), planeStride, rowWidth, channels, kernel, ref wo, stride, ref so, ref Unsafe.Add(ref yr, s * stride));
                    }

                    for (; s + 7 <= columns; s += 7)
                    {
                        Seven512(ref Unsafe.Add(ref xr, s), planeStride, rowWidth, channels, kernel, ref wo, stride, ref so, ref Unsafe.Add(ref yr, s * stride));
                    }

                    for (; s < columns; s++)
                    {
                        One512(ref Unsafe.Add(ref xr, s), planeStride, rowWidth, channels, kernel, ref wo, stride, ref so, ref Unsafe.Add(ref yr, s * stride));
                    }
                }
            }
        }

        /// <summary>
        /// The Vector256 tiles over the output positions in reading order rather than row by row: a tile of 6 that crosses
        /// into the next row reads its inputs there (<see cref="Six256{T}"/>), so on 14-wide planes 192 of 196 positions
        /// go through 6-wide tiles instead of 168 (two positions of every row were left to the one-position kernel).
        /// </summary>
        private static void CorrelateFlat256<T>(ref T x, int planeStride, int rowWidth, int channels, int kernel, ref T w, int stride, ref T start, int rows, int columns, ref T y)
            where T : unmanaged, IBinaryFloatingPointIeee754<T>
        {
            int total = rows * columns, q = 0;
            for (; q + 6 <= total; q += 6)
            {
                int r = q / columns, s = q - (r * columns);
                ref T at = ref Unsafe.Add(ref x, (r * rowWidth) + s);
                ref T yq = ref Unsafe.Add(ref y, q * stride);

                // Each further position's input offset from the first's: +1 along the row, the row's padding added at a break.
                Six256(
                    ref at, Offset(q, 1, columns, rowWidth), Offset(q, 2, columns, rowWidth), Offset(q, 3, columns, rowWidth), Offset(q, 4, columns, rowWidth), Offset(q, 5, columns, rowWidth),
                    planeStride, rowWidth, channels, kernel, ref w, stride, ref start, ref yq);
            }

            for (; q < total; q++)
            {
                int r = q / columns, s = q - (r * columns);
                One256(ref Unsafe.Add(ref x, (r * rowWidth) + s), planeStride, rowWidth, channels, kernel, ref w, stride, ref start, ref Unsafe.Add(ref y, q * stride));
            }
        }

        /// <summary>7 positions × 2 Vector512 of channels: 14 accumulators, 2 weight vectors and a broadcast input per multiply-add pair.</summary>
        [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
        private static void Seven512<T>(ref T x, int planeStride, int rowWidth, int channels, int kernel, ref T w, int stride, ref T start, ref T y)
            where T : unmanaged, IBinaryFloatingPointIeee754<T>
        {
            nuint lanes = (nuint)Vector512<T>.Count;
            Vector512<T> a0 = Vector512.LoadUnsafe(ref start), b0 = Vector512.LoadUnsafe(ref start, lanes);
            Vector512<T> a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0;
            Vector512<T> b1 = b0, b2 = b0, b3 = b0, b4 = b0, b5 = b0, b6 = b0;
            for (int c = 0; c < channels; c++)
            {
                ref T plane = ref Unsafe.Add(ref x, c * planeStride);
                for (int ky = 0; ky < kernel; ky++)
                {
                    ref T row = ref Unsafe.Add(ref plane, ky * rowWidth);
                    for (int kx = 0; kx < kernel; kx++)
                    {
                        ref T at = ref Unsafe.Add(ref row, kx);
                        Vector512<T> w0 = Vector512.LoadUnsafe(ref w), w1 = Vector512.LoadUnsafe(ref w, lanes);
                        w = ref Unsafe.Add(ref w, stride);
                        Vector512<T> v = Vector512.Create(at);
                        a0 = VectorOps.MultiplyAdd(v, w0, a0);
                        b0 = VectorOps.MultiplyAdd(v, w1, b0);
                        v = Vector512.Create(Unsafe.Add(ref at, 1));
                        a1 = VectorOps.MultiplyAdd(v, w0, a1);
                        b1 = VectorOps.MultiplyAdd(v, w1, b1);
                        v = Vector512.Create(Unsafe.Add(ref at, 2));
                        a2 = VectorOps.MultiplyAdd(v, w0, a2);
                        b2 = VectorOps.MultiplyAdd(v, w1, b2);
                        v = Vector512.Create(Unsafe.Add(ref at, 3));
                        a3 = VectorOps.MultiplyAdd(v, w0, a3);
                        b3 = VectorOps.MultiplyAdd(v, w1, b3);
                        v = Vector512.Create(Unsafe.Add(ref at, 4));
                        a4 = VectorOps.MultiplyAdd(v, w0, a4);
                        b4 = VectorOps.MultiplyAdd(v, w1, b4);
                        v = Vector512.Create(Unsafe.Add(ref at, 5));
                        a5 = VectorOps.MultiplyAdd(v, w0, a5);
                        b5 = VectorOps.MultiplyAdd(v, w1, b5);
                        v = Vector512.Create(Unsafe.Add(ref at, 6));
                        a6 = VectorOps.MultiplyAdd(v, w0, a6);
                        b6 = VectorOps.MultiplyAdd(v, w1, b6);
                    }
                }
            }

            nint next = stride;
            Store2(a0, b0, ref y, lanes);
            Store2(a1, b1, ref Unsafe.Add(ref y, next), lanes);
            Store2(a2, b2, ref Unsafe.Add(ref y, 2 * next), lanes);
            Store2(a3, b3, ref Unsafe.Add(ref y, 3 * next), lanes);
            Store2(a4, b4, ref Unsafe.Add(ref y, 4 * next), lanes);
            Store2(a5, b5, ref Unsafe.Add(ref y, 5 * next), lanes);
            Store2(a6, b6, ref Unsafe.Add(ref y, 6 * next), lanes);
        }

        /// <summary>14 positions × 2 Vector512 of channels: 28 accumulators, 2 weight vectors and a broadcast input (31 of AVX-512's 32 registers); each tap's weights are loaded once for 14 positions instead of 7.</summary>
        [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
        private static void Fourteen512<T>(ref T x, int planeStride, int rowWidth, int channels, int kernel, ref T w, int stride, ref T start, ref T y)
            where T : unmanaged, IBinaryFloatingPointIeee754<T>
        {
            nuint lanes = (nuint)Vector512<T>.Count;
            Vector512<T> a0 = Vector512.LoadUnsafe(ref start), b0 = Vector512.LoadUnsafe(ref start, lanes);
            Vector512<T> a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0, a8 = a0, a9 = a0, a10 = a0, a11 = a0, a12 = a0, a13 = a0;
            Vector512<T> b1 = b0, b2 = b0, b3 = b0, b4 = b0, b5 = b0, b6 = b0, b7 = b0, b8 = b0, b9 = b0, b10 = b0, b11 = b0, b12 = b0, b13 = b0;
            for (int c = 0; c < channels; c++)
            {
                ref T plane = ref Unsafe.Add(ref x, c * planeStride);
                for (int ky = 0; ky < kernel; ky++)
                {
                    ref T row = ref Unsafe.Add(ref plane, ky * rowWidth);
                    for (int kx = 0; kx < kernel; kx++)
                    {
                        ref T at = ref Unsafe.Add(ref row, kx);
                        Vector512<T> w0 = Vector512.LoadUnsafe(ref w), w1 = Vector512.LoadUnsafe(ref w, lanes);
                        w = ref Unsafe.Add(ref w, stride);
                        Vector512<T> v = Vector512.Create(at);
                        a0 = VectorOps.MultiplyAdd(v, w0, a0);
                        b0 = VectorOps.MultiplyAdd(v, w1, b0);
                        v = Vector512.Create(Unsafe.Add(ref at, 1));
                        a1 = VectorOps.MultiplyAdd(v, w0, a1);
                        b1 = VectorOps.MultiplyAdd(v, w1, b1);
                        v = Vector512.Create(Unsafe.Add(ref at, 2));
                        a2 = VectorOps.MultiplyAdd(v, w0, a2);
                        b2 = VectorOps.MultiplyAdd(v, w1, b2);
                        v = Vector512.Create(Unsafe.Add(ref at, 3));
                        a3 = VectorOps.MultiplyAdd(v, w0, a3);
                        b3 = VectorOps.MultiplyAdd(v, w1, b3);
                        v = Vector512.Create(Unsafe.Add(ref at, 4));
                        a4 = VectorOps.MultiplyAdd(v, w0, a4);
                        b4 = VectorOps.MultiplyAdd(v, w1, b4);
                        v = Vector512.Create(Unsafe.Add(ref at, 5));
                        a5 = VectorOps.MultiplyAdd(v, w0, a5);
                        b5 = VectorOps.MultiplyAdd(v, w1, b5);
                        v = Vector512.Create(Unsafe.Add(ref at, 6));
                        a6 = VectorOps.MultiplyAdd(v, w0, a6);
                        b6 = VectorOps.MultiplyAdd(v, w1, b6);
                        v = Vector512.Create(Unsafe.Add(ref at, 7));
                        a7 = VectorOps.MultiplyAdd(v, w0, a7);
                        b7 = VectorOps.MultiplyAdd(v, w1, b7);
                        v = Vector512.Create(Unsafe.Add(ref at, 8));
                        a8 = VectorOps.MultiplyAdd(v, w0, a8);
                        b8 = VectorOps.MultiplyAdd(v, w1, b8);
                        v = Vector512.Create(Unsafe.Add(ref at, 9));
                        a9 = VectorOps.MultiplyAdd(v, w0, a9);
                        b9 = VectorOps.MultiplyAdd(v, w1, b9);
                        v = Vector512.Create(Unsafe.Add(ref at, 10));
                        a10 = VectorOps.MultiplyAdd(v, w0, a10);
                        b10 = VectorOps.MultiplyAdd(v, w1, b10);
                        v = Vector512.Create(Unsafe.Add(ref at, 11));
                        a11 = VectorOps.MultiplyAdd(v, w0, a11);
                        b11 = VectorOps.MultiplyAdd(v, w1, b11);
                        v = Vector512.Create(Unsafe.Add(ref at, 12));
                        a12 = VectorOps.MultiplyAdd(v, w0, a12);
                        b12 = VectorOps.MultiplyAdd(v, w1, b12);
                        v = Vector512.Create(Unsafe.Add(ref at, 13));
                        a13 = VectorOps.MultiplyAdd(v, w0, a13);
                        b13 = VectorOps.MultiplyAdd(v, w1, b13);
                    }
                }
            }

            nint next = stride;
            Store2(a0, b0, ref y, lanes);
            Store2(a1, b1, ref Unsafe.Add(ref y, 1 * next), lanes);
            Store2(a2, b2, ref Unsafe.Add(ref y, 2 * next), lanes);
            Store2(a3, b3, ref Unsafe.Add(ref y, 3 * next), lanes);
            Store2(a4, b4, ref Unsafe.Add(ref y, 4 * next), lanes);
            Store2(a5, b5, ref Unsafe.Add(ref y, 5 * next), lanes);
            Store2(a6, b6, ref Unsafe.Add(ref y, 6 * next), lanes);
            Store2(a7, b7, ref Unsafe.Add(ref y, 7 * next), lanes);
            Store2(a8, b8, ref Unsafe.Add(ref y, 8 * next), lanes);
            Store2(a9, b9, ref Unsafe.Add(ref y, 9 * next), lanes);
            Store2(a10, b10, ref Unsafe.Add(ref y, 10 * next), lanes);
            Store2(a11, b11, ref Unsafe.Add(ref y, 11 * next), lanes);
            Store2(a12, b12, ref Unsafe.Add(ref y, 12 * next), lanes);
            Store2(a13, b13, ref Unsafe.Add(ref y, 13 * next), lanes);
        }

        /// <summary>One position × 2 Vector512 of channels, for the end of a row that 7 do not divide.</summary>
        [MethodImpl(MethodImplOptions.NoInlining)]
        private static void One512<T>(ref T x, int planeStride, int rowWidth, int channels, int kernel, ref T w, int stride, ref T start, ref T y)
            where T : unmanaged, IBinaryFloatingPointIeee754<T>
        {
            nuint lanes = (nuint)Vector512<T>.Count;
            Vector512<T> a = Vector512.LoadUnsafe(ref start), b = Vector512.LoadUnsafe(ref start, lanes);
            for (int c = 0; c < channels; c++)
            {
                for (int ky = 0; ky < kernel; ky++)
                {
                    ref T row = ref Unsafe.Add(ref x, (c * planeStride) + (ky * rowWidth));
                    for (int kx = 0; kx < kernel; kx++)
                    {
                        Vector512<T> v = Vector512.Create(Unsafe.Add(ref row, kx));
                        a = VectorOps.MultiplyAdd(v, Vector512.LoadUnsafe(ref w), a);
                        b = VectorOps.MultiplyAdd(v, Vector512.LoadUnsafe(ref w, lanes), b);
                        w = ref Unsafe.Add(ref w, stride);
                    }
                }
            }

            Store2(a, b, ref y, lanes);
        }

        /// <summary>The input offset of output position <c>q + i</c> from that of position q, in reading order over rows of <paramref name="columns"/>.</summary>
        private static int Offset(int q, int i, int columns, int rowWidth)
        {
            int r = q / columns, ri = (q + i) / columns;
            return ((ri - r) * rowWidth) + (q + i - (ri * columns)) - (q - (r * columns));
        }

        /// <summary>
        /// 6 positions × 2 Vector256 of channels: 12 accumulators, 2 weight vectors and a broadcast fill AVX2's 16 registers.
        /// The positions are 6 in reading order: their inputs lie at <paramref name="at0"/> and the given offsets from it (1 to 5
        /// along a row; a tile that crosses into the next output row adds the row's padding at the break).
        /// </summary>
        [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
        private static void Six256<T>(ref T at0, int d1, int d2, int d3, int d4, int d5, int planeStride, int rowWidth, int channels, int kernel, ref T w, int stride, ref T start, ref T y)
            where T : unmanaged, IBinaryFloatingPointIeee754<T>
        {
            nuint lanes = (nuint)Vector256<T>.Count;
            Vector256<T> a0 = Vector256.LoadUnsafe(ref start), b0 = Vector256.LoadUnsafe(ref start, lanes);
            Vector256<T> a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0;
            Vector256<T> b1 = b0, b2 = b0, b3 = b0, b4 = b0, b5 = b0;

            // Native-width offsets and counters: with ints the JIT sign-extended each of them at every tap, 7 instructions
            // beside 12 multiply-adds.
            nint e1 = d1, e2 = d2, e3 = d3, e4 = d4, e5 = d5, step = stride, taps = kernel;
            for (int c = 0; c < channels; c++)
            {
                ref T plane = ref Unsafe.Add(ref at0, c * planeStride);
                for (int ky = 0; ky < kernel; ky++)
                {
                    ref T at = ref Unsafe.Add(ref plane, ky * rowWidth);
                    for (nint kx = 0; kx < taps; kx++)
                    {
                        Vector256<T> w0 = Vector256.LoadUnsafe(ref w), w1 = Vector256.LoadUnsafe(ref w, lanes);
                        w = ref Unsafe.Add(ref w, step);
                        Vector256<T> v = Vector256.Create(at);
                        a0 = VectorOps.MultiplyAdd(v, w0, a0);
                        b0 = VectorOps.MultiplyAdd(v, w1, b0);
                        v = Vector256.Create(Unsafe.Add(ref at, e1));
                        a1 = VectorOps.MultiplyAdd(v, w0, a1);
                        b1 = VectorOps.MultiplyAdd(v, w1, b1);
                        v = Vector256.Create(Unsafe.Add(ref at, e2));
                        a2 = VectorOps.MultiplyAdd(v, w0, a2);
                        b2 = VectorOps.MultiplyAdd(v, w1, b2);
                        v = Vector256.Create(Unsafe.Add(ref at, e3));
                        a3 = VectorOps.MultiplyAdd(v, w0, a3);
                        b3 = VectorOps.MultiplyAdd(v, w1, b3);
                        v = Vector256.Create(Unsafe.Add(ref at, e4));
                        a4 = VectorOps.MultiplyAdd(v, w0, a4);
                        b4 = VectorOps.MultiplyAdd(v, w1, b4);
                        v = Vector256.Create(Unsafe.Add(ref at, e5));
                        a5 = VectorOps.MultiplyAdd(v, w0, a5);
                        b5 = VectorOps.MultiplyAdd(v, w1, b5);
                        at = ref Unsafe.Add(ref at, 1);
                    }
                }
            }

            nint next = stride;
            Store2(a0, b0, ref y, lanes);
            Store2(a1, b1, ref Unsafe.Add(ref y, next), lanes);
            Store2(a2, b2, ref Unsafe.Add(ref y, 2 * next), lanes);
            Store2(a3, b3, ref Unsafe.Add(ref y, 3 * next), lanes);
            Store2(a4, b4, ref Unsafe.Add(ref y, 4 * next), lanes);
            Store2(a5, b5, ref Unsafe.Add(ref y, 5 * next), lanes);
        }

        /// <summary>One position × 2 Vector256 of channels, for the end of a row that 6 do not divide.</summary>
        [MethodImpl(MethodImplOptions.NoInlining)]
        private static void One256<T>(ref T x, int planeStride, int rowWidth, int channels, int kernel, ref T w, int stride, ref T start, ref T y)
            where T : unmanaged, IBinaryFloatingPointIeee754<T>
        {
            nuint lanes = (nuint)Vector256<T>.Count;
            Vector256<T> a = Vector256.LoadUnsafe(ref start), b = Vector256.LoadUnsafe(ref start, lanes);
            for (int c = 0; c < channels; c++)
            {
                for (int ky = 0; ky < kernel; ky++)
                {
                    ref T row = ref Unsafe.Add(ref x, (c * planeStride) + (ky * rowWidth));
                    for (int kx = 0; kx < kernel; kx++)
                    {
                        Vector256<T> v = Vector256.Create(Unsafe.Add(ref row, kx));
                        a = VectorOps.MultiplyAdd(v, Vector256.LoadUnsafe(ref w), a);
                        b = VectorOps.MultiplyAdd(v, Vector256.LoadUnsafe(ref w, lanes), b);
                        w = ref Unsafe.Add(ref w, stride);
                    }
                }
            }

            Store2(a, b, ref y, lanes);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Store2<T>(Vector512<T> a0, Vector512<T> a1, ref T y, nuint lanes)
        {
            a0.StoreUnsafe(ref y);
            a1.StoreUnsafe(ref y, lanes);
        }
    }
}
