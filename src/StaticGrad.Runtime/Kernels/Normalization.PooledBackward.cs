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

            if (typeof(T) != typeof(float) || kernel != 2 || stride != 2 || height != 2 * outHeight || width != 2 * outWidth || outWidth < 8 || !Avx2.IsSupported || batch * area < 2)
            {
                Pooling.MaxPoolBackward(pooledGradient, indices, batch, channels, height, width, kernel, stride, outHeight, outWidth, reluGradient);
                BatchNormBackward(x, reluGradient, batch, channels, area, weight, savedMean, savedInvStd, weightGradient, biasGradient, inputGradient, relu: true, bias: bias);
                return;
            }

            PooledBackward2x2(
                MemoryMarshal.Cast<T, float>(x), MemoryMarshal.Cast<T, float>(pooledGradient), MemoryMarshal.Cast<T, float>(pooled), indices, batch, channels, height, width, outHeight, outWidth,
                MemoryMarshal.Cast<T, float>(weight), MemoryMarshal.Cast<T, float>(savedMean), MemoryMarshal.Cast<T, float>(savedInvStd), MemoryMarshal.Cast<T, float>(weightGradient), MemoryMarshal.Cast<T, float>(biasGradient), MemoryMarshal.Cast<T, float>(inputGradient));
        }

        private static unsafe void PooledBackward2x2(ReadOnlySpan<float> x, ReadOnlySpan<float> pooledGradient, ReadOnlySpan<float> pooled, ReadOnlySpan<int> indices, int batch, int channels, int height, int width, int outHeight, int outWidth,
            ReadOnlySpan<float> weight, ReadOnlySpan<float> savedMean, ReadOnlySpan<float> savedInvStd, Span<float> weightGradient, Span<float> biasGradient, Span<float> inputGradient)
        {
            int area = height * width, outArea = outHeight * outWidth, exampleStride = channels * area, n = batch * area;
            Vector256<int> lowPairs = Vector256.Create(0, 0, 1, 1, 2, 2, 3, 3), highPairs = Vector256.Create(4, 4, 5, 5, 6, 6, 7, 7);
            Vector256<int> columns = Vector256.Create(0, 1, 2, 3, 4, 5, 6, 7);
            ref float g = ref MemoryMarshal.GetReference(pooledGradient);
            ref float p = ref MemoryMarshal.GetReference(pooled);
            ref int index = ref MemoryMarshal.GetReference(indices);
            ref float dX = ref MemoryMarshal.GetReference(inputGradient);
            fixed (float* input = x)
            {
                for (int c = 0; c < channels; c++)
                {
                    double mean = savedMean[c], invStd = savedInvStd[c];
                    int channelBase = c * area;

                    // The sums over the maxima only: Σ g and Σ g·(x − mean), g the pooled gradient where the pooled value is positive.
                    Vector256<double> m = Vector256.Create(mean), s0 = default, s1 = default, d0 = default, d1 = default;
                    double sumDy = 0, sumDyCentred = 0;
                    for (int b = 0; b < batch; b++)
                    {
                        float* plane = input + (b * exampleStride) + channelBase;
                        int at = ((b * channels) + c) * outArea, w = 0;
                        for (; w <= outArea - 8; w += 8)
                        {
                            Vector256<float> gate = Vector256.GreaterThan(Vector256.LoadUnsafe(ref p, (nuint)(at + w)), Vector256<float>.Zero);
                            Vector256<float> gv = Vector256.LoadUnsafe(ref g, (nuint)(at + w)) & gate;
                            Vector256<int> positions = Vector256.LoadUnsafe(ref index, (nuint)(at + w)) - Vector256.Create(channelBase);
                            Vector256<float> xv = Avx2.GatherVector256(plane, positions, 4);
                            Vector256<double> g0 = Vector256.WidenLower(gv), g1 = Vector256.WidenUpper(gv);
                            s0 += g0;
                            s1 += g1;
                            d0 += g0 * (Vector256.WidenLower(xv) - m);
                            d1 += g1 * (Vector256.WidenUpper(xv) - m);
                        }

                        for (; w < outArea; w++)
                        {
                            float pv = Unsafe.Add(ref p, at + w);
                            double gs = pv > 0 ? Unsafe.Add(ref g, at + w) : 0;
                            sumDy += gs;
                            sumDyCentred += gs * (plane[Unsafe.Add(ref index, at + w) - channelBase] - mean);
                        }
                    }

                    sumDy += Vector256.Sum(s0 + s1);
                    sumDyCentred += Vector256.Sum(d0 + d1);
                    double sumDyXHat = sumDyCentred * invStd;
                    biasGradient[c] += (float)sumDy;
                    weightGradient[c] += (float)sumDyXHat;

                    // dx = k·(g − Σg/n − x̂·Σg·x̂/n), with g made from the pooled gradient as Pooling.MaxPoolBackward makes it.
                    Vector256<float> k = Vector256.Create((float)(weight[c] * invStd)), mv = Vector256.Create((float)mean), sv = Vector256.Create((float)invStd);
                    Vector256<float> meanDy = Vector256.Create((float)(sumDy / n)), meanDyXHat = Vector256.Create((float)(sumDyXHat / n));
                    for (int b = 0; b < batch; b++)
                    {
                        int planeAt = (b * exampleStride) + channelBase, at = ((b * channels) + c) * outArea;
                        ref float xPlane = ref Unsafe.AsRef<float>(input + planeAt);
                        ref float dxPlane = ref Unsafe.Add(ref dX, planeAt);
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
                                InputGradient8(ref xPlane, ref dxPlane, first, gLow & Vector256.Equals(iLow, position).AsSingle(), k, mv, sv, meanDy, meanDyXHat);
                                InputGradient8(ref xPlane, ref dxPlane, first + 8, gHigh & Vector256.Equals(iHigh, position + Vector256.Create(8)).AsSingle(), k, mv, sv, meanDy, meanDyXHat);
                                InputGradient8(ref xPlane, ref dxPlane, first + width, gLow & Vector256.Equals(iLow, position + Vector256.Create(width)).AsSingle(), k, mv, sv, meanDy, meanDyXHat);
                                InputGradient8(ref xPlane, ref dxPlane, first + width + 8, gHigh & Vector256.Equals(iHigh, position + Vector256.Create(width + 8)).AsSingle(), k, mv, sv, meanDy, meanDyXHat);
                                if (ox == outWidth - 8)
                                {
                                    break;
                                }
                            }
                        }
                    }
                }
            }
        }

        /// <summary><c>dx = k·(g − meanDy − x̂·meanDyXHat)</c> at 8 positions, <c>x̂ = (x − mean)·invStd</c>: <see cref="NormalizeBackward{T}"/>'s operations.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void InputGradient8(ref float x, ref float dx, int at, Vector256<float> g, Vector256<float> k, Vector256<float> mean, Vector256<float> invStd, Vector256<float> meanDy, Vector256<float> meanDyXHat)
        {
            Vector256<float> xHat = (Vector256.LoadUnsafe(ref x, (nuint)at) - mean) * invStd;
            (k * (g - meanDy - (xHat * meanDyXHat))).StoreUnsafe(ref dx, (nuint)at);
        }
    }
}
