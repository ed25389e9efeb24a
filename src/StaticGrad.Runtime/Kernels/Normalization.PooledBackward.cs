using System;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace StaticGrad.Kernels
{
    public static partial class Normalization
    {
        /// <summary>
        /// The backward pass of <see cref="BatchNormReluMaxPoolTraining{T}"/>: what <see cref="Pooling.MaxPoolBackward{T}(ReadOnlySpan{T}, ReadOnlySpan{int}, int, int, int, int, int, int, int, int, Span{T})"/>
        /// and then <see cref="BatchNormBackward{T}"/> with <c>relu: true</c> give. For floats with 2×2 windows of stride 2 that
        /// tile the plane (even height and width, 8 or more windows wide), the ReLU's gradient is never stored: its sums come from
        /// the pooled gradients alone (the gradient is 0 off the maxima, and at a maximum the ReLU let it through exactly when the
        /// pooled value is positive), each maximum's input gathered by its index; and the input gradient is written plane by
        /// plane with the ReLU's gradient made in registers from the pooled gradients and indices, as the pooling's dense backward
        /// makes it. The input gradient then differs from the two passes only in the rounding of the two sums (added in another
        /// order); every other case runs the two passes through <paramref name="reluGradient"/>.
        /// </summary>
        /// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
        /// <param name="x">The normalisation's input, <c>[batch × channels × height × width]</c>.</param>
        /// <param name="pooledGradient">∂L/∂pooled, <c>[batch × channels × outHeight × outWidth]</c>.</param>
        /// <param name="pooled">The pooled values the forward pass wrote (the ReLU's values at the maxima).</param>
        /// <param name="indices">Per pooled value, its maximum's position within the example, as the forward pass recorded it.</param>
        /// <param name="batch">Examples.</param>
        /// <param name="channels">Channels.</param>
        /// <param name="height">Input height.</param>
        /// <param name="width">Input width.</param>
        /// <param name="kernel">The pooling window's side.</param>
        /// <param name="stride">The step between windows.</param>
        /// <param name="outHeight">Pooled height.</param>
        /// <param name="outWidth">Pooled width.</param>
        /// <param name="weight">γ, <c>[channels]</c>.</param>
        /// <param name="bias">β, <c>[channels]</c>.</param>
        /// <param name="savedMean">The forward pass's batch mean.</param>
        /// <param name="savedInvStd">The forward pass's <c>1/√(var + ε)</c>.</param>
        /// <param name="weightGradient">Adds ∂L/∂γ.</param>
        /// <param name="biasGradient">Adds ∂L/∂β.</param>
        /// <param name="inputGradient">Receives ∂L/∂x, <c>[batch × channels × height × width]</c>.</param>
        /// <param name="reluGradient">Room for the ReLU's gradient, <c>[batch × channels × height × width]</c>, used only where the two passes run.</param>
        public static void BatchNormReluMaxPoolBackward<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> pooledGradient, ReadOnlySpan<T> pooled, ReadOnlySpan<int> indices, int batch, int channels, int height, int width, int kernel, int stride, int outHeight, int outWidth,
            ReadOnlySpan<T> weight, ReadOnlySpan<T> bias, ReadOnlySpan<T> savedMean, ReadOnlySpan<T> savedInvStd, Span<T> weightGradient, Span<T> biasGradient, Span<T> inputGradient, Span<T> reluGradient)
            where T : unmanaged, IBinaryFloatingPointIeee754<T>
        {
            int area = height * width, outArea = outHeight * outWidth, count = batch * channels * area, pooledCount = batch * channels * outArea;
            if (x.Length < count || inputGradient.Length < count || reluGradient.Length < count || pooledGradient.Length < pooledCount || pooled.Length < pooledCount || indices.Length < pooledCount)
            {
                throw new ArgumentException("x, a gradient, pooled or indices is shorter than the shapes say.");
            }

            if (weight.Length < channels || bias.Length < channels || savedMean.Length < channels || savedInvStd.Length < channels || weightGradient.Length < channels || biasGradient.Length < channels)
            {
                throw new ArgumentException($"A per-channel span is shorter than the {channels} channels.");
            }

            if (!PooledFastPath<T>(batch, height, width, kernel, stride, outHeight, outWidth))
            {
                Pooling.MaxPoolBackward(pooledGradient, indices, batch, channels, height, width, kernel, stride, outHeight, outWidth, reluGradient);
                BatchNormBackward(x, reluGradient, batch, channels, area, weight, savedMean, savedInvStd, weightGradient, biasGradient, inputGradient, relu: true, bias: bias);
                return;
            }

            PooledBackward2x2(
                MemoryMarshal.Cast<T, float>(x), MemoryMarshal.Cast<T, float>(pooledGradient), MemoryMarshal.Cast<T, float>(pooled), indices, batch, channels, height, width, outHeight, outWidth,
                MemoryMarshal.Cast<T, float>(weight), MemoryMarshal.Cast<T, float>(savedMean), MemoryMarshal.Cast<T, float>(savedInvStd), MemoryMarshal.Cast<T, float>(weightGradient), MemoryMarshal.Cast<T, float>(biasGradient), MemoryMarshal.Cast<T, float>(inputGradient));
        }

        /// <summary>
        /// <see cref="BatchNormReluMaxPoolBackward{T}(ReadOnlySpan{T}, ReadOnlySpan{T}, ReadOnlySpan{T}, ReadOnlySpan{int}, int, int, int, int, int, int, int, int, ReadOnlySpan{T}, ReadOnlySpan{T}, ReadOnlySpan{T}, ReadOnlySpan{T}, Span{T}, Span{T}, Span{T}, Span{T})"/>
        /// and then the weight and bias gradients of the convolution that produced <paramref name="x"/> (a ResNet's stem: one
        /// input channel, 3×3, whose own input gradient nobody needs), as
        /// <see cref="PlaneConvolution.Backward{T}(in PlaneConvolutionShape, ReadOnlySpan{T}, ReadOnlySpan{T}, int, ReadOnlySpan{T}, Span{T}, Span{T}, bool, Span{T}, PlaneConvolutionWorkspace{T}, WorkerTeam?, bool)"/>
        /// without an input gradient would give them. Where both fast paths run (floats, 2×2 pooling windows of stride 2 tiling
        /// the planes, the convolution's single-channel path, one thread) the gradient of <paramref name="x"/> is never stored:
        /// channel by channel (as the unfused pass goes, so the channel's planes of x are still in the second-level cache from its
        /// sums), each example's plane of it is made in a scratch of one plane and added to the convolution's weight gradient
        /// while it is in the first-level cache, against the example's padded input (all kept in <paramref name="reluGradient"/>).
        /// Per channel the examples are added in the order the convolution's own weight gradient adds them, with the same
        /// operations, so the same bits, without writing and reading back batch·channels·height·width values. Elsewhere the two
        /// kernels run one after the other through <paramref name="inputGradient"/>.
        /// </summary>
        /// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
        /// <param name="x">The normalisation's input (the convolution's output), <c>[batch × channels × height × width]</c>.</param>
        /// <param name="pooledGradient">∂L/∂pooled, <c>[batch × channels × outHeight × outWidth]</c>.</param>
        /// <param name="pooled">The pooled values the forward pass wrote.</param>
        /// <param name="indices">Per pooled value, its maximum's position within the example.</param>
        /// <param name="batch">Examples.</param>
        /// <param name="channels">Channels (the convolution's output channels).</param>
        /// <param name="height">Input height.</param>
        /// <param name="width">Input width.</param>
        /// <param name="kernel">The pooling window's side.</param>
        /// <param name="stride">The step between windows.</param>
        /// <param name="outHeight">Pooled height.</param>
        /// <param name="outWidth">Pooled width.</param>
        /// <param name="weight">γ, <c>[channels]</c>.</param>
        /// <param name="bias">β, <c>[channels]</c>.</param>
        /// <param name="savedMean">The forward pass's batch mean.</param>
        /// <param name="savedInvStd">The forward pass's <c>1/√(var + ε)</c>.</param>
        /// <param name="weightGradient">Adds ∂L/∂γ.</param>
        /// <param name="biasGradient">Adds ∂L/∂β.</param>
        /// <param name="inputGradient">Room for ∂L/∂x, <c>[batch × channels × height × width]</c>, used only where the kernels run one after the other.</param>
        /// <param name="reluGradient">Room for the ReLU's gradient, <c>[batch × channels × height × width]</c>; the fused path keeps a plane of ∂x and the convolution's padded inputs there.</param>
        /// <param name="convolution">The convolution that produced <paramref name="x"/>.</param>
        /// <param name="convolutionInput">Its input, <c>[batch × inChannels × inHeight × inWidth]</c>.</param>
        /// <param name="convolutionWeights">Its weights.</param>
        /// <param name="convolutionWeightGradient">Receives (or, with <paramref name="accumulateConvolution"/>, adds) its ∂L/∂weights.</param>
        /// <param name="convolutionBiasGradient">Receives (or adds) its ∂L/∂bias; empty when it has no bias.</param>
        /// <param name="accumulateConvolution">Add to the convolution's gradients instead of overwriting them.</param>
        /// <param name="convolutionWorkspace">The convolution's scratch memory.</param>
        /// <param name="team">Threads the convolution's weight gradient may use (the kernels then run one after the other); null for the calling thread only.</param>
        /// <exception cref="ArgumentException">A span is shorter than the shapes say, or the convolution's output is not <c>channels × height × width</c>.</exception>
        public static void BatchNormReluMaxPoolBackward<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> pooledGradient, ReadOnlySpan<T> pooled, ReadOnlySpan<int> indices, int batch, int channels, int height, int width, int kernel, int stride, int outHeight, int outWidth,
            ReadOnlySpan<T> weight, ReadOnlySpan<T> bias, ReadOnlySpan<T> savedMean, ReadOnlySpan<T> savedInvStd, Span<T> weightGradient, Span<T> biasGradient, Span<T> inputGradient, Span<T> reluGradient,
            in PlaneConvolutionShape convolution, ReadOnlySpan<T> convolutionInput, ReadOnlySpan<T> convolutionWeights, Span<T> convolutionWeightGradient, Span<T> convolutionBiasGradient, bool accumulateConvolution, PlaneConvolutionWorkspace<T> convolutionWorkspace, WorkerTeam? team = null)
            where T : unmanaged, IBinaryFloatingPointIeee754<T>
        {
            ArgumentNullException.ThrowIfNull(convolutionWorkspace);
            if (convolution.OutChannels != channels || convolution.OutHeight != height || convolution.OutWidth != width)
            {
                throw new ArgumentException($"The convolution gives {convolution.OutChannels}×{convolution.OutHeight}×{convolution.OutWidth} per example, not the {channels}×{height}×{width} being normalised.", nameof(convolution));
            }

            bool fused = PooledFastPath<T>(batch, height, width, kernel, stride, outHeight, outWidth) && PlaneConvolution.TakesPlaneWeightGradients<T>(convolution)
                && (team is null || team.Threads == 1) && reluGradient.Length >= (long)height * width + ((long)batch * convolution.PaddedPlane) && convolutionWorkspace.Shape.Equals(convolution);
            if (!fused)
            {
                BatchNormReluMaxPoolBackward(x, pooledGradient, pooled, indices, batch, channels, height, width, kernel, stride, outHeight, outWidth, weight, bias, savedMean, savedInvStd, weightGradient, biasGradient, inputGradient, reluGradient);
                PlaneConvolution.Backward(convolution, convolutionInput, inputGradient, batch, convolutionWeights, convolutionWeightGradient, convolutionBiasGradient, accumulateConvolution, default, convolutionWorkspace, team);
                return;
            }

            int area = height * width, outArea = outHeight * outWidth, count = batch * channels * area, pooledCount = batch * channels * outArea;
            if (x.Length < count || reluGradient.Length < area || pooledGradient.Length < pooledCount || pooled.Length < pooledCount || indices.Length < pooledCount || convolutionInput.Length < batch * convolution.InputSize)
            {
                throw new ArgumentException("x, pooledGradient, pooled, indices, reluGradient or convolutionInput is shorter than the shapes say.");
            }

            if (weight.Length < channels || bias.Length < channels || savedMean.Length < channels || savedInvStd.Length < channels || weightGradient.Length < channels || biasGradient.Length < channels)
            {
                throw new ArgumentException($"A per-channel span is shorter than the {channels} channels.");
            }

            if (convolutionWeightGradient.Length != convolution.WeightCount || !(convolutionBiasGradient.Length == 0 || convolutionBiasGradient.Length == channels))
            {
                throw new ArgumentException($"The convolution's weight gradient must have {convolution.WeightCount} elements and its bias gradient {channels} or none, but have {convolutionWeightGradient.Length} and {convolutionBiasGradient.Length}.");
            }

            if (!accumulateConvolution)
            {
                convolutionWeightGradient.Clear();
                convolutionBiasGradient.Clear();
            }

            // Every example's input zero-bordered for the convolution's weight gradient, after a plane of scratch for ∂x.
            Span<float> plane = MemoryMarshal.Cast<T, float>(reluGradient).Slice(0, area), padded = MemoryMarshal.Cast<T, float>(reluGradient).Slice(area, batch * convolution.PaddedPlane);
            ReadOnlySpan<float> examples = MemoryMarshal.Cast<T, float>(convolutionInput);
            padded.Clear(); // the borders stay zero
            for (int b = 0; b < batch; b++)
            {
                PlaneConvolution.EmbedSingleChannel(convolution, examples.Slice(b * convolution.InputSize, convolution.InputSize), padded.Slice(b * convolution.PaddedPlane, convolution.PaddedPlane));
            }

            PooledBackward2x2(
                MemoryMarshal.Cast<T, float>(x), MemoryMarshal.Cast<T, float>(pooledGradient), MemoryMarshal.Cast<T, float>(pooled), indices, batch, channels, height, width, outHeight, outWidth,
                MemoryMarshal.Cast<T, float>(weight), MemoryMarshal.Cast<T, float>(savedMean), MemoryMarshal.Cast<T, float>(savedInvStd), MemoryMarshal.Cast<T, float>(weightGradient), MemoryMarshal.Cast<T, float>(biasGradient), plane,
                convolution, padded, MemoryMarshal.Cast<T, float>(convolutionWeightGradient), MemoryMarshal.Cast<T, float>(convolutionBiasGradient));
        }

        /// <summary>The fast path of <see cref="BatchNormReluMaxPoolBackward{T}(ReadOnlySpan{T}, ReadOnlySpan{T}, ReadOnlySpan{T}, ReadOnlySpan{int}, int, int, int, int, int, int, int, int, ReadOnlySpan{T}, ReadOnlySpan{T}, ReadOnlySpan{T}, ReadOnlySpan{T}, Span{T}, Span{T}, Span{T}, Span{T})"/>: whether it serves these shapes on this machine.</summary>
        private static bool PooledFastPath<T>(int batch, int height, int width, int kernel, int stride, int outHeight, int outWidth) =>
            typeof(T) == typeof(float) && kernel == 2 && stride == 2 && height == 2 * outHeight && width == 2 * outWidth && outWidth >= 8 && Avx2.IsSupported && batch * height * width >= 2;

        /// <summary>
        /// The fast path: per channel the sums over the maxima, then each example's plane of ∂x into
        /// <paramref name="inputGradient"/>; or, with <paramref name="padded"/> (every example's input, bordered) not empty,
        /// into <paramref name="inputGradient"/> as a one-plane scratch, added at once to the convolution's weight gradient
        /// (per channel the examples in the order the convolution's own weight gradient adds them, so the same bits).
        /// Channel by channel, so each channel's planes of x are still in the second-level cache from its sums.
        /// </summary>
        private static unsafe void PooledBackward2x2(ReadOnlySpan<float> x, ReadOnlySpan<float> pooledGradient, ReadOnlySpan<float> pooled, ReadOnlySpan<int> indices, int batch, int channels, int height, int width, int outHeight, int outWidth,
            ReadOnlySpan<float> weight, ReadOnlySpan<float> savedMean, ReadOnlySpan<float> savedInvStd, Span<float> weightGradient, Span<float> biasGradient, Span<float> inputGradient,
            in PlaneConvolutionShape convolution = default, ReadOnlySpan<float> padded = default, Span<float> convolutionWeightGradient = default, Span<float> convolutionBiasGradient = default)
        {
            int area = height * width, outArea = outHeight * outWidth, exampleStride = channels * area, paddedPlane = convolution.PaddedPlane;
            bool fold = !padded.IsEmpty;
            Span<float> constants = stackalloc float[PlaneConstants];
            fixed (float* input = x)
            {
                for (int c = 0; c < channels; c++)
                {
                    PooledChannelSums(input, pooledGradient, pooled, indices, batch, channels, area, outArea, c, weight, savedMean, savedInvStd, weightGradient, biasGradient, constants);
                    for (int b = 0; b < batch; b++)
                    {
                        int planeAt = (b * exampleStride) + (c * area);
                        PooledInputGradientPlane(ref Unsafe.AsRef<float>(input + planeAt), pooledGradient, pooled, indices, ((b * channels) + c) * outArea, c * area, width, outHeight, outWidth, constants, ref inputGradient[fold ? 0 : planeAt]);
                        if (fold)
                        {
                            PlaneConvolution.AddPlaneWeightGradient(convolution, padded.Slice(b * paddedPlane, paddedPlane), inputGradient, c, convolutionWeightGradient, convolutionBiasGradient);
                        }
                    }
                }
            }
        }

        /// <summary>The values per channel that <see cref="PooledChannelSums"/> hands to <see cref="PooledInputGradientPlane"/>: the mean and <see cref="NormalizeBackward{T}"/>'s k, q and r.</summary>
        private const int PlaneConstants = 4;

        /// <summary>
        /// Channel <paramref name="c"/>'s sums over the maxima only, Σ g and Σ g·(x − mean) with g the pooled gradient where the
        /// pooled value is positive: adds ∂β and ∂γ and writes what the input gradient's planes need into <paramref name="constants"/>.
        /// </summary>
        private static unsafe void PooledChannelSums(float* input, ReadOnlySpan<float> pooledGradient, ReadOnlySpan<float> pooled, ReadOnlySpan<int> indices, int batch, int channels, int area, int outArea, int c,
            ReadOnlySpan<float> weight, ReadOnlySpan<float> savedMean, ReadOnlySpan<float> savedInvStd, Span<float> weightGradient, Span<float> biasGradient, Span<float> constants)
        {
            ref float g = ref MemoryMarshal.GetReference(pooledGradient);
            ref float p = ref MemoryMarshal.GetReference(pooled);
            ref int index = ref MemoryMarshal.GetReference(indices);
            int exampleStride = channels * area, channelBase = c * area, n = batch * area;
            float mean = savedMean[c];
            double invStd = savedInvStd[c];
            Vector256<float> m = Vector256.Create(mean);
            double sumDy = 0, sumDyCentred = 0;
            for (int b = 0; b < batch; b++)
            {
                // As GatedSums: in float over the plane's maxima (a quarter of the plane, at most SumRun), then in double.
                float* plane = input + (b * exampleStride) + channelBase;
                int at = ((b * channels) + c) * outArea, w = 0;
                while (w <= outArea - 8)
                {
                    Vector256<float> s = default, d = default;
                    for (int end = Math.Min(outArea - 8, w + SumRun); w <= end; w += 8)
                    {
                        Vector256<float> gate = Vector256.GreaterThan(Vector256.LoadUnsafe(ref p, (nuint)(at + w)), Vector256<float>.Zero);
                        Vector256<float> gv = Vector256.LoadUnsafe(ref g, (nuint)(at + w)) & gate;
                        Vector256<int> positions = Vector256.LoadUnsafe(ref index, (nuint)(at + w)) - Vector256.Create(channelBase);
                        Vector256<float> xv = Avx2.GatherVector256(plane, positions, 4);
                        s += gv;
                        d = Fma.IsSupported ? Fma.MultiplyAdd(gv, xv - m, d) : d + (gv * (xv - m));
                    }

                    sumDy += Vector256.Sum(s);
                    sumDyCentred += Vector256.Sum(d);
                }

                float tailSum = 0, tailDot = 0;
                for (; w < outArea; w++)
                {
                    float gs = Unsafe.Add(ref p, at + w) > 0 ? Unsafe.Add(ref g, at + w) : 0;
                    tailSum += gs;
                    tailDot += gs * (plane[Unsafe.Add(ref index, at + w) - channelBase] - mean);
                }

                sumDy += tailSum;
                sumDyCentred += tailDot;
            }

            double sumDyXHat = sumDyCentred * invStd;
            biasGradient[c] += (float)sumDy;
            weightGradient[c] += (float)sumDyXHat;
            double k = weight[c] * invStd;
            constants[0] = mean;
            constants[1] = (float)k;
            constants[2] = (float)(-k * invStd * sumDyXHat / n);
            constants[3] = (float)(-k * sumDy / n);
        }

        /// <summary>
        /// One plane of the input gradient, <c>dx = k·g + (q·(x − mean) + r)</c> (as <see cref="NormalizeBackward{T}"/>), with g (the ReLU's gradient) made in registers
        /// from the pooled gradients and indices as <see cref="Pooling.MaxPoolBackward{T}(ReadOnlySpan{T}, ReadOnlySpan{int}, int, int, int, int, int, int, int, int, Span{T})"/> makes it.
        /// </summary>
        private static void PooledInputGradientPlane(ref float xPlane, ReadOnlySpan<float> pooledGradient, ReadOnlySpan<float> pooled, ReadOnlySpan<int> indices, int at, int channelBase, int width, int outHeight, int outWidth, ReadOnlySpan<float> constants, ref float dxPlane)
        {
            Vector256<int> lowPairs = Vector256.Create(0, 0, 1, 1, 2, 2, 3, 3), highPairs = Vector256.Create(4, 4, 5, 5, 6, 6, 7, 7);
            Vector256<int> columns = Vector256.Create(0, 1, 2, 3, 4, 5, 6, 7);
            ref float g = ref MemoryMarshal.GetReference(pooledGradient);
            ref float p = ref MemoryMarshal.GetReference(pooled);
            ref int index = ref MemoryMarshal.GetReference(indices);
            Vector256<float> mv = Vector256.Create(constants[0]), k = Vector256.Create(constants[1]), q = Vector256.Create(constants[2]), r = Vector256.Create(constants[3]);
            for (int oy = 0; oy < outHeight; oy++)
            {
                int rowAt = at + (oy * outWidth), top = 2 * oy * width;
                for (int ox = 0; ; ox += 8)
                {
                    ox = Math.Min(ox, outWidth - 8); // the last step overlaps the one before: the same values again
                    Vector256<float> gate = Vector256.GreaterThan(Vector256.LoadUnsafe(ref p, (nuint)(rowAt + ox)), Vector256<float>.Zero);
                    Vector256<float> gv = (Vector256.LoadUnsafe(ref g, (nuint)(rowAt + ox)) + Vector256<float>.Zero) & gate; // −0 becomes +0, as 0 + g does
                    Vector256<int> iv = Vector256.LoadUnsafe(ref index, (nuint)(rowAt + ox));
                    Vector256<float> gLow = Avx2.PermuteVar8x32(gv, lowPairs), gHigh = Avx2.PermuteVar8x32(gv, highPairs);
                    Vector256<int> iLow = Avx2.PermuteVar8x32(iv, lowPairs), iHigh = Avx2.PermuteVar8x32(iv, highPairs);
                    int first = top + (2 * ox);
                    Vector256<int> position = Vector256.Create(channelBase + first) + columns;
                    InputGradient8(ref xPlane, ref dxPlane, first, gLow & Vector256.Equals(iLow, position).AsSingle(), mv, k, q, r);
                    InputGradient8(ref xPlane, ref dxPlane, first + 8, gHigh & Vector256.Equals(iHigh, position + Vector256.Create(8)).AsSingle(), mv, k, q, r);
                    InputGradient8(ref xPlane, ref dxPlane, first + width, gLow & Vector256.Equals(iLow, position + Vector256.Create(width)).AsSingle(), mv, k, q, r);
                    InputGradient8(ref xPlane, ref dxPlane, first + width + 8, gHigh & Vector256.Equals(iHigh, position + Vector256.Create(width + 8)).AsSingle(), mv, k, q, r);
                    if (ox == outWidth - 8)
                    {
                        break;
                    }
                }
            }
        }

        /// <summary><c>dx = k·g + (q·(x − mean) + r)</c> at 8 positions: <see cref="NormalizeBackward{T}"/>'s operations.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void InputGradient8(ref float x, ref float dx, int at, Vector256<float> g, Vector256<float> mean, Vector256<float> k, Vector256<float> q, Vector256<float> r)
        {
            Vector256<float> v = Vector256.LoadUnsafe(ref x, (nuint)at) - mean;
            if (Fma.IsSupported)
            {
                Fma.MultiplyAdd(k, g, Fma.MultiplyAdd(q, v, r)).StoreUnsafe(ref dx, (nuint)at);
                return;
            }

            ((k * g) + ((q * v) + r)).StoreUnsafe(ref dx, (nuint)at);
        }
    }
}
