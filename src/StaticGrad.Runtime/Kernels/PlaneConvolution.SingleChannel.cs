using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace StaticGrad.Kernels
{
    /// <summary>
    /// A 3×3 convolution of one input channel (a grayscale image's first layer, a ResNet's stem) with rows 16 to 32 wide, on
    /// Vector512 floats: an output row is two vectors, positions 0–15 and the last 16 (they overlap when the row is narrower
    /// than 32; the overlap is computed twice in the forward pass and counted once in the weight gradient). The general paths
    /// spend most of their time here moving data: 9 taps per output are too few for the channels-last tiles, and the wide-plane
    /// path computes whole padded rows and turns the 32 output channels through scratch. Here the 18 input vectors of an output
    /// row (3 rows × 3 shifts × 2 halves) are loaded once and serve every output channel in the forward pass; the weight
    /// gradient multiplies each channel's output-gradient row by them, 9 accumulators per channel, and reads the output gradient
    /// once, in memory order. The input gradient, when wanted, stays on the general path.
    /// </summary>
    public static partial class PlaneConvolution
    {
        /// <summary>Whether <paramref name="shape"/> takes the single-channel path on this machine (see the class remarks).</summary>
        private static bool SingleChannel<T>(in PlaneConvolutionShape shape)
            where T : unmanaged =>
            typeof(T) == typeof(float) && Wide512 && shape.InChannels == 1 && shape.Kernel == 3 && shape.OutWidth is >= 16 and <= 32;

        /// <summary>A span of <typeparamref name="T"/> seen as floats: only called where <see cref="SingleChannel{T}"/> checked that T is float.</summary>
        private static Span<float> Floats<T>(Span<T> values)
            where T : unmanaged => MemoryMarshal.Cast<T, float>(values);

        /// <summary>A read-only span of <typeparamref name="T"/> seen as floats (see <see cref="Floats{T}(Span{T})"/>).</summary>
        private static ReadOnlySpan<float> Floats<T>(ReadOnlySpan<T> values)
            where T : unmanaged => MemoryMarshal.Cast<T, float>(values);

        /// <summary>The forward pass of <paramref name="batch"/> examples on the single-channel path.</summary>
        private static void ForwardSingleChannel(in PlaneConvolutionShape shape, ReadOnlySpan<float> input, int batch, ReadOnlySpan<float> weights, ReadOnlySpan<float> bias, Span<float> output, Span<float> scratch)
        {
            int paddedWidth = shape.PaddedWidth, outHeight = shape.OutHeight, outWidth = shape.OutWidth, outChannels = shape.OutChannels, plane = outHeight * outWidth;
            int inputSize = shape.InputSize, outputSize = shape.OutputSize, high = outWidth - 16;
            Span<float> padded = scratch.Slice(0, shape.PaddedPlane);
            padded.Clear(); // the borders stay zero; each example writes only the interior
            ref float w = ref MemoryMarshal.GetReference(weights);
            for (int b = 0; b < batch; b++)
            {
                Embed(input.Slice(b * inputSize, inputSize), 1, shape.Height, shape.Width, padded, shape.PaddedPlane, paddedWidth, (shape.Padding * paddedWidth) + shape.Padding);
                ref float y = ref MemoryMarshal.GetReference(output.Slice(b * outputSize, outputSize));
                for (int r = 0; r < outHeight; r++)
                {
                    ref float row = ref Unsafe.Add(ref MemoryMarshal.GetReference(padded), r * paddedWidth);
                    RowForward(ref row, paddedWidth, high, ref w, bias, outChannels, ref Unsafe.Add(ref y, r * outWidth), plane);
                }
            }
        }

        /// <summary>One output row of every channel: <c>y[o, 0…] = b[o] + Σ_tap w[o, tap] · x[row + ky, kx…]</c>, the input vectors held across the channels.</summary>
        [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
        private static void RowForward(ref float row, int paddedWidth, int high, ref float w, ReadOnlySpan<float> bias, int outChannels, ref float y, int plane)
        {
            ref float row1 = ref Unsafe.Add(ref row, paddedWidth);
            ref float row2 = ref Unsafe.Add(ref row, 2 * paddedWidth);
            nuint h = (nuint)high;
            Vector512<float> l0 = Vector512.LoadUnsafe(ref row), l1 = Vector512.LoadUnsafe(ref row, 1), l2 = Vector512.LoadUnsafe(ref row, 2);
            Vector512<float> l3 = Vector512.LoadUnsafe(ref row1), l4 = Vector512.LoadUnsafe(ref row1, 1), l5 = Vector512.LoadUnsafe(ref row1, 2);
            Vector512<float> l6 = Vector512.LoadUnsafe(ref row2), l7 = Vector512.LoadUnsafe(ref row2, 1), l8 = Vector512.LoadUnsafe(ref row2, 2);
            Vector512<float> h0 = Vector512.LoadUnsafe(ref row, h), h1 = Vector512.LoadUnsafe(ref row, h + 1), h2 = Vector512.LoadUnsafe(ref row, h + 2);
            Vector512<float> h3 = Vector512.LoadUnsafe(ref row1, h), h4 = Vector512.LoadUnsafe(ref row1, h + 1), h5 = Vector512.LoadUnsafe(ref row1, h + 2);
            Vector512<float> h6 = Vector512.LoadUnsafe(ref row2, h), h7 = Vector512.LoadUnsafe(ref row2, h + 1), h8 = Vector512.LoadUnsafe(ref row2, h + 2);
            for (int o = 0; o < outChannels; o++)
            {
                ref float wo = ref Unsafe.Add(ref w, o * 9);
                Vector512<float> lo = Vector512.Create(bias.IsEmpty ? 0f : bias[o]), hi = lo;
                Vector512<float> v = Vector512.Create(wo);
                lo = VectorOps.MultiplyAdd(v, l0, lo);
                hi = VectorOps.MultiplyAdd(v, h0, hi);
                v = Vector512.Create(Unsafe.Add(ref wo, 1));
                lo = VectorOps.MultiplyAdd(v, l1, lo);
                hi = VectorOps.MultiplyAdd(v, h1, hi);
                v = Vector512.Create(Unsafe.Add(ref wo, 2));
                lo = VectorOps.MultiplyAdd(v, l2, lo);
                hi = VectorOps.MultiplyAdd(v, h2, hi);
                v = Vector512.Create(Unsafe.Add(ref wo, 3));
                lo = VectorOps.MultiplyAdd(v, l3, lo);
                hi = VectorOps.MultiplyAdd(v, h3, hi);
                v = Vector512.Create(Unsafe.Add(ref wo, 4));
                lo = VectorOps.MultiplyAdd(v, l4, lo);
                hi = VectorOps.MultiplyAdd(v, h4, hi);
                v = Vector512.Create(Unsafe.Add(ref wo, 5));
                lo = VectorOps.MultiplyAdd(v, l5, lo);
                hi = VectorOps.MultiplyAdd(v, h5, hi);
                v = Vector512.Create(Unsafe.Add(ref wo, 6));
                lo = VectorOps.MultiplyAdd(v, l6, lo);
                hi = VectorOps.MultiplyAdd(v, h6, hi);
                v = Vector512.Create(Unsafe.Add(ref wo, 7));
                lo = VectorOps.MultiplyAdd(v, l7, lo);
                hi = VectorOps.MultiplyAdd(v, h7, hi);
                v = Vector512.Create(Unsafe.Add(ref wo, 8));
                lo = VectorOps.MultiplyAdd(v, l8, lo);
                hi = VectorOps.MultiplyAdd(v, h8, hi);
                ref float yo = ref Unsafe.Add(ref y, o * plane);
                lo.StoreUnsafe(ref yo);
                hi.StoreUnsafe(ref yo, h); // the overlap with lo gets the same values again
            }
        }

        /// <summary>The weight and bias gradients of <paramref name="batch"/> examples on the single-channel path, added to <paramref name="weightGradient"/> and <paramref name="biasGradient"/>.</summary>
        private static void WeightGradientSingleChannel(in PlaneConvolutionShape shape, ReadOnlySpan<float> input, ReadOnlySpan<float> outputGradient, int batch, Span<float> weightGradient, Span<float> biasGradient, Span<float> scratch)
        {
            int paddedWidth = shape.PaddedWidth, outHeight = shape.OutHeight, outWidth = shape.OutWidth, outChannels = shape.OutChannels, plane = outHeight * outWidth;
            int inputSize = shape.InputSize, outputSize = shape.OutputSize, high = outWidth - 16;
            Span<float> padded = scratch.Slice(0, shape.PaddedPlane);
            padded.Clear();

            // The second vector of a row starts at outWidth − 16: its lanes below 32 − outWidth are positions the first vector counts.
            Vector512<int> lane = Vector512.Create(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
            Vector512<float> keep = Vector512.GreaterThanOrEqual(lane, Vector512.Create(32 - outWidth)).AsSingle();
            for (int b = 0; b < batch; b++)
            {
                Embed(input.Slice(b * inputSize, inputSize), 1, shape.Height, shape.Width, padded, shape.PaddedPlane, paddedWidth, (shape.Padding * paddedWidth) + shape.Padding);
                ref float x = ref MemoryMarshal.GetReference(padded);
                ref float dy = ref MemoryMarshal.GetReference(outputGradient.Slice(b * outputSize, outputSize));
                for (int o = 0; o < outChannels; o++)
                {
                    ChannelWeightGradient(ref x, paddedWidth, high, keep, ref Unsafe.Add(ref dy, o * plane), outHeight, outWidth, weightGradient.Slice(o * 9, 9), biasGradient.IsEmpty ? biasGradient : biasGradient.Slice(o, 1));
                }
            }
        }

        /// <summary>
        /// Whether <see cref="AddPlaneWeightGradient"/> serves <paramref name="shape"/> on this machine: the single-channel path
        /// runs (a layer after it can then hand over its output gradient plane by plane instead of storing it whole).
        /// </summary>
        internal static bool TakesPlaneWeightGradients<T>(in PlaneConvolutionShape shape)
            where T : unmanaged => SingleChannel<T>(shape);

        /// <summary>Copies one example's input into <paramref name="padded"/> (<see cref="PlaneConvolutionShape.PaddedPlane"/> values whose borders the caller cleared once) for <see cref="AddPlaneWeightGradient"/>.</summary>
        internal static void EmbedSingleChannel(in PlaneConvolutionShape shape, ReadOnlySpan<float> example, Span<float> padded) =>
            Embed(example, 1, shape.Height, shape.Width, padded, shape.PaddedPlane, shape.PaddedWidth, (shape.Padding * shape.PaddedWidth) + shape.Padding);

        /// <summary>
        /// One example's output-gradient plane of channel <paramref name="channel"/> added to the weight and bias gradients, as
        /// <see cref="WeightGradientSingleChannel"/> adds it (the same operations, so a caller that goes example by example and
        /// channel by channel gets the same bits): only where <see cref="TakesPlaneWeightGradients{T}"/> said so.
        /// </summary>
        internal static void AddPlaneWeightGradient(in PlaneConvolutionShape shape, ReadOnlySpan<float> padded, ReadOnlySpan<float> gradientPlane, int channel, Span<float> weightGradient, Span<float> biasGradient)
        {
            int outWidth = shape.OutWidth;
            if (padded.Length < shape.PaddedPlane || gradientPlane.Length < shape.OutHeight * outWidth)
            {
                throw new ArgumentException("padded or gradientPlane is shorter than the shape says.");
            }

            Vector512<int> lane = Vector512.Create(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
            Vector512<float> keep = Vector512.GreaterThanOrEqual(lane, Vector512.Create(32 - outWidth)).AsSingle();
            ChannelWeightGradient(ref MemoryMarshal.GetReference(padded), shape.PaddedWidth, outWidth - 16, keep, ref MemoryMarshal.GetReference(gradientPlane), shape.OutHeight, outWidth,
                weightGradient.Slice(channel * 9, 9), biasGradient.IsEmpty ? biasGradient : biasGradient.Slice(channel, 1));
        }

        /// <summary>One example's one channel: <c>∂W[tap] += Σ_r ∂y[r, …] · x[r + ky, kx…]</c> and <c>∂b += Σ ∂y</c>.</summary>
        [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
        private static void ChannelWeightGradient(ref float x, int paddedWidth, int high, Vector512<float> keep, ref float dy, int rows, int outWidth, Span<float> weightGradient, Span<float> biasGradient)
        {
            nuint h = (nuint)high;
            Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default, a4 = default, a5 = default, a6 = default, a7 = default, a8 = default, sum = default;
            for (int r = 0; r < rows; r++)
            {
                ref float row = ref Unsafe.Add(ref x, r * paddedWidth);
                ref float row1 = ref Unsafe.Add(ref row, paddedWidth);
                ref float row2 = ref Unsafe.Add(ref row, 2 * paddedWidth);
                ref float g = ref Unsafe.Add(ref dy, r * outWidth);
                Vector512<float> gl = Vector512.LoadUnsafe(ref g), gh = Vector512.LoadUnsafe(ref g, h) & keep;
                sum += gl + gh;
                a0 = VectorOps.MultiplyAdd(gh, Vector512.LoadUnsafe(ref row, h), VectorOps.MultiplyAdd(gl, Vector512.LoadUnsafe(ref row), a0));
                a1 = VectorOps.MultiplyAdd(gh, Vector512.LoadUnsafe(ref row, h + 1), VectorOps.MultiplyAdd(gl, Vector512.LoadUnsafe(ref row, 1), a1));
                a2 = VectorOps.MultiplyAdd(gh, Vector512.LoadUnsafe(ref row, h + 2), VectorOps.MultiplyAdd(gl, Vector512.LoadUnsafe(ref row, 2), a2));
                a3 = VectorOps.MultiplyAdd(gh, Vector512.LoadUnsafe(ref row1, h), VectorOps.MultiplyAdd(gl, Vector512.LoadUnsafe(ref row1), a3));
                a4 = VectorOps.MultiplyAdd(gh, Vector512.LoadUnsafe(ref row1, h + 1), VectorOps.MultiplyAdd(gl, Vector512.LoadUnsafe(ref row1, 1), a4));
                a5 = VectorOps.MultiplyAdd(gh, Vector512.LoadUnsafe(ref row1, h + 2), VectorOps.MultiplyAdd(gl, Vector512.LoadUnsafe(ref row1, 2), a5));
                a6 = VectorOps.MultiplyAdd(gh, Vector512.LoadUnsafe(ref row2, h), VectorOps.MultiplyAdd(gl, Vector512.LoadUnsafe(ref row2), a6));
                a7 = VectorOps.MultiplyAdd(gh, Vector512.LoadUnsafe(ref row2, h + 1), VectorOps.MultiplyAdd(gl, Vector512.LoadUnsafe(ref row2, 1), a7));
                a8 = VectorOps.MultiplyAdd(gh, Vector512.LoadUnsafe(ref row2, h + 2), VectorOps.MultiplyAdd(gl, Vector512.LoadUnsafe(ref row2, 2), a8));
            }

            weightGradient[0] += Vector512.Sum(a0);
            weightGradient[1] += Vector512.Sum(a1);
            weightGradient[2] += Vector512.Sum(a2);
            weightGradient[3] += Vector512.Sum(a3);
            weightGradient[4] += Vector512.Sum(a4);
            weightGradient[5] += Vector512.Sum(a5);
            weightGradient[6] += Vector512.Sum(a6);
            weightGradient[7] += Vector512.Sum(a7);
            weightGradient[8] += Vector512.Sum(a8);
            if (!biasGradient.IsEmpty)
            {
                biasGradient[0] += Vector512.Sum(sum);
            }
        }
    }
}
