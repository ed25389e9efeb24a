using System;
using System.Diagnostics;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace StaticGrad.Kernels
{
    /// <summary>
    /// Batch normalisation (PyTorch's <c>BatchNorm1d</c>/<c>BatchNorm2d</c>, training and inference) and layer
    /// normalisation over the last dimension (<c>LayerNorm</c> with an element-wise affine), forward and backward.
    /// Statistics are summed in double, so that a large common offset does not cancel the variance away: layer norm in two
    /// passes (the mean, then the squared deviations from it), batch norm in one over values shifted by one of the channel's. The per-element passes run in the element type and are
    /// vectorised over contiguous runs (a channel's plane, a row's features) with a scalar tail. Parameter gradients
    /// accumulate (a step sums them over every use); input gradients are overwritten. Nothing is allocated and lengths
    /// are only asserted.
    /// </summary>
    public static partial class Normalization
    {
        /// <summary>
        /// Batch normalisation in training mode over <c>x[batch, channels, plane]</c> (NCHW with plane = H·W; a
        /// <c>BatchNorm1d</c> on <c>[batch, channels]</c> has plane 1). Per channel, over its n = batch·plane values:
        /// the mean and the biased variance normalise, <c>y = (x − mean)·invStd·weight + bias</c> with
        /// <c>invStd = 1/√(var + ε)</c>; the running statistics move by <paramref name="momentum"/> toward the mean and the
        /// unbiased variance <c>var·n/(n − 1)</c>, as PyTorch's. The mean and invStd are saved for
        /// <see cref="BatchNormBackward{T}"/>.
        /// </summary>
        /// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
        /// <param name="x">The input, <c>[batch × channels × plane]</c>.</param>
        /// <param name="batch">Examples.</param>
        /// <param name="channels">Channels.</param>
        /// <param name="plane">Values per channel per example (H·W; 1 for a <c>BatchNorm1d</c> on two dimensions).</param>
        /// <param name="weight">γ, <c>[channels]</c>.</param>
        /// <param name="bias">β, <c>[channels]</c>.</param>
        /// <param name="epsilon">Added to the variance (PyTorch's default 1e-5).</param>
        /// <param name="momentum">The running statistics' update weight (PyTorch's default 0.1).</param>
        /// <param name="runningMean">Updated in place, <c>[channels]</c>.</param>
        /// <param name="runningVar">Updated in place, <c>[channels]</c>.</param>
        /// <param name="y">Receives the output, <c>[batch × channels × plane]</c> (may be <paramref name="x"/> itself).</param>
        /// <param name="savedMean">Receives the batch mean, <c>[channels]</c>.</param>
        /// <param name="savedInvStd">Receives <c>1/√(var + ε)</c>, <c>[channels]</c>.</param>
        /// <param name="relu">Apply ReLU to the output in the same pass (<c>y = max(0, …)</c>): a ReLU that reads only this
        /// normalisation, folded in so its values go through memory once.</param>
        /// <param name="residual">Empty, or <c>[batch × channels × plane]</c> values added to the normalised ones before the
        /// ReLU: a residual block's <c>relu(x + bn(h))</c> in one pass, the normalisation's own values never stored (the same
        /// bits as the normalisation, then <see cref="Elementwise.AddRelu{T}"/> or an addition). The backward pass is
        /// <see cref="BatchNormBackward{T}"/> with <c>output</c> and <c>residualGradient</c>.</param>
        /// <exception cref="ArgumentOutOfRangeException">batch·plane is less than 2 (PyTorch: "Expected more than 1 value per channel when training").</exception>
        /// <exception cref="ArgumentException"><paramref name="residual"/> is neither empty nor as long as the input.</exception>
        public static void BatchNormTraining<T>(ReadOnlySpan<T> x, int batch, int channels, int plane, ReadOnlySpan<T> weight, ReadOnlySpan<T> bias, double epsilon, double momentum, Span<T> runningMean, Span<T> runningVar, Span<T> y, Span<T> savedMean, Span<T> savedInvStd, bool relu = false, ReadOnlySpan<T> residual = default)
            where T : unmanaged, IBinaryFloatingPointIeee754<T>
        {
            Debug.Assert(x.Length >= batch * channels * plane && y.Length >= batch * channels * plane, "x or y is shorter than batch × channels × plane.");
            Debug.Assert(weight.Length >= channels && bias.Length >= channels && runningMean.Length >= channels && runningVar.Length >= channels && savedMean.Length >= channels && savedInvStd.Length >= channels, "a per-channel span is shorter than channels.");
            int n = batch * plane;
            if (n < 2)
            {
                throw new ArgumentOutOfRangeException(nameof(batch), batch, $"Batch normalisation in training needs more than one value per channel, but batch × plane is {batch} × {plane}.");
            }

            CheckResidual(residual, batch, channels, plane, nameof(residual));
            ref T input = ref MemoryMarshal.GetReference(x);
            ref T output = ref MemoryMarshal.GetReference(y);
            ref T added = ref MemoryMarshal.GetReference(residual);
            bool add = !residual.IsEmpty;
            int stride = channels * plane;
            for (int c = 0; c < channels; c++)
            {
                (T m, T scale, T shift) = ChannelStatistics(ref input, batch, stride, plane, c, weight, bias, epsilon, momentum, runningMean, runningVar, savedMean, savedInvStd);
                for (int b = 0; b < batch; b++)
                {
                    int offset = (b * stride) + (c * plane);
                    Normalize(ref Unsafe.Add(ref input, offset), ref Unsafe.Add(ref output, offset), plane, m, scale, shift, relu, ref Unsafe.Add(ref added, add ? offset : 0), add);
                }
            }
        }

        /// <summary>Throws unless <paramref name="span"/> is empty or holds batch × channels × plane values.</summary>
        private static void CheckResidual<T>(ReadOnlySpan<T> span, int batch, int channels, int plane, string name)
        {
            if (!span.IsEmpty && span.Length < batch * channels * plane)
            {
                throw new ArgumentException($"{name} must be empty or hold batch × channels × plane = {batch} × {channels} × {plane} = {batch * channels * plane} values, but has length {span.Length}.", name);
            }
        }

        /// <summary>
        /// <see cref="BatchNormTraining{T}"/> with a ReLU and a max pooling after it, in one pass that never stores the ReLU's
        /// values: per channel the statistics as there, then each example's plane normalised and ReLU'd into
        /// <paramref name="plane"/> (a scratch of one plane) and pooled from it by <see cref="Pooling.MaxPool{T}"/>. The pooled
        /// values, their indices (within each example, as <see cref="Pooling.MaxPool{T}"/> gives them) and every statistic are
        /// the same bits as the three ops one after the other; the ReLU's backward is <see cref="BatchNormBackward{T}"/> with
        /// <c>relu: true</c>, which recomputes where the values were positive from <paramref name="x"/>.
        /// </summary>
        /// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
        /// <param name="x">The input, <c>[batch × channels × height × width]</c>.</param>
        /// <param name="batch">Examples.</param>
        /// <param name="channels">Channels.</param>
        /// <param name="height">Input height.</param>
        /// <param name="width">Input width.</param>
        /// <param name="weight">γ, <c>[channels]</c>.</param>
        /// <param name="bias">β, <c>[channels]</c>.</param>
        /// <param name="epsilon">Added to the variance.</param>
        /// <param name="momentum">The running statistics' update weight.</param>
        /// <param name="runningMean">Updated in place, <c>[channels]</c>.</param>
        /// <param name="runningVar">Updated in place, <c>[channels]</c>.</param>
        /// <param name="savedMean">Receives the batch mean, <c>[channels]</c>.</param>
        /// <param name="savedInvStd">Receives <c>1/√(var + ε)</c>, <c>[channels]</c>.</param>
        /// <param name="kernel">The pooling window's side.</param>
        /// <param name="stride">The step between windows.</param>
        /// <param name="outHeight">Pooled height.</param>
        /// <param name="outWidth">Pooled width.</param>
        /// <param name="pooled">Receives <c>[batch × channels × outHeight × outWidth]</c>.</param>
        /// <param name="indices">Receives, per pooled value, the position of its maximum within the example's input.</param>
        /// <param name="plane">Scratch of at least height·width values.</param>
        public static void BatchNormReluMaxPoolTraining<T>(ReadOnlySpan<T> x, int batch, int channels, int height, int width, ReadOnlySpan<T> weight, ReadOnlySpan<T> bias, double epsilon, double momentum, Span<T> runningMean, Span<T> runningVar, Span<T> savedMean, Span<T> savedInvStd, int kernel, int stride, int outHeight, int outWidth, Span<T> pooled, Span<int> indices, Span<T> plane)
            where T : unmanaged, IBinaryFloatingPointIeee754<T>
        {
            int area = height * width, outArea = outHeight * outWidth, n = batch * area;
            if (x.Length < batch * channels * area || pooled.Length < batch * channels * outArea || indices.Length < batch * channels * outArea || plane.Length < area)
            {
                throw new ArgumentException("x, pooled, indices or plane is shorter than the shapes say.");
            }

            if (n < 2)
            {
                throw new ArgumentOutOfRangeException(nameof(batch), batch, $"Batch normalisation in training needs more than one value per channel, but batch × plane is {batch} × {area}.");
            }

            Debug.Assert(weight.Length >= channels && bias.Length >= channels && runningMean.Length >= channels && runningVar.Length >= channels && savedMean.Length >= channels && savedInvStd.Length >= channels, "a per-channel span is shorter than channels.");
            ref T input = ref MemoryMarshal.GetReference(x);
            ref T scratch = ref MemoryMarshal.GetReference(plane);
            int exampleStride = channels * area;
            bool direct = typeof(T) == typeof(float) && kernel == 2 && stride == 2 && outWidth >= 8 && Vector256.IsHardwareAccelerated && BitConverter.IsLittleEndian;
            for (int c = 0; c < channels; c++)
            {
                (T m, T scale, T shift) = ChannelStatistics(ref input, batch, exampleStride, area, c, weight, bias, epsilon, momentum, runningMean, runningVar, savedMean, savedInvStd);
                if (direct)
                {
                    // The common 2×2 window of stride 2: the pooling normalises and ReLUs the rows as it reads them, no scratch.
                    var values = new NormalizedRelu(float.CreateTruncating(m), float.CreateTruncating(scale), float.CreateTruncating(shift));
                    for (int b = 0; b < batch; b++)
                    {
                        int at = ((b * channels) + c) * outArea;
                        Pooling.MaxPool2x2(ref Unsafe.As<T, float>(ref Unsafe.Add(ref input, (b * exampleStride) + (c * area))), 1, 1, height, width, outHeight, outWidth,
                            ref Unsafe.As<T, float>(ref pooled[at]), ref indices[at], c * area, values);
                    }

                    continue;
                }

                for (int b = 0; b < batch; b++)
                {
                    Normalize(ref Unsafe.Add(ref input, (b * exampleStride) + (c * area)), ref scratch, area, m, scale, shift, relu: true, ref scratch, add: false);
                    int at = ((b * channels) + c) * outArea;
                    Span<int> planeIndices = indices.Slice(at, outArea);
                    Pooling.MaxPool((ReadOnlySpan<T>)plane, 1, 1, height, width, kernel, stride, outHeight, outWidth, pooled.Slice(at, outArea), planeIndices);
                    int channelBase = c * area;
                    for (int i = 0; i < planeIndices.Length; i++)
                    {
                        planeIndices[i] += channelBase;
                    }
                }
            }
        }

        /// <summary>
        /// One channel's batch statistics over its n = batch·plane values: saves the mean and invStd, moves the running
        /// statistics, and returns the normalisation's <c>(mean, invStd·γ, β)</c>.
        /// </summary>
        private static (T Mean, T Scale, T Shift) ChannelStatistics<T>(ref T input, int batch, int stride, int plane, int c, ReadOnlySpan<T> weight, ReadOnlySpan<T> bias, double epsilon, double momentum, Span<T> runningMean, Span<T> runningVar, Span<T> savedMean, Span<T> savedInvStd)
            where T : unmanaged, IBinaryFloatingPointIeee754<T>
        {
            // One pass over the channel: the sums of (x − k) and (x − k)², k its first value. Shifted by a value of the channel,
            // the squares do not grow with a large common offset, so the variance keeps its digits as a second pass's would.
            int n = batch * plane;
            T first = Unsafe.Add(ref input, c * plane);
            double shift = double.CreateTruncating(first), sum = 0, squares = 0;
            for (int b = 0; b < batch; b++)
            {
                (double s, double q) = ShiftedSums(ref Unsafe.Add(ref input, (b * stride) + (c * plane)), plane, first);
                sum += s;
                squares += q;
            }

            double mean = shift + (sum / n);
            double variance = Math.Max(0, (squares - (sum * sum / n)) / n);
            double invStd = 1.0 / Math.Sqrt(variance + epsilon);
            savedMean[c] = T.CreateTruncating(mean);
            savedInvStd[c] = T.CreateTruncating(invStd);
            runningMean[c] = T.CreateTruncating(((1.0 - momentum) * double.CreateTruncating(runningMean[c])) + (momentum * mean));
            runningVar[c] = T.CreateTruncating(((1.0 - momentum) * double.CreateTruncating(runningVar[c])) + (momentum * variance * n / (n - 1)));
            return (T.CreateTruncating(mean), T.CreateTruncating(invStd) * weight[c], bias[c]);
        }

        /// <summary>
        /// Batch normalisation in inference mode: <c>y = (x − runningMean)/√(runningVar + ε)·weight + bias</c>, per channel.
        /// </summary>
        /// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
        /// <param name="x">The input, <c>[batch × channels × plane]</c>.</param>
        /// <param name="batch">Examples.</param>
        /// <param name="channels">Channels.</param>
        /// <param name="plane">Values per channel per example.</param>
        /// <param name="weight">γ, <c>[channels]</c>.</param>
        /// <param name="bias">β, <c>[channels]</c>.</param>
        /// <param name="runningMean">The running mean, <c>[channels]</c>.</param>
        /// <param name="runningVar">The running variance, <c>[channels]</c>.</param>
        /// <param name="epsilon">Added to the variance.</param>
        /// <param name="y">Receives the output, <c>[batch × channels × plane]</c> (may be <paramref name="x"/> itself).</param>
        /// <param name="relu">Apply ReLU to the output in the same pass.</param>
        /// <param name="residual">Empty, or values added to the normalised ones before the ReLU (as in <see cref="BatchNormTraining{T}"/>).</param>
        /// <exception cref="ArgumentException"><paramref name="residual"/> is neither empty nor as long as the input.</exception>
        public static void BatchNormInference<T>(ReadOnlySpan<T> x, int batch, int channels, int plane, ReadOnlySpan<T> weight, ReadOnlySpan<T> bias, ReadOnlySpan<T> runningMean, ReadOnlySpan<T> runningVar, double epsilon, Span<T> y, bool relu = false, ReadOnlySpan<T> residual = default)
            where T : unmanaged, IBinaryFloatingPointIeee754<T>
        {
            Debug.Assert(x.Length >= batch * channels * plane && y.Length >= batch * channels * plane, "x or y is shorter than batch × channels × plane.");
            Debug.Assert(weight.Length >= channels && bias.Length >= channels && runningMean.Length >= channels && runningVar.Length >= channels, "a per-channel span is shorter than channels.");
            CheckResidual(residual, batch, channels, plane, nameof(residual));
            ref T input = ref MemoryMarshal.GetReference(x);
            ref T output = ref MemoryMarshal.GetReference(y);
            ref T added = ref MemoryMarshal.GetReference(residual);
            bool add = !residual.IsEmpty;
            int stride = channels * plane;
            for (int c = 0; c < channels; c++)
            {
                double invStd = 1.0 / Math.Sqrt(double.CreateTruncating(runningVar[c]) + epsilon);
                T m = runningMean[c], scale = T.CreateTruncating(invStd * double.CreateTruncating(weight[c])), shift = bias[c];
                for (int b = 0; b < batch; b++)
                {
                    int offset = (b * stride) + (c * plane);
                    Normalize(ref Unsafe.Add(ref input, offset), ref Unsafe.Add(ref output, offset), plane, m, scale, shift, relu, ref Unsafe.Add(ref added, add ? offset : 0), add);
                }
            }
        }

        /// <summary>
        /// Batch normalisation's training-mode backward pass, with <c>x̂ = (x − mean)·invStd</c> and n = batch·plane:
        /// <c>dBias += Σ dy</c>, <c>dWeight += Σ dy·x̂</c> (accumulated), and
        /// <c>dx = weight·invStd/n · (n·dy − Σ dy − x̂·Σ dy·x̂)</c> (overwritten).
        /// </summary>
        /// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
        /// <param name="x">The forward input, <c>[batch × channels × plane]</c>.</param>
        /// <param name="outputGradient">∂L/∂y, <c>[batch × channels × plane]</c>.</param>
        /// <param name="batch">Examples.</param>
        /// <param name="channels">Channels.</param>
        /// <param name="plane">Values per channel per example.</param>
        /// <param name="weight">γ, <c>[channels]</c>.</param>
        /// <param name="savedMean">The forward pass's batch mean, <c>[channels]</c>.</param>
        /// <param name="savedInvStd">The forward pass's <c>1/√(var + ε)</c>, <c>[channels]</c>.</param>
        /// <param name="weightGradient">∂L/∂γ is added to it, <c>[channels]</c>.</param>
        /// <param name="biasGradient">∂L/∂β is added to it, <c>[channels]</c>.</param>
        /// <param name="inputGradient">Receives ∂L/∂x, <c>[batch × channels × plane]</c> (may be <paramref name="outputGradient"/> itself).</param>
        /// <param name="relu">Whether the forward pass had a ReLU folded in (<see cref="BatchNormTraining{T}"/> with <c>relu: true</c>):
        /// then <paramref name="outputGradient"/> is the gradient with respect to the ReLU's output, and it reaches the
        /// normalisation only where that output is positive (<c>dy·[y &gt; 0]</c>, ReLU's backward pass in the same reads). Which
        /// outputs were positive is recomputed from <paramref name="x"/> with the forward pass's own arithmetic (the same bits),
        /// so the ReLU's output is not read again (unless <paramref name="output"/> is given).</param>
        /// <param name="bias">β, <c>[channels]</c>, when <paramref name="relu"/> is set and <paramref name="output"/> is empty (the
        /// forward pass's shift); otherwise unused.</param>
        /// <param name="output">Empty, or with <paramref name="relu"/> the forward pass's output (the ReLU's values,
        /// <c>[batch × channels × plane]</c>), read for where it was positive instead of recomputing that: needed after a
        /// forward pass with a <c>residual</c>, whose sum the normalisation alone does not give.</param>
        /// <param name="residualGradient">Empty, or receives the gradient of the forward pass's <c>residual</c>
        /// (<c>dy·[y &gt; 0]</c> with <paramref name="relu"/>, else dy), overwritten, in the same pass as
        /// <paramref name="inputGradient"/>: the backward pass of a residual block's addition, folded in.</param>
        /// <exception cref="ArgumentException"><paramref name="relu"/> is set, <paramref name="output"/> is empty and
        /// <paramref name="bias"/> does not hold a value per channel; or <paramref name="output"/> or
        /// <paramref name="residualGradient"/> is neither empty nor as long as the input.</exception>
        public static void BatchNormBackward<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> outputGradient, int batch, int channels, int plane, ReadOnlySpan<T> weight, ReadOnlySpan<T> savedMean, ReadOnlySpan<T> savedInvStd, Span<T> weightGradient, Span<T> biasGradient, Span<T> inputGradient, bool relu = false, ReadOnlySpan<T> bias = default, ReadOnlySpan<T> output = default, Span<T> residualGradient = default)
            where T : unmanaged, IBinaryFloatingPointIeee754<T>
        {
            int count = batch * channels * plane;
            Debug.Assert(x.Length >= count && outputGradient.Length >= count && inputGradient.Length >= count, "x or a gradient is shorter than batch × channels × plane.");
            bool stored = relu && !output.IsEmpty, writeResidual = !residualGradient.IsEmpty;
            if (relu && !stored && bias.Length < channels)
            {
                throw new ArgumentException($"With relu, bias must hold the forward pass's β, {channels} values, but has length {bias.Length}.", nameof(bias));
            }

            CheckResidual(output, batch, channels, plane, nameof(output));
            CheckResidual((ReadOnlySpan<T>)residualGradient, batch, channels, plane, nameof(residualGradient));

            Debug.Assert(weight.Length >= channels && savedMean.Length >= channels && savedInvStd.Length >= channels && weightGradient.Length >= channels && biasGradient.Length >= channels, "a per-channel span is shorter than channels.");
            ref T input = ref MemoryMarshal.GetReference(x);
            ref T dY = ref MemoryMarshal.GetReference(outputGradient);
            ref T dX = ref MemoryMarshal.GetReference(inputGradient);
            ref T z = ref stored ? ref MemoryMarshal.GetReference(output) : ref input;
            ref T dR = ref MemoryMarshal.GetReference(residualGradient);
            int stride = channels * plane, n = batch * plane;
            for (int c = 0; c < channels; c++)
            {
                double invStd = double.CreateTruncating(savedInvStd[c]);
                double sumDy = 0, sumDyXHat = 0;

                // The folded ReLU's mask: its stored output, or the forward pass's y = (x − mean)·scale + shift recomputed as
                // BatchNormTraining computed it. The gradient that passes it, g, is kept where the second pass reads it: the
                // residual's gradient (which it is), or the input gradient's own room (overwritten there).
                var gate = new ReluGate<T>(relu, stored, savedMean[c], savedInvStd[c] * weight[c], relu && !stored ? bias[c] : T.Zero);
                ref T g = ref writeResidual ? ref dR : ref dX;
                T m = savedMean[c];
                for (int b = 0; b < batch; b++)
                {
                    int offset = (b * stride) + (c * plane);
                    (double dy, double dyCentred) = GatedSums(ref Unsafe.Add(ref dY, offset), gate, ref Unsafe.Add(ref input, offset), ref Unsafe.Add(ref z, offset), ref Unsafe.Add(ref g, offset), plane, m);
                    sumDy += dy;
                    sumDyXHat += dyCentred;
                }

                sumDyXHat *= invStd;
                biasGradient[c] += T.CreateTruncating(sumDy);
                weightGradient[c] += T.CreateTruncating(sumDyXHat);

                // dx = k·(g − Σg/n − x̂·Σg·x̂/n) with k = weight·invStd and x̂ = (x − mean)·invStd, as k·g + (q·(x − mean) + r).
                double k = double.CreateTruncating(weight[c]) * invStd;
                T kT = T.CreateTruncating(k), q = T.CreateTruncating(-k * invStd * sumDyXHat / n), r = T.CreateTruncating(-k * sumDy / n);
                for (int b = 0; b < batch; b++)
                {
                    int offset = (b * stride) + (c * plane);
                    NormalizeBackward(ref Unsafe.Add(ref input, offset), ref Unsafe.Add(ref g, offset), ref Unsafe.Add(ref dX, offset), plane, m, kT, q, r);
                }
            }
        }

        /// <summary>
        /// Layer normalisation over the last dimension of <c>x[rows, features]</c>, with an element-wise affine:
        /// <c>y = (x − mean)·invStd·weight + bias</c>, the mean and the biased variance taken over each row's features and
        /// <c>invStd = 1/√(var + ε)</c>. Each row's mean and invStd are saved for <see cref="LayerNormBackward{T}(ReadOnlySpan{T}, ReadOnlySpan{T}, int, int, ReadOnlySpan{T}, ReadOnlySpan{T}, ReadOnlySpan{T}, Span{T}, Span{T}, Span{T}, bool)"/>.
        /// </summary>
        /// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
        /// <param name="x">The input, <c>[rows × features]</c>.</param>
        /// <param name="rows">Rows (every dimension before the normalised one, multiplied).</param>
        /// <param name="features">Values normalised together.</param>
        /// <param name="weight">γ, <c>[features]</c>.</param>
        /// <param name="bias">β, <c>[features]</c>.</param>
        /// <param name="epsilon">Added to the variance (PyTorch's default 1e-5).</param>
        /// <param name="y">Receives the output, <c>[rows × features]</c> (may be <paramref name="x"/> itself).</param>
        /// <param name="savedMean">Receives each row's mean, <c>[rows]</c>.</param>
        /// <param name="savedInvStd">Receives each row's <c>1/√(var + ε)</c>, <c>[rows]</c>.</param>
        public static void LayerNorm<T>(ReadOnlySpan<T> x, int rows, int features, ReadOnlySpan<T> weight, ReadOnlySpan<T> bias, double epsilon, Span<T> y, Span<T> savedMean, Span<T> savedInvStd)
            where T : unmanaged, IBinaryFloatingPointIeee754<T>
        {
            Debug.Assert(x.Length >= rows * features && y.Length >= rows * features, "x or y is shorter than rows × features.");
            Debug.Assert(weight.Length >= features && bias.Length >= features && savedMean.Length >= rows && savedInvStd.Length >= rows, "weight, bias or a saved statistic is too short.");
            ref T input = ref MemoryMarshal.GetReference(x);
            ref T output = ref MemoryMarshal.GetReference(y);
            ref T w = ref MemoryMarshal.GetReference(weight);
            ref T beta = ref MemoryMarshal.GetReference(bias);
            for (int r = 0; r < rows; r++)
            {
                ref T row = ref Unsafe.Add(ref input, r * features);
                ref T outRow = ref Unsafe.Add(ref output, r * features);
                double mean = Sum(ref row, features) / features;
                double variance = SquaredDeviations(ref row, features, mean) / features;
                double invStd = 1.0 / Math.Sqrt(variance + epsilon);
                savedMean[r] = T.CreateTruncating(mean);
                savedInvStd[r] = T.CreateTruncating(invStd);

                T m = T.CreateTruncating(mean), s = T.CreateTruncating(invStd);
                int j = 0;
                if (Vector256.IsHardwareAccelerated)
                {
                    Vector256<T> mv = Vector256.Create(m), sv = Vector256.Create(s);
                    for (; j <= features - Vector256<T>.Count; j += Vector256<T>.Count)
                    {
                        var xHat = (Vector256.LoadUnsafe(ref row, (nuint)j) - mv) * sv;
                        ((xHat * Vector256.LoadUnsafe(ref w, (nuint)j)) + Vector256.LoadUnsafe(ref beta, (nuint)j)).StoreUnsafe(ref outRow, (nuint)j);
                    }
                }
                else if (Vector128.IsHardwareAccelerated)
                {
                    Vector128<T> mv = Vector128.Create(m), sv = Vector128.Create(s);
                    for (; j <= features - Vector128<T>.Count; j += Vector128<T>.Count)
                    {
                        var xHat = (Vector128.LoadUnsafe(ref row, (nuint)j) - mv) * sv;
                        ((xHat * Vector128.LoadUnsafe(ref w, (nuint)j)) + Vector128.LoadUnsafe(ref beta, (nuint)j)).StoreUnsafe(ref outRow, (nuint)j);
                    }
                }

                for (; j < features; j++)
                {
                    Unsafe.Add(ref outRow, j) = ((Unsafe.Add(ref row, j) - m) * s * Unsafe.Add(ref w, j)) + Unsafe.Add(ref beta, j);
                }
            }
        }

        /// <summary>
        /// Layer normalisation's backward pass, with <c>x̂ = (x − mean)·invStd</c> per row and <c>g = dy·weight</c>:
        /// <c>dWeight += Σ_rows dy·x̂</c>, <c>dBias += Σ_rows dy</c> (accumulated), and
        /// <c>dx = invStd·(g − mean(g) − x̂·mean(g·x̂))</c>, the means over the row's features (overwritten).
        /// </summary>
        /// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
        /// <param name="x">The forward input, <c>[rows × features]</c>.</param>
        /// <param name="outputGradient">∂L/∂y, <c>[rows × features]</c>.</param>
        /// <param name="rows">Rows.</param>
        /// <param name="features">Values normalised together.</param>
        /// <param name="weight">γ, <c>[features]</c>.</param>
        /// <param name="savedMean">The forward pass's row means, <c>[rows]</c>.</param>
        /// <param name="savedInvStd">The forward pass's <c>1/√(var + ε)</c>, <c>[rows]</c>.</param>
        /// <param name="weightGradient">∂L/∂γ is added to it, <c>[features]</c>.</param>
        /// <param name="biasGradient">∂L/∂β is added to it, <c>[features]</c>.</param>
        /// <param name="inputGradient">Receives ∂L/∂x, <c>[rows × features]</c> (may be <paramref name="outputGradient"/> itself, unless <paramref name="accumulateInput"/>).</param>
        /// <param name="accumulateInput">Add ∂L/∂x to <paramref name="inputGradient"/> instead of overwriting it (the input is used elsewhere too).</param>
        public static void LayerNormBackward<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> outputGradient, int rows, int features, ReadOnlySpan<T> weight, ReadOnlySpan<T> savedMean, ReadOnlySpan<T> savedInvStd, Span<T> weightGradient, Span<T> biasGradient, Span<T> inputGradient, bool accumulateInput = false)
            where T : unmanaged, IBinaryFloatingPointIeee754<T>
        {
            Debug.Assert(x.Length >= rows * features && outputGradient.Length >= rows * features && inputGradient.Length >= rows * features, "x or a gradient is shorter than rows × features.");
            Debug.Assert(weight.Length >= features && weightGradient.Length >= features && biasGradient.Length >= features && savedMean.Length >= rows && savedInvStd.Length >= rows, "a parameter span or a saved statistic is too short.");
            ref T input = ref MemoryMarshal.GetReference(x);
            ref T dYs = ref MemoryMarshal.GetReference(outputGradient);
            ref T dXs = ref MemoryMarshal.GetReference(inputGradient);
            ref T w = ref MemoryMarshal.GetReference(weight);
            ref T dW = ref MemoryMarshal.GetReference(weightGradient);
            ref T dB = ref MemoryMarshal.GetReference(biasGradient);
            for (int r = 0; r < rows; r++)
            {
                ref T row = ref Unsafe.Add(ref input, r * features);
                ref T dY = ref Unsafe.Add(ref dYs, r * features);
                ref T dX = ref Unsafe.Add(ref dXs, r * features);
                T m = savedMean[r], s = savedInvStd[r];

                // One pass: the parameter gradients and the two row sums (in double) that dx needs.
                double sumG = 0, sumGXHat = 0;
                int j = 0;
                if (typeof(T) == typeof(float) && Vector256.IsHardwareAccelerated && features >= 8)
                {
                    // Eight features at a time: the products in float, as the scalar loop forms them, widened into double sums.
                    ref float rowF = ref Unsafe.As<T, float>(ref row), dYF = ref Unsafe.As<T, float>(ref dY), wF = ref Unsafe.As<T, float>(ref w);
                    ref float dWF = ref Unsafe.As<T, float>(ref dW), dBF = ref Unsafe.As<T, float>(ref dB);
                    Vector256<float> mv = Vector256.Create(float.CreateTruncating(m)), sv = Vector256.Create(float.CreateTruncating(s));
                    Vector256<double> g0 = default, g1 = default, h0 = default, h1 = default;
                    for (; j <= features - 8; j += 8)
                    {
                        Vector256<float> dy = Vector256.LoadUnsafe(ref dYF, (nuint)j);
                        Vector256<float> xHat = (Vector256.LoadUnsafe(ref rowF, (nuint)j) - mv) * sv;
                        Vector256<float> g = dy * Vector256.LoadUnsafe(ref wF, (nuint)j);
                        (Vector256.LoadUnsafe(ref dWF, (nuint)j) + (dy * xHat)).StoreUnsafe(ref dWF, (nuint)j);
                        (Vector256.LoadUnsafe(ref dBF, (nuint)j) + dy).StoreUnsafe(ref dBF, (nuint)j);
                        Vector256<float> gx = g * xHat;
                        g0 += Vector256.WidenLower(g);
                        g1 += Vector256.WidenUpper(g);
                        h0 += Vector256.WidenLower(gx);
                        h1 += Vector256.WidenUpper(gx);
                    }

                    sumG = Vector256.Sum(g0 + g1);
                    sumGXHat = Vector256.Sum(h0 + h1);
                }

                for (; j < features; j++)
                {
                    T dy = Unsafe.Add(ref dY, j);
                    T xHat = (Unsafe.Add(ref row, j) - m) * s;
                    T g = dy * Unsafe.Add(ref w, j);
                    Unsafe.Add(ref dW, j) += dy * xHat;
                    Unsafe.Add(ref dB, j) += dy;
                    sumG += double.CreateTruncating(g);
                    sumGXHat += double.CreateTruncating(g * xHat);
                }

                T meanG = T.CreateTruncating(sumG / features), meanGXHat = T.CreateTruncating(sumGXHat / features);
                int i = 0;
                if (Vector256.IsHardwareAccelerated)
                {
                    Vector256<T> mv = Vector256.Create(m), sv = Vector256.Create(s), a = Vector256.Create(meanG), c = Vector256.Create(meanGXHat);
                    for (; i <= features - Vector256<T>.Count; i += Vector256<T>.Count)
                    {
                        var xHat = (Vector256.LoadUnsafe(ref row, (nuint)i) - mv) * sv;
                        var g = Vector256.LoadUnsafe(ref dY, (nuint)i) * Vector256.LoadUnsafe(ref w, (nuint)i);
                        var d = sv * (g - a - (xHat * c));
                        (accumulateInput ? d + Vector256.LoadUnsafe(ref dX, (nuint)i) : d).StoreUnsafe(ref dX, (nuint)i);
                    }
                }
                else if (Vector128.IsHardwareAccelerated)
                {
                    Vector128<T> mv = Vector128.Create(m), sv = Vector128.Create(s), a = Vector128.Create(meanG), c = Vector128.Create(meanGXHat);
                    for (; i <= features - Vector128<T>.Count; i += Vector128<T>.Count)
                    {
                        var xHat = (Vector128.LoadUnsafe(ref row, (nuint)i) - mv) * sv;
                        var g = Vector128.LoadUnsafe(ref dY, (nuint)i) * Vector128.LoadUnsafe(ref w, (nuint)i);
                        var d = sv * (g - a - (xHat * c));
                        (accumulateInput ? d + Vector128.LoadUnsafe(ref dX, (nuint)i) : d).StoreUnsafe(ref dX, (nuint)i);
                    }
                }

                for (; i < features; i++)
                {
                    T xHat = (Unsafe.Add(ref row, i) - m) * s;
                    T g = Unsafe.Add(ref dY, i) * Unsafe.Add(ref w, i);
                    T d = s * (g - meanG - (xHat * meanGXHat));
                    Unsafe.Add(ref dX, i) = accumulateInput ? Unsafe.Add(ref dX, i) + d : d;
                }
            }
        }

        // The reductions below add in double, as PyTorch's CPU kernels do (their accumulation type for float is double): a
        // float run is loaded 16 at a time with AVX-512 (32 with two loads) or 8 with AVX2 and widened into four double
        // accumulators (four vectors in flight), what is left after the wide loop goes through the narrower one, and a
        // double run adds into two; the order of the additions therefore differs between machines in the last bits.

        /// <summary>Σ values in double.</summary>
        private static double Sum<T>(ref T values, int length)
            where T : unmanaged, IBinaryFloatingPointIeee754<T>
        {
            int i = 0;
            double sum = 0;
            if (typeof(T) == typeof(float) && Vector512.IsHardwareAccelerated && length >= 32)
            {
                ref float v = ref Unsafe.As<T, float>(ref values);
                Vector512<double> a0 = default, a1 = default, a2 = default, a3 = default;
                for (; i <= length - 32; i += 32)
                {
                    Vector512<float> f0 = Vector512.LoadUnsafe(ref v, (nuint)i), f1 = Vector512.LoadUnsafe(ref v, (nuint)(i + 16));
                    a0 += Vector512.WidenLower(f0);
                    a1 += Vector512.WidenUpper(f0);
                    a2 += Vector512.WidenLower(f1);
                    a3 += Vector512.WidenUpper(f1);
                }

                sum = Vector512.Sum((a0 + a1) + (a2 + a3));
            }

            if (typeof(T) == typeof(float) && Vector256.IsHardwareAccelerated && length - i >= 16)
            {
                ref float v = ref Unsafe.As<T, float>(ref values);
                Vector256<double> a0 = default, a1 = default, a2 = default, a3 = default;
                for (; i <= length - 16; i += 16)
                {
                    Vector256<float> f0 = Vector256.LoadUnsafe(ref v, (nuint)i), f1 = Vector256.LoadUnsafe(ref v, (nuint)(i + 8));
                    a0 += Vector256.WidenLower(f0);
                    a1 += Vector256.WidenUpper(f0);
                    a2 += Vector256.WidenLower(f1);
                    a3 += Vector256.WidenUpper(f1);
                }

                sum += Vector256.Sum((a0 + a1) + (a2 + a3));
            }
            else if (typeof(T) == typeof(double) && Vector256.IsHardwareAccelerated && length >= 8)
            {
                ref double v = ref Unsafe.As<T, double>(ref values);
                Vector256<double> a0 = default, a1 = default;
                for (; i <= length - 8; i += 8)
                {
                    a0 += Vector256.LoadUnsafe(ref v, (nuint)i);
                    a1 += Vector256.LoadUnsafe(ref v, (nuint)(i + 4));
                }

                sum = Vector256.Sum(a0 + a1);
            }

            for (; i < length; i++)
            {
                sum += double.CreateTruncating(Unsafe.Add(ref values, i));
            }

            return sum;
        }

        /// <summary>
        /// (Σ (value − shift), Σ (value − shift)²) in one pass: each difference and square in <typeparamref name="T"/>, summed
        /// in <typeparamref name="T"/> over runs of at most <see cref="SumRun"/> values and those in double.
        /// </summary>
        private static (double Sum, double Squares) ShiftedSums<T>(ref T values, int length, T shift)
            where T : unmanaged, IBinaryFloatingPointIeee754<T>
        {
            int i = 0;
            double sum = 0, squares = 0;
            if (Vector512.IsHardwareAccelerated && Avx512F.IsSupported && length >= Vector512<T>.Count)
            {
                Vector512<T> k = Vector512.Create(shift);
                while (i <= length - Vector512<T>.Count)
                {
                    Vector512<T> s = default, q = default;
                    for (int end = Math.Min(length - Vector512<T>.Count, i + SumRun); i <= end; i += Vector512<T>.Count)
                    {
                        Vector512<T> d = Vector512.LoadUnsafe(ref values, (nuint)i) - k;
                        s += d;
                        q = VectorOps.MultiplyAdd(d, d, q);
                    }

                    sum += double.CreateTruncating(Vector512.Sum(s));
                    squares += double.CreateTruncating(Vector512.Sum(q));
                }
            }

            if (Vector256.IsHardwareAccelerated && Fma.IsSupported && length - i >= Vector256<T>.Count)
            {
                Vector256<T> k = Vector256.Create(shift);
                while (i <= length - Vector256<T>.Count)
                {
                    Vector256<T> s = default, q = default;
                    for (int end = Math.Min(length - Vector256<T>.Count, i + SumRun); i <= end; i += Vector256<T>.Count)
                    {
                        Vector256<T> d = Vector256.LoadUnsafe(ref values, (nuint)i) - k;
                        s += d;
                        q = VectorOps.MultiplyAdd(d, d, q);
                    }

                    sum += double.CreateTruncating(Vector256.Sum(s));
                    squares += double.CreateTruncating(Vector256.Sum(q));
                }
            }
            else if (Vector128.IsHardwareAccelerated && length - i >= Vector128<T>.Count)
            {
                Vector128<T> k = Vector128.Create(shift);
                while (i <= length - Vector128<T>.Count)
                {
                    Vector128<T> s = default, q = default;
                    for (int end = Math.Min(length - Vector128<T>.Count, i + SumRun); i <= end; i += Vector128<T>.Count)
                    {
                        Vector128<T> d = Vector128.LoadUnsafe(ref values, (nuint)i) - k;
                        s += d;
                        q += d * d;
                    }

                    sum += double.CreateTruncating(Vector128.Sum(s));
                    squares += double.CreateTruncating(Vector128.Sum(q));
                }
            }

            for (; i < length; i++)
            {
                double d = double.CreateTruncating(Unsafe.Add(ref values, i) - shift);
                sum += d;
                squares += d * d;
            }

            return (sum, squares);
        }

        /// <summary>Σ (value − mean)² in double.</summary>
        private static double SquaredDeviations<T>(ref T values, int length, double mean)
            where T : unmanaged, IBinaryFloatingPointIeee754<T>
        {
            int i = 0;
            double sum = 0;
            if (typeof(T) == typeof(float) && Vector512.IsHardwareAccelerated && length >= 32)
            {
                ref float v = ref Unsafe.As<T, float>(ref values);
                Vector512<double> m = Vector512.Create(mean), a0 = default, a1 = default, a2 = default, a3 = default;
                for (; i <= length - 32; i += 32)
                {
                    Vector512<float> f0 = Vector512.LoadUnsafe(ref v, (nuint)i), f1 = Vector512.LoadUnsafe(ref v, (nuint)(i + 16));
                    Vector512<double> d0 = Vector512.WidenLower(f0) - m, d1 = Vector512.WidenUpper(f0) - m;
                    Vector512<double> d2 = Vector512.WidenLower(f1) - m, d3 = Vector512.WidenUpper(f1) - m;
                    a0 += d0 * d0;
                    a1 += d1 * d1;
                    a2 += d2 * d2;
                    a3 += d3 * d3;
                }

                sum = Vector512.Sum((a0 + a1) + (a2 + a3));
            }

            if (typeof(T) == typeof(float) && Vector256.IsHardwareAccelerated && length - i >= 16)
            {
                ref float v = ref Unsafe.As<T, float>(ref values);
                Vector256<double> m = Vector256.Create(mean), a0 = default, a1 = default, a2 = default, a3 = default;
                for (; i <= length - 16; i += 16)
                {
                    Vector256<float> f0 = Vector256.LoadUnsafe(ref v, (nuint)i), f1 = Vector256.LoadUnsafe(ref v, (nuint)(i + 8));
                    Vector256<double> d0 = Vector256.WidenLower(f0) - m, d1 = Vector256.WidenUpper(f0) - m;
                    Vector256<double> d2 = Vector256.WidenLower(f1) - m, d3 = Vector256.WidenUpper(f1) - m;
                    a0 += d0 * d0;
                    a1 += d1 * d1;
                    a2 += d2 * d2;
                    a3 += d3 * d3;
                }

                sum += Vector256.Sum((a0 + a1) + (a2 + a3));
            }
            else if (typeof(T) == typeof(double) && Vector256.IsHardwareAccelerated && length >= 8)
            {
                ref double v = ref Unsafe.As<T, double>(ref values);
                Vector256<double> m = Vector256.Create(mean), a0 = default, a1 = default;
                for (; i <= length - 8; i += 8)
                {
                    Vector256<double> d0 = Vector256.LoadUnsafe(ref v, (nuint)i) - m, d1 = Vector256.LoadUnsafe(ref v, (nuint)(i + 4)) - m;
                    a0 += d0 * d0;
                    a1 += d1 * d1;
                }

                sum = Vector256.Sum(a0 + a1);
            }

            for (; i < length; i++)
            {
                double d = double.CreateTruncating(Unsafe.Add(ref values, i)) - mean;
                sum += d * d;
            }

            return sum;
        }

        /// <summary>
        /// The first pass of batch norm's backward over a contiguous run: <c>g = dy</c>, or with a folded ReLU
        /// (<paramref name="gate"/>) 0 where the forward pass's output (<paramref name="z"/> if stored) was not positive, written
        /// to <paramref name="g"/> (which may be <paramref name="dy"/>); returns (Σ g, Σ g·(x − mean)), summed in
        /// <typeparamref name="T"/> over runs of at most <see cref="SumRun"/> values and those in double.
        /// </summary>
        private static (double Sum, double Dot) GatedSums<T>(ref T dy, in ReluGate<T> gate, ref T x, ref T z, ref T g, int length, T mean)
            where T : unmanaged, IBinaryFloatingPointIeee754<T>
        {
            int i = 0;
            double sum = 0, dot = 0;
            if (Vector512.IsHardwareAccelerated && Avx512F.IsSupported && length >= Vector512<T>.Count)
            {
                Vector512<T> m = Vector512.Create(mean);
                while (i <= length - Vector512<T>.Count)
                {
                    Vector512<T> s = default, d = default;
                    for (int end = Math.Min(length - Vector512<T>.Count, i + SumRun); i <= end; i += Vector512<T>.Count)
                    {
                        Vector512<T> gv = Vector512.LoadUnsafe(ref dy, (nuint)i), xv = Vector512.LoadUnsafe(ref x, (nuint)i);
                        if (gate.Relu)
                        {
                            gv &= Vector512.GreaterThan(gate.Stored ? Vector512.LoadUnsafe(ref z, (nuint)i) : gate.Output(xv), Vector512<T>.Zero);
                        }

                        gv.StoreUnsafe(ref g, (nuint)i);
                        s += gv;
                        d = VectorOps.MultiplyAdd(gv, xv - m, d);
                    }

                    sum += double.CreateTruncating(Vector512.Sum(s));
                    dot += double.CreateTruncating(Vector512.Sum(d));
                }
            }

            if (Vector256.IsHardwareAccelerated && Fma.IsSupported && length - i >= Vector256<T>.Count)
            {
                Vector256<T> m = Vector256.Create(mean);
                while (i <= length - Vector256<T>.Count)
                {
                    Vector256<T> s = default, d = default;
                    for (int end = Math.Min(length - Vector256<T>.Count, i + SumRun); i <= end; i += Vector256<T>.Count)
                    {
                        Vector256<T> gv = Vector256.LoadUnsafe(ref dy, (nuint)i), xv = Vector256.LoadUnsafe(ref x, (nuint)i);
                        if (gate.Relu)
                        {
                            gv &= Vector256.GreaterThan(gate.Stored ? Vector256.LoadUnsafe(ref z, (nuint)i) : gate.Output(xv), Vector256<T>.Zero);
                        }

                        gv.StoreUnsafe(ref g, (nuint)i);
                        s += gv;
                        d = VectorOps.MultiplyAdd(gv, xv - m, d);
                    }

                    sum += double.CreateTruncating(Vector256.Sum(s));
                    dot += double.CreateTruncating(Vector256.Sum(d));
                }
            }
            else if (Vector128.IsHardwareAccelerated && length - i >= Vector128<T>.Count)
            {
                Vector128<T> m = Vector128.Create(mean);
                while (i <= length - Vector128<T>.Count)
                {
                    Vector128<T> s = default, d = default;
                    for (int end = Math.Min(length - Vector128<T>.Count, i + SumRun); i <= end; i += Vector128<T>.Count)
                    {
                        Vector128<T> gv = Vector128.LoadUnsafe(ref dy, (nuint)i), xv = Vector128.LoadUnsafe(ref x, (nuint)i);
                        if (gate.Relu)
                        {
                            gv &= Vector128.GreaterThan(gate.Stored ? Vector128.LoadUnsafe(ref z, (nuint)i) : gate.Output(xv), Vector128<T>.Zero);
                        }

                        gv.StoreUnsafe(ref g, (nuint)i);
                        s += gv;
                        d += gv * (xv - m);
                    }

                    sum += double.CreateTruncating(Vector128.Sum(s));
                    dot += double.CreateTruncating(Vector128.Sum(d));
                }
            }

            T tailSum = T.Zero, tailDot = T.Zero;
            for (; i < length; i++)
            {
                T gi = gate.Relu && !(gate.Value(ref x, ref z, i) > T.Zero) ? T.Zero : Unsafe.Add(ref dy, i);
                Unsafe.Add(ref g, i) = gi;
                tailSum += gi;
                tailDot += gi * (Unsafe.Add(ref x, i) - mean);
            }

            return (sum + double.CreateTruncating(tailSum), dot + double.CreateTruncating(tailDot));
        }

        /// <summary>Values <see cref="GatedSums{T}"/> and <see cref="ShiftedSums{T}"/> add in the element type before their sums go on in double (64 additions per lane of a Vector512 of floats).</summary>
        private const int SumRun = 1024;

        /// <summary>
        /// <c>y = (x − mean)·scale + shift</c> over a contiguous run; with <paramref name="add"/>, plus <paramref name="residual"/>'s
        /// value; with <paramref name="relu"/>, <c>max(0, …)</c> of it.
        /// </summary>
        private static void Normalize<T>(ref T x, ref T y, int length, T mean, T scale, T shift, bool relu, ref T residual, bool add)
            where T : unmanaged, IBinaryFloatingPointIeee754<T>
        {
            int i = 0;
            if (Vector512.IsHardwareAccelerated && length >= Vector512<T>.Count)
            {
                Vector512<T> m = Vector512.Create(mean), k = Vector512.Create(scale), b = Vector512.Create(shift);
                for (; i <= length - Vector512<T>.Count; i += Vector512<T>.Count)
                {
                    Vector512<T> v = ((Vector512.LoadUnsafe(ref x, (nuint)i) - m) * k) + b;
                    if (add)
                    {
                        v += Vector512.LoadUnsafe(ref residual, (nuint)i);
                    }

                    (relu ? Vector512.ConditionalSelect(Vector512.LessThan(v, Vector512<T>.Zero), Vector512<T>.Zero, v) : v).StoreUnsafe(ref y, (nuint)i);
                }
            }

            if (Vector256.IsHardwareAccelerated && length - i >= Vector256<T>.Count)
            {
                Vector256<T> m = Vector256.Create(mean), k = Vector256.Create(scale), b = Vector256.Create(shift);
                for (; i <= length - Vector256<T>.Count; i += Vector256<T>.Count)
                {
                    Vector256<T> v = ((Vector256.LoadUnsafe(ref x, (nuint)i) - m) * k) + b;
                    if (add)
                    {
                        v += Vector256.LoadUnsafe(ref residual, (nuint)i);
                    }

                    (relu ? Vector256.ConditionalSelect(Vector256.LessThan(v, Vector256<T>.Zero), Vector256<T>.Zero, v) : v).StoreUnsafe(ref y, (nuint)i); // ReLU as Elementwise.Relu: a NaN is kept
                }
            }
            else if (Vector128.IsHardwareAccelerated && length >= Vector128<T>.Count)
            {
                Vector128<T> m = Vector128.Create(mean), k = Vector128.Create(scale), b = Vector128.Create(shift);
                for (; i <= length - Vector128<T>.Count; i += Vector128<T>.Count)
                {
                    Vector128<T> v = ((Vector128.LoadUnsafe(ref x, (nuint)i) - m) * k) + b;
                    if (add)
                    {
                        v += Vector128.LoadUnsafe(ref residual, (nuint)i);
                    }

                    (relu ? Vector128.ConditionalSelect(Vector128.LessThan(v, Vector128<T>.Zero), Vector128<T>.Zero, v) : v).StoreUnsafe(ref y, (nuint)i);
                }
            }

            for (; i < length; i++)
            {
                T v = ((Unsafe.Add(ref x, i) - mean) * scale) + shift;
                if (add)
                {
                    v += Unsafe.Add(ref residual, i);
                }

                Unsafe.Add(ref y, i) = relu && v < T.Zero ? T.Zero : v;
            }
        }

        /// <summary>
        /// The second pass of batch norm's backward over a contiguous run: <c>dx = k·g + (q·(x − mean) + r)</c>, the gated
        /// gradient <paramref name="g"/> of the first pass (<see cref="GatedSums{T}"/>; it may be <paramref name="dx"/> itself).
        /// </summary>
        private static void NormalizeBackward<T>(ref T x, ref T g, ref T dx, int length, T mean, T k, T q, T r)
            where T : unmanaged, IBinaryFloatingPointIeee754<T>
        {
            int i = 0;
            if (Vector512.IsHardwareAccelerated && Avx512F.IsSupported && length >= Vector512<T>.Count)
            {
                Vector512<T> m = Vector512.Create(mean), kv = Vector512.Create(k), qv = Vector512.Create(q), rv = Vector512.Create(r);
                for (; i <= length - Vector512<T>.Count; i += Vector512<T>.Count)
                {
                    Vector512<T> t = VectorOps.MultiplyAdd(qv, Vector512.LoadUnsafe(ref x, (nuint)i) - m, rv);
                    VectorOps.MultiplyAdd(kv, Vector512.LoadUnsafe(ref g, (nuint)i), t).StoreUnsafe(ref dx, (nuint)i);
                }
            }

            if (Vector256.IsHardwareAccelerated && Fma.IsSupported && length - i >= Vector256<T>.Count)
            {
                Vector256<T> m = Vector256.Create(mean), kv = Vector256.Create(k), qv = Vector256.Create(q), rv = Vector256.Create(r);
                for (; i <= length - Vector256<T>.Count; i += Vector256<T>.Count)
                {
                    Vector256<T> t = VectorOps.MultiplyAdd(qv, Vector256.LoadUnsafe(ref x, (nuint)i) - m, rv);
                    VectorOps.MultiplyAdd(kv, Vector256.LoadUnsafe(ref g, (nuint)i), t).StoreUnsafe(ref dx, (nuint)i);
                }
            }
            else if (Vector128.IsHardwareAccelerated && length - i >= Vector128<T>.Count)
            {
                Vector128<T> m = Vector128.Create(mean), kv = Vector128.Create(k), qv = Vector128.Create(q), rv = Vector128.Create(r);
                for (; i <= length - Vector128<T>.Count; i += Vector128<T>.Count)
                {
                    Vector128<T> t = (qv * (Vector128.LoadUnsafe(ref x, (nuint)i) - m)) + rv;
                    ((kv * Vector128.LoadUnsafe(ref g, (nuint)i)) + t).StoreUnsafe(ref dx, (nuint)i);
                }
            }

            for (; i < length; i++)
            {
                T t = (q * (Unsafe.Add(ref x, i) - mean)) + r;
                Unsafe.Add(ref dx, i) = (k * Unsafe.Add(ref g, i)) + t;
            }
        }

        /// <summary>
        /// Values pooled straight from batch norm's input: <c>max(0, ((x − mean)·scale) + shift)</c> with the same operations as
        /// <see cref="Normalize{T}"/> (so the same bits), computed as the pooling reads each row.
        /// </summary>
        private readonly struct NormalizedRelu : Pooling.IPoolValues
        {
            private readonly Vector256<float> _mean, _scale, _shift;

            public NormalizedRelu(float mean, float scale, float shift)
            {
                _mean = Vector256.Create(mean);
                _scale = Vector256.Create(scale);
                _shift = Vector256.Create(shift);
            }

            public Vector256<float> Load(ref float at)
            {
                Vector256<float> v = ((Vector256.LoadUnsafe(ref at) - _mean) * _scale) + _shift;
                return Vector256.ConditionalSelect(Vector256.LessThan(v, Vector256<float>.Zero), Vector256<float>.Zero, v); // a NaN is kept, as Normalize keeps it
            }
        }

        /// <summary>
        /// A ReLU folded into batch norm, seen from the backward pass: the forward pass's output <c>((x − mean)·scale) + shift</c>
        /// recomputed with the same operations in the same order (so the same bits, whether the forward pass took a vector or
        /// the scalar tail), or read where it was stored (<see cref="Stored"/>: after a residual was added), to tell where the
        /// ReLU let the gradient through.
        /// </summary>
        private readonly struct ReluGate<T>
            where T : unmanaged, IBinaryFloatingPointIeee754<T>
        {
            private readonly T _mean, _scale, _shift;

            public ReluGate(bool relu, bool stored, T mean, T scale, T shift)
            {
                Relu = relu;
                Stored = relu && stored;
                _mean = mean;
                _scale = scale;
                _shift = shift;
            }

            /// <summary>Whether a ReLU was folded in; if not, every gradient passes.</summary>
            public bool Relu { get; }

            /// <summary>Whether the ReLU's output is read from memory (the <c>z</c> of the loops) instead of recomputed from x.</summary>
            public bool Stored { get; }

            /// <summary>The forward pass's output at position <paramref name="i"/>: stored in <paramref name="z"/>, or recomputed from <paramref name="x"/>.</summary>
            public T Value(ref T x, ref T z, int i) => Stored ? Unsafe.Add(ref z, i) : Output(Unsafe.Add(ref x, i));

            public T Output(T x) => ((x - _mean) * _scale) + _shift;

            public Vector512<T> Output(Vector512<T> x) => ((x - Vector512.Create(_mean)) * Vector512.Create(_scale)) + Vector512.Create(_shift);

            public Vector256<T> Output(Vector256<T> x) => ((x - Vector256.Create(_mean)) * Vector256.Create(_scale)) + Vector256.Create(_shift);

            public Vector128<T> Output(Vector128<T> x) => ((x - Vector128.Create(_mean)) * Vector128.Create(_scale)) + Vector128.Create(_shift);
        }
    }
}
