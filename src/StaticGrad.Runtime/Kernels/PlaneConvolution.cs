using System;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace StaticGrad.Kernels
{
    /// <summary>
    /// Stride-1 2-D convolution, forward and backward, computed directly on zero-padded planes (see
    /// <see cref="PlaneConvolutionShape"/>): no im2col buffer, no layout turns, every operand of a step in the first cache
    /// levels. Layout is PyTorch's NCHW throughout; weights are <c>[out, in, k, k]</c>.
    /// </summary>
    /// <remarks>
    /// <para>Forward, per example: <c>y[o, p] = b[o] + Σ_{c,ky,kx} w[o,c,ky,kx] · x̂[c, p + ky·paddedWidth + kx]</c> over the
    /// "wide" positions p of the padded plane x̂; a register tile holds 4 output channels × 4 vectors of positions
    /// (Vector512, 16 accumulators) or 6 × 2 (Vector256 + FMA, 12 accumulators; 4 × 2 for the channels left over), so each
    /// step is a few shifted loads, one broadcast weight per channel and 16 (or 12) FMAs.</para>
    /// <para>Weight gradient: <c>∂w[o,c,ky,kx] = Σ_examples Σ_p ∂y[o,p] · x̂[c, p + ky·paddedWidth + kx]</c>, tiles of 4 output
    /// channels × 4 (or 2) taps accumulated over a chunk of examples before one horizontal sum each.</para>
    /// <para>Input gradient: the same correlation as the forward pass, run on ∂y bordered by <c>kernel − 1</c> zeros with the
    /// weights flipped and their channel axes swapped: <c>∂x[c,i,j] = Σ_{o,ky,kx} w[o,c,k−1−ky,k−1−kx] · ∂ŷ[o, i+ky, j+kx]</c>.</para>
    /// <para>Each kernel has a Vector512 (AVX-512F), a Vector256 + FMA and a scalar path; the JIT keeps one. With a
    /// <see cref="WorkerTeam"/>, the batch's examples are split between its threads.</para>
    /// </remarks>
    public static partial class PlaneConvolution
    {
        /// <summary>The forward pass over a batch: <c>output = conv(input, weights) + bias</c>.</summary>
        /// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
        /// <param name="shape">The convolution.</param>
        /// <param name="input">The batch, <c>[batch × inChannels × height × width]</c>.</param>
        /// <param name="batch">Examples.</param>
        /// <param name="weights"><c>[outChannels × inChannels × kernel × kernel]</c>.</param>
        /// <param name="bias"><c>[outChannels]</c>, or empty for none.</param>
        /// <param name="output">Receives <c>[batch × outChannels × outHeight × outWidth]</c>.</param>
        /// <param name="workspace">The layer's scratch memory (one region per thread that works on it).</param>
        /// <param name="team">Threads to split the batch's examples across; null for the calling thread only.</param>
        /// <exception cref="ArgumentException">A span is shorter (or, for weights and bias, longer) than the shape says, or the workspace was made for another shape.</exception>
        public static unsafe void Forward<T>(in PlaneConvolutionShape shape, ReadOnlySpan<T> input, int batch, ReadOnlySpan<T> weights, ReadOnlySpan<T> bias, Span<T> output, PlaneConvolutionWorkspace<T> workspace, WorkerTeam? team = null)
            where T : unmanaged, IBinaryFloatingPointIeee754<T>
        {
            CheckCommon(shape, input, batch, weights, workspace);
            if (!(bias.Length == 0 || bias.Length == shape.OutChannels))
            {
                Throw(nameof(bias), $"{shape.OutChannels} elements or empty", bias.Length);
            }

            if (!(output.Length >= batch * shape.OutputSize))
            {
                Throw(nameof(output), $"at least {batch} × {shape.OutputSize} elements", output.Length);
            }

            int parts = Parts(shape, batch, team);
            if (parts == 1)
            {
                ForwardExamples(shape, input, batch, weights, bias, output, workspace.Part(0));
                return;
            }

            workspace.Prepare(team!.Threads); // the team runs one part per thread
            fixed (T* pInput = input, pWeights = weights, pBias = bias, pOutput = output)
            {
                var job = new ForwardJob<T>
                {
                    Shape = shape, Input = pInput, Weights = pWeights, Bias = pBias, HasBias = bias.Length != 0, Output = pOutput, Batch = batch, Workspace = workspace,
                };
                team.Run(ref job);
            }
        }

        /// <summary>The forward pass over <paramref name="batch"/> examples on one thread, in one scratch region.</summary>
        private static void ForwardExamples<T>(in PlaneConvolutionShape shape, ReadOnlySpan<T> input, int batch, ReadOnlySpan<T> weights, ReadOnlySpan<T> bias, Span<T> output, Span<T> scratch)
            where T : unmanaged, IBinaryFloatingPointIeee754<T>
        {
            if (SingleChannel<T>(shape))
            {
                ForwardSingleChannel(shape, Floats(input), batch, Floats(weights), Floats(bias), Floats(output), Floats(scratch));
                return;
            }

            if (ChannelsLast<T>(shape.Taps, shape.OutChannels))
            {
                ForwardChannelsLast(shape, input, batch, weights, bias, output, scratch);
                return;
            }

            int taps = shape.Taps, outRounded = shape.OutChannelsRounded, paddedPlane = shape.PaddedPlane, wide = shape.WideLength;
            Span<T> w = scratch.Slice(0, outRounded * taps);
            Span<T> padded = scratch.Slice(w.Length, shape.InChannels * paddedPlane);
            Span<T> result = scratch.Slice(w.Length + padded.Length, outRounded * wide);
            weights.CopyTo(w);
            w.Slice(weights.Length).Clear(); // the channels that round the tile up to 4 have zero weights
            padded.Clear(); // the borders stay zero; each example writes only the interior

            int inputSize = shape.InputSize, outputSize = shape.OutputSize, interior = (shape.Padding * shape.PaddedWidth) + shape.Padding;
            for (int b = 0; b < batch; b++)
            {
                Embed(input.Slice(b * inputSize, inputSize), shape.InChannels, shape.Height, shape.Width, padded, paddedPlane, shape.PaddedWidth, interior);
                Correlate(ref MemoryMarshal.GetReference(padded), paddedPlane, shape.PaddedWidth, shape.InChannels, shape.Kernel, ref MemoryMarshal.GetReference(w), taps, outRounded, ref MemoryMarshal.GetReference(result), wide, bias);
                Extract(result, wide, shape.PaddedWidth, 0, shape.OutChannels, shape.OutHeight, shape.OutWidth, output.Slice(b * outputSize, outputSize));
            }
        }

        /// <summary>
        /// The backward pass over a batch: the weight gradient, the bias gradient and, when <paramref name="inputGradient"/> is
        /// not empty, the input gradient.
        /// </summary>
        /// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
        /// <param name="shape">The convolution.</param>
        /// <param name="input">The batch the forward pass ran on, <c>[batch × inChannels × height × width]</c>.</param>
        /// <param name="outputGradient">∂L/∂output, <c>[batch × outChannels × outHeight × outWidth]</c>.</param>
        /// <param name="batch">Examples.</param>
        /// <param name="weights"><c>[outChannels × inChannels × kernel × kernel]</c>.</param>
        /// <param name="weightGradient">Receives (or, with <paramref name="accumulate"/>, adds) ∂L/∂weights.</param>
        /// <param name="biasGradient">Receives (or adds) ∂L/∂bias, <c>[outChannels]</c>; empty when the layer has no bias.</param>
        /// <param name="accumulate">Add to the gradients instead of overwriting them.</param>
        /// <param name="inputGradient">Receives ∂L/∂input, <c>[batch × inChannels × height × width]</c>; empty to skip it.</param>
        /// <param name="workspace">The layer's scratch memory (one region per thread that works on it).</param>
        /// <param name="team">Threads to split the batch's examples across (each sums its own share of the weight gradient,
        /// added in part order afterwards, so a given thread count always gives the same result); null for the calling thread only.</param>
        /// <param name="accumulateInputGradient">Add ∂L/∂input to what <paramref name="inputGradient"/> holds (a value other ops
        /// also read, as a residual block's input) instead of overwriting it.</param>
        /// <exception cref="ArgumentException">A span is shorter (or, for weights and gradients, longer) than the shape says, or the workspace was made for another shape.</exception>
        public static unsafe void Backward<T>(in PlaneConvolutionShape shape, ReadOnlySpan<T> input, ReadOnlySpan<T> outputGradient, int batch, ReadOnlySpan<T> weights, Span<T> weightGradient, Span<T> biasGradient, bool accumulate, Span<T> inputGradient, PlaneConvolutionWorkspace<T> workspace, WorkerTeam? team = null, bool accumulateInputGradient = false)
            where T : unmanaged, IBinaryFloatingPointIeee754<T>
        {
            CheckCommon(shape, input, batch, weights, workspace);
            if (!(outputGradient.Length >= batch * shape.OutputSize))
            {
                Throw(nameof(outputGradient), $"at least {batch} × {shape.OutputSize} elements", outputGradient.Length);
            }

            if (!(weightGradient.Length == shape.WeightCount))
            {
                Throw(nameof(weightGradient), $"{shape.WeightCount} elements", weightGradient.Length);
            }

            if (!(biasGradient.Length == 0 || biasGradient.Length == shape.OutChannels))
            {
                Throw(nameof(biasGradient), $"{shape.OutChannels} elements or empty", biasGradient.Length);
            }

            if (!(inputGradient.Length == 0 || inputGradient.Length >= batch * shape.InputSize))
            {
                Throw(nameof(inputGradient), $"at least {batch} × {shape.InputSize} elements, or empty", inputGradient.Length);
            }

            if (!accumulate)
            {
                weightGradient.Clear();
                biasGradient.Clear();
            }

            int parts = Parts(shape, batch, team);
            if (parts == 1)
            {
                BackwardExamples(shape, input, outputGradient, batch, weights, weightGradient, biasGradient, inputGradient, accumulateInputGradient, workspace.Part(0));
                return;
            }

            workspace.Prepare(team!.Threads); // the team runs one part per thread
            fixed (T* pInput = input, pOutputGradient = outputGradient, pWeights = weights, pWeightGradient = weightGradient, pBiasGradient = biasGradient, pInputGradient = inputGradient)
            {
                var job = new BackwardJob<T>
                {
                    Shape = shape, Input = pInput, OutputGradient = pOutputGradient, Weights = pWeights, WeightGradient = pWeightGradient, BiasGradient = pBiasGradient,
                    HasBias = biasGradient.Length != 0, InputGradient = pInputGradient, HasInputGradient = inputGradient.Length != 0, AddInputGradient = accumulateInputGradient, Batch = batch, Workspace = workspace,
                };
                team.Run(ref job);

                // Parts 1… summed their shares of ∂W and ∂b apart; add them in part order (part 0 wrote into the gradients).
                for (int part = 1; part < job.PartsRun; part++)
                {
                    Span<T> partial = workspace.Partial(part);
                    Add(partial.Slice(0, shape.WeightCount), weightGradient);
                    if (biasGradient.Length != 0)
                    {
                        Add(partial.Slice(shape.WeightCount, shape.OutChannels), biasGradient);
                    }
                }
            }
        }

        /// <summary>The backward pass over <paramref name="batch"/> examples on one thread, adding to the parameters' gradients (and, with <paramref name="addInputGradient"/>, to the input's).</summary>
        private static void BackwardExamples<T>(in PlaneConvolutionShape shape, ReadOnlySpan<T> input, ReadOnlySpan<T> outputGradient, int batch, ReadOnlySpan<T> weights, Span<T> weightGradient, Span<T> biasGradient, Span<T> inputGradient, bool addInputGradient, Span<T> scratch)
            where T : unmanaged, IBinaryFloatingPointIeee754<T>
        {
            if (SingleChannel<T>(shape))
            {
                if (inputGradient.Length == 0)
                {
                    WeightGradientSingleChannel(shape, Floats(input), Floats(outputGradient), batch, Floats(weightGradient), Floats(biasGradient), Floats(scratch));
                    return;
                }

                // Example by example, so each output gradient is still in cache when its input gradient reads it.
                PrepareInputGradient(shape, weights, scratch);
                int inputSize = shape.InputSize, outputSize = shape.OutputSize;
                for (int b = 0; b < batch; b++)
                {
                    WeightGradientSingleChannel(shape, Floats(input.Slice(b * inputSize, inputSize)), Floats(outputGradient.Slice(b * outputSize, outputSize)), 1, Floats(weightGradient), Floats(biasGradient), Floats(scratch));
                    InputGradientExample(shape, outputGradient.Slice(b * outputSize, outputSize), inputGradient.Slice(b * inputSize, inputSize), addInputGradient, scratch);
                }

                return;
            }

            if (WeightGradientIsChannelsLast(shape))
            {
                // One pass over the examples: each example's output gradient is read from memory once, for ∂W, ∂b and ∂x.
                WeightGradientChannelsLast(shape, input, outputGradient, batch, weights, weightGradient, biasGradient, inputGradient, addInputGradient, scratch);
                return;
            }

            WeightGradient(shape, input, outputGradient, batch, weightGradient, scratch);
            if (biasGradient.Length != 0)
            {
                BiasGradient(outputGradient, batch, shape.OutChannels, shape.OutHeight * shape.OutWidth, biasGradient);
            }

            if (inputGradient.Length != 0)
            {
                InputGradient(shape, outputGradient, batch, weights, inputGradient, addInputGradient, scratch);
            }
        }

        private static void WeightGradient<T>(in PlaneConvolutionShape shape, ReadOnlySpan<T> input, ReadOnlySpan<T> outputGradient, int batch, Span<T> weightGradient, Span<T> scratch)
            where T : unmanaged, IBinaryFloatingPointIeee754<T>
        {
            int channels = shape.InChannels, outRounded = shape.OutChannelsRounded, paddedPlane = shape.PaddedPlane, wide = shape.WideLength, chunk = shape.ChunkImages;
            int inputStride = channels * paddedPlane, gradientStride = outRounded * wide;
            Span<T> padded = scratch.Slice(0, chunk * inputStride);
            Span<T> gradients = scratch.Slice(padded.Length, chunk * gradientStride);
            padded.Clear(); // borders, the wide rows' extra columns and the rounding channels stay zero
            gradients.Clear();
            int inputSize = shape.InputSize, outputSize = shape.OutputSize, interior = (shape.Padding * shape.PaddedWidth) + shape.Padding;
            for (int first = 0; first < batch; first += chunk)
            {
                int images = Math.Min(chunk, batch - first);
                for (int j = 0; j < images; j++)
                {
                    Embed(input.Slice((first + j) * inputSize, inputSize), channels, shape.Height, shape.Width, padded.Slice(j * inputStride, inputStride), paddedPlane, shape.PaddedWidth, interior);
                    Embed(outputGradient.Slice((first + j) * outputSize, outputSize), shape.OutChannels, shape.OutHeight, shape.OutWidth, gradients.Slice(j * gradientStride, gradientStride), wide, shape.PaddedWidth, 0);
                }

                WeightGradientChunk(shape, ref MemoryMarshal.GetReference(padded), ref MemoryMarshal.GetReference(gradients), images, weightGradient);
            }
        }

        /// <summary>Whether the weight gradient runs channels-last (<see cref="WeightGradientChannelsLast{T}"/>): 3×3 kernels, with Vector512 or Vector256 and FMA.</summary>
        private static bool WeightGradientIsChannelsLast(in PlaneConvolutionShape shape) =>
            shape.Kernel == 3 && (Wide512 || (Vector256.IsHardwareAccelerated && Fma.IsSupported));

        /// <summary>Whether the Vector512 paths run (AVX-512F).</summary>
        private static bool Wide512 => Vector512.IsHardwareAccelerated && Avx512F.IsSupported;

        /// <summary>Output channels per register tile of <see cref="WeightGradientChannelsLast{T}"/>: 2 Vector512, or 1 Vector256.</summary>
        private static int OutTile<T>()
            where T : unmanaged => Wide512 ? 2 * Vector512<T>.Count : Vector256<T>.Count;

        /// <summary>
        /// The 3×3 weight gradient with the output channels in the vectors: <c>∂Wᵀ[c,ky,kx][o…] += Σ_p x̂[c, p + ky·paddedWidth + kx] · ∂yᵀ[p][o…]</c>,
        /// one broadcast input value times one or two vectors of the output gradient turned channels-last. A register tile is one
        /// input channel's 9 taps × 32 output channels (Vector512, 18 accumulators) or × 8 (Vector256, 9): it stays in registers
        /// over a whole example's positions, only the real ones (not the wide rows' extra columns), and needs no horizontal sums.
        /// Per position it loads 2 (or 1) vectors and broadcasts 9 inputs for 18 (or 9) multiply-adds. The bias gradient is summed
        /// from the same channels-last rows, and the input gradient (when wanted) computed in the same pass over the examples, so
        /// each example's output gradient leaves memory once.
        /// </summary>
        private static void WeightGradientChannelsLast<T>(in PlaneConvolutionShape shape, ReadOnlySpan<T> input, ReadOnlySpan<T> outputGradient, int batch, ReadOnlySpan<T> weights, Span<T> weightGradient, Span<T> biasGradient, Span<T> inputGradient, bool addInputGradient, Span<T> scratch)
            where T : unmanaged, IBinaryFloatingPointIeee754<T>
        {
            int channels = shape.InChannels, outChannels = shape.OutChannels, paddedPlane = shape.PaddedPlane, paddedWidth = shape.PaddedWidth;
            int outHeight = shape.OutHeight, outWidth = shape.OutWidth, positions = outHeight * outWidth, taps = shape.Taps;
            int tile = OutTile<T>(), outTiled = (outChannels + tile - 1) / tile * tile;
            Span<T> padded = scratch.Slice(0, channels * paddedPlane);
            Span<T> gradient = scratch.Slice(padded.Length, positions * outTiled);
            Span<T> sums = scratch.Slice(padded.Length + gradient.Length, taps * outTiled);
            Span<T> biasSums = scratch.Slice(padded.Length + gradient.Length + sums.Length, outTiled);
            padded.Clear(); // the borders stay zero; each example writes only the interior
            gradient.Clear(); // the channels that round up to a tile stay zero
            sums.Clear();
            biasSums.Clear();
            bool inputGradients = inputGradient.Length != 0;
            if (inputGradients)
            {
                PrepareInputGradient(shape, weights, scratch);
            }

            int inputSize = shape.InputSize, outputSize = shape.OutputSize, interior = (shape.Padding * paddedWidth) + shape.Padding;
            ref T x = ref MemoryMarshal.GetReference(padded);
            ref T dy = ref MemoryMarshal.GetReference(gradient);
            ref T s = ref MemoryMarshal.GetReference(sums);
            for (int b = 0; b < batch; b++)
            {
                Embed(input.Slice(b * inputSize, inputSize), channels, shape.Height, shape.Width, padded, paddedPlane, paddedWidth, interior);
                Transpose(outputGradient.Slice(b * outputSize, outputSize), outChannels, positions, gradient, outTiled);
                if (biasGradient.Length != 0)
                {
                    AddRows(gradient, positions, outTiled, biasSums);
                }

                for (int c = 0; c < channels; c++)
                {
                    ref T plane = ref Unsafe.Add(ref x, c * paddedPlane);
                    ref T tapSums = ref Unsafe.Add(ref s, c * 9 * outTiled);
                    for (int o = 0; o < outTiled; o += tile)
                    {
                        if (Wide512)
                        {
                            WeightTile512(ref plane, paddedWidth, ref Unsafe.Add(ref dy, o), outTiled, outHeight, outWidth, ref Unsafe.Add(ref tapSums, o));
                        }
                        else
                        {
                            WeightTile256(ref plane, paddedWidth, ref Unsafe.Add(ref dy, o), outTiled, outHeight, outWidth, ref Unsafe.Add(ref tapSums, o));
                        }
                    }
                }

                if (inputGradients)
                {
                    InputGradientExample(shape, outputGradient.Slice(b * outputSize, outputSize), inputGradient.Slice(b * inputSize, inputSize), addInputGradient, scratch);
                }
            }

            for (int o = 0; o < outChannels; o++)
            {
                Span<T> row = weightGradient.Slice(o * taps, taps);
                for (int t = 0; t < taps; t++)
                {
                    row[t] += sums[(t * outTiled) + o];
                }
            }

            for (int o = 0; o < biasGradient.Length; o++)
            {
                biasGradient[o] += biasSums[o];
            }
        }

        /// <summary><c>sums[j] += Σ_i rows[i·width + j]</c> for j below <paramref name="width"/> (a whole number of vectors): the channels-last output gradient summed over positions.</summary>
        private static void AddRows<T>(ReadOnlySpan<T> rows, int count, int width, Span<T> sums)
            where T : unmanaged, IBinaryFloatingPointIeee754<T>
        {
            if (rows.Length < count * width || sums.Length < width)
            {
                throw new ArgumentException("rows or sums is shorter than the shape says.");
            }

            ref T from = ref MemoryMarshal.GetReference(rows);
            ref T to = ref MemoryMarshal.GetReference(sums);
            int j = 0;
            if (Vector256.IsHardwareAccelerated)
            {
                for (; j + Vector256<T>.Count <= width; j += Vector256<T>.Count)
                {
                    Vector256<T> sum = Vector256<T>.Zero;
                    for (int i = 0; i < count; i++)
                    {
                        sum += Vector256.LoadUnsafe(ref from, (nuint)((i * width) + j));
                    }

                    (Vector256.LoadUnsafe(ref to, (nuint)j) + sum).StoreUnsafe(ref to, (nuint)j);
                }
            }

            for (; j < width; j++)
            {
                T sum = T.Zero;
                for (int i = 0; i < count; i++)
                {
                    sum += Unsafe.Add(ref from, (i * width) + j);
                }

                Unsafe.Add(ref to, j) += sum;
            }
        }

        /// <summary>One input channel's 9 taps × 2 Vector512 of output channels, over every position of one example; adds to <paramref name="sums"/> (rows of <paramref name="stride"/>, one per tap).</summary>
        [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
        private static void WeightTile512<T>(ref T x, int rowWidth, ref T dy, int stride, int rows, int columns, ref T sums)
            where T : unmanaged, IBinaryFloatingPointIeee754<T>
        {
            nuint lanes = (nuint)Vector512<T>.Count;
            nint w1 = rowWidth, w2 = 2 * (nint)rowWidth;
            Vector512<T> a00 = default, a01 = default, a10 = default, a11 = default, a20 = default, a21 = default;
            Vector512<T> a30 = default, a31 = default, a40 = default, a41 = default, a50 = default, a51 = default;
            Vector512<T> a60 = default, a61 = default, a70 = default, a71 = default, a80 = default, a81 = default;
            for (int r = 0; r < rows; r++)
            {
                ref T x0 = ref Unsafe.Add(ref x, r * rowWidth);
                ref T g = ref Unsafe.Add(ref dy, r * columns * stride);
                for (int col = 0; col < columns; col++)
                {
                    Vector512<T> g0 = Vector512.LoadUnsafe(ref g), g1 = Vector512.LoadUnsafe(ref g, lanes);
                    Vector512<T> v = Vector512.Create(x0);
                    a00 = VectorOps.MultiplyAdd(v, g0, a00);
                    a01 = VectorOps.MultiplyAdd(v, g1, a01);
                    v = Vector512.Create(Unsafe.Add(ref x0, 1));
                    a10 = VectorOps.MultiplyAdd(v, g0, a10);
                    a11 = VectorOps.MultiplyAdd(v, g1, a11);
                    v = Vector512.Create(Unsafe.Add(ref x0, 2));
                    a20 = VectorOps.MultiplyAdd(v, g0, a20);
                    a21 = VectorOps.MultiplyAdd(v, g1, a21);
                    v = Vector512.Create(Unsafe.Add(ref x0, w1));
                    a30 = VectorOps.MultiplyAdd(v, g0, a30);
                    a31 = VectorOps.MultiplyAdd(v, g1, a31);
                    v = Vector512.Create(Unsafe.Add(ref x0, w1 + 1));
                    a40 = VectorOps.MultiplyAdd(v, g0, a40);
                    a41 = VectorOps.MultiplyAdd(v, g1, a41);
                    v = Vector512.Create(Unsafe.Add(ref x0, w1 + 2));
                    a50 = VectorOps.MultiplyAdd(v, g0, a50);
                    a51 = VectorOps.MultiplyAdd(v, g1, a51);
                    v = Vector512.Create(Unsafe.Add(ref x0, w2));
                    a60 = VectorOps.MultiplyAdd(v, g0, a60);
                    a61 = VectorOps.MultiplyAdd(v, g1, a61);
                    v = Vector512.Create(Unsafe.Add(ref x0, w2 + 1));
                    a70 = VectorOps.MultiplyAdd(v, g0, a70);
                    a71 = VectorOps.MultiplyAdd(v, g1, a71);
                    v = Vector512.Create(Unsafe.Add(ref x0, w2 + 2));
                    a80 = VectorOps.MultiplyAdd(v, g0, a80);
                    a81 = VectorOps.MultiplyAdd(v, g1, a81);
                    x0 = ref Unsafe.Add(ref x0, 1);
                    g = ref Unsafe.Add(ref g, stride);
                }
            }

            nint row = stride;
            AddTo(ref sums, a00, a01, lanes);
            AddTo(ref Unsafe.Add(ref sums, row), a10, a11, lanes);
            AddTo(ref Unsafe.Add(ref sums, 2 * row), a20, a21, lanes);
            AddTo(ref Unsafe.Add(ref sums, 3 * row), a30, a31, lanes);
            AddTo(ref Unsafe.Add(ref sums, 4 * row), a40, a41, lanes);
            AddTo(ref Unsafe.Add(ref sums, 5 * row), a50, a51, lanes);
            AddTo(ref Unsafe.Add(ref sums, 6 * row), a60, a61, lanes);
            AddTo(ref Unsafe.Add(ref sums, 7 * row), a70, a71, lanes);
            AddTo(ref Unsafe.Add(ref sums, 8 * row), a80, a81, lanes);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void AddTo<T>(ref T target, Vector512<T> left, Vector512<T> right, nuint lanes)
        {
            (Vector512.LoadUnsafe(ref target) + left).StoreUnsafe(ref target);
            (Vector512.LoadUnsafe(ref target, lanes) + right).StoreUnsafe(ref target, lanes);
        }

        /// <summary>One input channel's 9 taps × 1 Vector256 of output channels (9 of AVX2's 16 registers accumulate).</summary>
        [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
        private static void WeightTile256<T>(ref T x, int rowWidth, ref T dy, int stride, int rows, int columns, ref T sums)
            where T : unmanaged, IBinaryFloatingPointIeee754<T>
        {
            nint w1 = rowWidth, w2 = 2 * (nint)rowWidth;
            Vector256<T> a0 = default, a1 = default, a2 = default, a3 = default, a4 = default, a5 = default, a6 = default, a7 = default, a8 = default;
            for (int r = 0; r < rows; r++)
            {
                ref T x0 = ref Unsafe.Add(ref x, r * rowWidth);
                ref T g = ref Unsafe.Add(ref dy, r * columns * stride);
                for (int col = 0; col < columns; col++)
                {
                    Vector256<T> g0 = Vector256.LoadUnsafe(ref g);
                    a0 = VectorOps.MultiplyAdd(Vector256.Create(x0), g0, a0);
                    a1 = VectorOps.MultiplyAdd(Vector256.Create(Unsafe.Add(ref x0, 1)), g0, a1);
                    a2 = VectorOps.MultiplyAdd(Vector256.Create(Unsafe.Add(ref x0, 2)), g0, a2);
                    a3 = VectorOps.MultiplyAdd(Vector256.Create(Unsafe.Add(ref x0, w1)), g0, a3);
                    a4 = VectorOps.MultiplyAdd(Vector256.Create(Unsafe.Add(ref x0, w1 + 1)), g0, a4);
                    a5 = VectorOps.MultiplyAdd(Vector256.Create(Unsafe.Add(ref x0, w1 + 2)), g0, a5);
                    a6 = VectorOps.MultiplyAdd(Vector256.Create(Unsafe.Add(ref x0, w2)), g0, a6);
                    a7 = VectorOps.MultiplyAdd(Vector256.Create(Unsafe.Add(ref x0, w2 + 1)), g0, a7);
                    a8 = VectorOps.MultiplyAdd(Vector256.Create(Unsafe.Add(ref x0, w2 + 2)), g0, a8);
                    x0 = ref Unsafe.Add(ref x0, 1);
                    g = ref Unsafe.Add(ref g, stride);
                }
            }

            nint row = stride;
            (Vector256.LoadUnsafe(ref sums) + a0).StoreUnsafe(ref sums);
            (Vector256.LoadUnsafe(ref Unsafe.Add(ref sums, row)) + a1).StoreUnsafe(ref Unsafe.Add(ref sums, row));
            (Vector256.LoadUnsafe(ref Unsafe.Add(ref sums, 2 * row)) + a2).StoreUnsafe(ref Unsafe.Add(ref sums, 2 * row));
            (Vector256.LoadUnsafe(ref Unsafe.Add(ref sums, 3 * row)) + a3).StoreUnsafe(ref Unsafe.Add(ref sums, 3 * row));
            (Vector256.LoadUnsafe(ref Unsafe.Add(ref sums, 4 * row)) + a4).StoreUnsafe(ref Unsafe.Add(ref sums, 4 * row));
            (Vector256.LoadUnsafe(ref Unsafe.Add(ref sums, 5 * row)) + a5).StoreUnsafe(ref Unsafe.Add(ref sums, 5 * row));
            (Vector256.LoadUnsafe(ref Unsafe.Add(ref sums, 6 * row)) + a6).StoreUnsafe(ref Unsafe.Add(ref sums, 6 * row));
            (Vector256.LoadUnsafe(ref Unsafe.Add(ref sums, 7 * row)) + a7).StoreUnsafe(ref Unsafe.Add(ref sums, 7 * row));
            (Vector256.LoadUnsafe(ref Unsafe.Add(ref sums, 8 * row)) + a8).StoreUnsafe(ref Unsafe.Add(ref sums, 8 * row));
        }

        /// <summary>
        /// <c>target[j·targetStride + i] = source[i·columns + j]</c> for i below <paramref name="rows"/>, j below
        /// <paramref name="columns"/>: planes to channels-last. Floats go through 8×8 register transposes where whole blocks fit.
        /// </summary>
        private static void Transpose<T>(ReadOnlySpan<T> source, int rows, int columns, Span<T> target, int targetStride)
            where T : unmanaged, IBinaryFloatingPointIeee754<T> => Transpose(source, rows, columns, columns, target, targetStride, add: false);

        /// <summary>
        /// <c>target[j·targetStride + i] = source[i·sourceStride + j]</c> for i below <paramref name="rows"/>, j below
        /// <paramref name="columns"/> (the first <paramref name="columns"/> values of rows <paramref name="sourceStride"/> apart);
        /// with <paramref name="add"/>, <c>+=</c>.
        /// </summary>
        private static void Transpose<T>(ReadOnlySpan<T> source, int rows, int columns, int sourceStride, Span<T> target, int targetStride, bool add)
            where T : unmanaged, IBinaryFloatingPointIeee754<T>
        {
            if (rows == 0 || columns == 0)
            {
                return;
            }

            if (source.Length < ((rows - 1) * sourceStride) + columns || target.Length < ((columns - 1) * targetStride) + rows)
            {
                throw new ArgumentException("source or target is shorter than the shapes say.");
            }

            ref T from = ref MemoryMarshal.GetReference(source);
            ref T to = ref MemoryMarshal.GetReference(target);
            int i = 0;
            if (typeof(T) == typeof(float) && Avx.IsSupported)
            {
                int wholeColumns = columns / 8 * 8;
                for (; i + 8 <= rows; i += 8)
                {
                    for (int j = 0; j < wholeColumns; j += 8)
                    {
                        ref float block = ref Unsafe.As<T, float>(ref Unsafe.Add(ref from, (i * sourceStride) + j));
                        ref float into = ref Unsafe.As<T, float>(ref Unsafe.Add(ref to, (j * targetStride) + i));
                        if (add)
                        {
                            PackedGemm.Transpose8x8(ref block, sourceStride, ref into, targetStride, add: true);
                        }
                        else
                        {
                            PackedGemm.Transpose8x8(ref block, sourceStride, ref into, targetStride);
                        }
                    }

                    for (int j = wholeColumns; j < columns; j++)
                    {
                        for (int r = i; r < i + 8; r++)
                        {
                            Put(ref Unsafe.Add(ref to, (j * targetStride) + r), Unsafe.Add(ref from, (r * sourceStride) + j), add);
                        }
                    }
                }
            }

            for (; i < rows; i++)
            {
                for (int j = 0; j < columns; j++)
                {
                    Put(ref Unsafe.Add(ref to, (j * targetStride) + i), Unsafe.Add(ref from, (i * sourceStride) + j), add);
                }
            }
        }

        /// <summary><c>target = value</c>, or with <paramref name="add"/> <c>target += value</c>.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Put<T>(ref T target, T value, bool add)
            where T : IAdditionOperators<T, T, T> => target = add ? target + value : value;

        private static void InputGradient<T>(in PlaneConvolutionShape shape, ReadOnlySpan<T> outputGradient, int batch, ReadOnlySpan<T> weights, Span<T> inputGradient, bool add, Span<T> scratch)
            where T : unmanaged, IBinaryFloatingPointIeee754<T>
        {
            PrepareInputGradient(shape, weights, scratch);
            int inputSize = shape.InputSize, outputSize = shape.OutputSize;
            for (int b = 0; b < batch; b++)
            {
                InputGradientExample(shape, outputGradient.Slice(b * outputSize, outputSize), inputGradient.Slice(b * inputSize, inputSize), add, scratch);
            }
        }

        /// <summary>The input gradient's scratch before its first example: the flipped weights, the bordered planes' zeros.</summary>
        private static void PrepareInputGradient<T>(in PlaneConvolutionShape shape, ReadOnlySpan<T> weights, Span<T> scratch)
            where T : unmanaged, IBinaryFloatingPointIeee754<T>
        {
            if (InputGradientIsChannelsLast<T>(shape))
            {
                PrepareInputGradientChannelsLast(shape, weights, scratch);
                return;
            }

            int channels = shape.InChannels, outChannels = shape.OutChannels, kernel = shape.Kernel, area = kernel * kernel, taps = shape.Taps;
            int chunkLength = shape.WeightGradientLength;
            int flippedTaps = outChannels * area, gradientPlane = shape.GradientPlane;
            Span<T> flipped = scratch.Slice(chunkLength, shape.InChannelsRounded * flippedTaps);
            Span<T> bordered = scratch.Slice(chunkLength + flipped.Length, outChannels * gradientPlane);

            // flipped[c, o, ky, kx] = w[o, c, k−1−ky, k−1−kx]; the channels that round up to 4 stay zero.
            flipped.Clear();
            for (int o = 0; o < outChannels; o++)
            {
                for (int c = 0; c < channels; c++)
                {
                    for (int t = 0; t < area; t++)
                    {
                        flipped[(c * flippedTaps) + (o * area) + (area - 1 - t)] = weights[(o * taps) + (c * area) + t];
                    }
                }
            }

            bordered.Clear();
        }

        /// <summary>One example's input gradient, in the scratch <see cref="PrepareInputGradient{T}"/> set up; written, or with <paramref name="add"/> added.</summary>
        private static void InputGradientExample<T>(in PlaneConvolutionShape shape, ReadOnlySpan<T> outputGradient, Span<T> inputGradient, bool add, Span<T> scratch)
            where T : unmanaged, IBinaryFloatingPointIeee754<T>
        {
            if (InputGradientIsChannelsLast<T>(shape))
            {
                InputGradientExampleChannelsLast(shape, outputGradient, inputGradient, add, scratch);
                return;
            }

            int channels = shape.InChannels, outChannels = shape.OutChannels, kernel = shape.Kernel, area = kernel * kernel;
            int chunkLength = shape.WeightGradientLength;
            int flippedTaps = outChannels * area, gradientPlane = shape.GradientPlane, gradientWidth = shape.GradientWidth, gradientWide = shape.GradientWideLength;
            Span<T> flipped = scratch.Slice(chunkLength, shape.InChannelsRounded * flippedTaps);
            Span<T> bordered = scratch.Slice(chunkLength + flipped.Length, outChannels * gradientPlane);
            Span<T> result = scratch.Slice(chunkLength + flipped.Length + bordered.Length, shape.InChannelsRounded * gradientWide);
            int border = ((kernel - 1) * gradientWidth) + kernel - 1;
            Embed(outputGradient, outChannels, shape.OutHeight, shape.OutWidth, bordered, gradientPlane, gradientWidth, border);
            Correlate(ref Unsafe.Add(ref MemoryMarshal.GetReference(bordered), shape.Padding * gradientWidth), gradientPlane, gradientWidth, outChannels, kernel, ref MemoryMarshal.GetReference(flipped), flippedTaps, shape.InChannelsRounded, ref MemoryMarshal.GetReference(result), gradientWide, ReadOnlySpan<T>.Empty);
            Extract(result, gradientWide, gradientWidth, shape.Padding, channels, shape.Height, shape.Width, inputGradient, add);
        }

        private static void BiasGradient<T>(ReadOnlySpan<T> outputGradient, int batch, int channels, int plane, Span<T> biasGradient)
            where T : unmanaged, IBinaryFloatingPointIeee754<T>
        {
            for (int b = 0; b < batch; b++)
            {
                for (int o = 0; o < channels; o++)
                {
                    ReadOnlySpan<T> values = outputGradient.Slice(((b * channels) + o) * plane, plane);
                    Vector<T> sum = Vector<T>.Zero;
                    int i = 0;
                    if (Vector.IsHardwareAccelerated)
                    {
                        for (; i + Vector<T>.Count <= plane; i += Vector<T>.Count)
                        {
                            sum += new Vector<T>(values.Slice(i));
                        }
                    }

                    T total = Vector.Sum(sum);
                    for (; i < plane; i++)
                    {
                        total += values[i];
                    }

                    biasGradient[o] += total;
                }
            }
        }

        /// <summary>Copies <paramref name="channels"/> planes of <c>rows × columns</c> into rows of <paramref name="rowStride"/>, planes of <paramref name="planeStride"/>, starting at <paramref name="offset"/>.</summary>
        private static void Embed<T>(ReadOnlySpan<T> source, int channels, int rows, int columns, Span<T> target, int planeStride, int rowStride, int offset)
        {
            // One bounds check for the whole copy; the rows (a few to a few dozen values) then go by vectors in line: a
            // span slice and a Memmove per 14-value row cost about as much as the 3×3 weight gradient's multiply-adds.
            if (source.Length < channels * rows * columns || target.Length < ((channels - 1) * planeStride) + offset + ((rows - 1) * rowStride) + columns)
            {
                throw new ArgumentException("source or target is shorter than the planes say.");
            }

            ref T from = ref MemoryMarshal.GetReference(source);
            ref T to = ref MemoryMarshal.GetReference(target);
            for (int c = 0; c < channels; c++)
            {
                ref T plane = ref Unsafe.Add(ref to, (c * planeStride) + offset);
                for (int r = 0; r < rows; r++)
                {
                    CopyRow(ref from, ref Unsafe.Add(ref plane, r * rowStride), columns);
                    from = ref Unsafe.Add(ref from, columns);
                }
            }
        }

        /// <summary>The inverse of <see cref="Embed{T}"/>: reads the <c>rows × columns</c> interiors back into dense planes (with <paramref name="add"/>, adds them there).</summary>
        private static void Extract<T>(ReadOnlySpan<T> source, int planeStride, int rowStride, int offset, int channels, int rows, int columns, Span<T> target, bool add = false)
            where T : unmanaged, IBinaryFloatingPointIeee754<T>
        {
            if (target.Length < channels * rows * columns || source.Length < ((channels - 1) * planeStride) + offset + ((rows - 1) * rowStride) + columns)
            {
                throw new ArgumentException("source or target is shorter than the planes say.");
            }

            ref T from = ref MemoryMarshal.GetReference(source);
            ref T to = ref MemoryMarshal.GetReference(target);
            for (int c = 0; c < channels; c++)
            {
                ref T plane = ref Unsafe.Add(ref from, (c * planeStride) + offset);
                for (int r = 0; r < rows; r++)
                {
                    if (add)
                    {
                        AddRow(ref Unsafe.Add(ref plane, r * rowStride), ref to, columns);
                    }
                    else
                    {
                        CopyRow(ref Unsafe.Add(ref plane, r * rowStride), ref to, columns);
                    }

                    to = ref Unsafe.Add(ref to, columns);
                }
            }
        }

        /// <summary><c>to[i] += from[i]</c> for i below <paramref name="count"/>.</summary>
        private static void AddRow<T>(ref T from, ref T to, int count)
            where T : unmanaged, IBinaryFloatingPointIeee754<T>
        {
            int i = 0;
            if (Vector256.IsHardwareAccelerated)
            {
                for (; i + Vector256<T>.Count <= count; i += Vector256<T>.Count)
                {
                    (Vector256.LoadUnsafe(ref to, (nuint)i) + Vector256.LoadUnsafe(ref from, (nuint)i)).StoreUnsafe(ref to, (nuint)i);
                }
            }

            for (; i < count; i++)
            {
                Unsafe.Add(ref to, i) += Unsafe.Add(ref from, i);
            }
        }

        /// <summary>Copies <paramref name="count"/> values between places that do not overlap: whole vectors, the last one ending at the row's end.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void CopyRow<T>(ref T from, ref T to, int count)
        {
            if (Vector256.IsHardwareAccelerated && Unsafe.SizeOf<T>() * count >= Vector256<byte>.Count)
            {
                int lanes = Vector256<byte>.Count / Unsafe.SizeOf<T>(), last = count - lanes;
                ref byte source = ref Unsafe.As<T, byte>(ref from), target = ref Unsafe.As<T, byte>(ref to);
                for (int i = 0; i < last; i += lanes)
                {
                    Vector256.LoadUnsafe(ref source, (nuint)(i * Unsafe.SizeOf<T>())).StoreUnsafe(ref target, (nuint)(i * Unsafe.SizeOf<T>()));
                }

                Vector256.LoadUnsafe(ref source, (nuint)(last * Unsafe.SizeOf<T>())).StoreUnsafe(ref target, (nuint)(last * Unsafe.SizeOf<T>()));
                return;
            }

            for (int i = 0; i < count; i++)
            {
                Unsafe.Add(ref to, i) = Unsafe.Add(ref from, i);
            }
        }

        /// <summary>
        /// <c>y[o, p] = bias[o] + Σ_{c,ky,kx} w[o·taps + (c·kernel + ky)·kernel + kx] · x[c·planeStride + p + ky·rowWidth + kx]</c>
        /// for o below <paramref name="outRounded"/> (a multiple of 4) and p below <paramref name="wideLength"/> (a multiple of
        /// <see cref="PlaneConvolutionShape.Block"/>).
        /// </summary>
        private static void Correlate<T>(ref T x, int planeStride, int rowWidth, int channels, int kernel, ref T w, int taps, int outRounded, ref T y, int wideLength, ReadOnlySpan<T> bias)
            where T : unmanaged, IBinaryFloatingPointIeee754<T>
        {
            if (Vector512.IsHardwareAccelerated && Avx512F.IsSupported)
            {
                for (int o = 0; o < outRounded; o += 4)
                {
                    ref T wo = ref Unsafe.Add(ref w, o * taps);
                    ref T yo = ref Unsafe.Add(ref y, o * wideLength);
                    T b0 = BiasAt(bias, o), b1 = BiasAt(bias, o + 1), b2 = BiasAt(bias, o + 2), b3 = BiasAt(bias, o + 3);
                    for (int p = 0; p < wideLength; p += 4 * Vector512<T>.Count)
                    {
                        Tile512(ref Unsafe.Add(ref x, p), planeStride, rowWidth, channels, kernel, ref wo, taps, ref Unsafe.Add(ref yo, p), wideLength, b0, b1, b2, b3);
                    }
                }

                return;
            }

            if (Vector256.IsHardwareAccelerated && Fma.IsSupported)
            {
                // Tiles of 6 output channels (12 accumulators of AVX2's 16 registers) while they divide evenly, then of 4.
                int six = outRounded / 12 * 12;
                for (int o = 0; o < outRounded; o += o < six ? 6 : 4)
                {
                    ref T wo = ref Unsafe.Add(ref w, o * taps);
                    ref T yo = ref Unsafe.Add(ref y, o * wideLength);
                    T b0 = BiasAt(bias, o), b1 = BiasAt(bias, o + 1), b2 = BiasAt(bias, o + 2), b3 = BiasAt(bias, o + 3);
                    if (o < six)
                    {
                        T b4 = BiasAt(bias, o + 4), b5 = BiasAt(bias, o + 5);
                        for (int p = 0; p < wideLength; p += 2 * Vector256<T>.Count)
                        {
                            Tile256(ref Unsafe.Add(ref x, p), planeStride, rowWidth, channels, kernel, ref wo, taps, ref Unsafe.Add(ref yo, p), wideLength, b0, b1, b2, b3, b4, b5, six: true);
                        }
                    }
                    else
                    {
                        for (int p = 0; p < wideLength; p += 2 * Vector256<T>.Count)
                        {
                            Tile256(ref Unsafe.Add(ref x, p), planeStride, rowWidth, channels, kernel, ref wo, taps, ref Unsafe.Add(ref yo, p), wideLength, b0, b1, b2, b3, T.Zero, T.Zero, six: false);
                        }
                    }
                }

                return;
            }

            for (int o = 0; o < outRounded; o++)
            {
                T bo = BiasAt(bias, o);
                ref T wo = ref Unsafe.Add(ref w, o * taps);
                for (int p = 0; p < wideLength; p++)
                {
                    T sum = bo;
                    int t = 0;
                    for (int c = 0; c < channels; c++)
                    {
                        for (int ky = 0; ky < kernel; ky++)
                        {
                            ref T row = ref Unsafe.Add(ref x, (c * planeStride) + (ky * rowWidth) + p);
                            for (int kx = 0; kx < kernel; kx++, t++)
                            {
                                sum += Unsafe.Add(ref wo, t) * Unsafe.Add(ref row, kx);
                            }
                        }
                    }

                    Unsafe.Add(ref y, (o * wideLength) + p) = sum;
                }
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static T BiasAt<T>(ReadOnlySpan<T> bias, int o)
            where T : unmanaged, IBinaryFloatingPointIeee754<T> => (uint)o < (uint)bias.Length ? bias[o] : T.Zero;

        /// <summary>4 output channels × 4 vectors of positions, 16 Vector512 accumulators.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Tile512<T>(ref T x, int planeStride, int rowWidth, int channels, int kernel, ref T w, int taps, ref T y, int wideLength, T b0, T b1, T b2, T b3)
            where T : unmanaged, IBinaryFloatingPointIeee754<T>
        {
            nuint lanes = (nuint)Vector512<T>.Count;
            Vector512<T> a00 = Vector512.Create(b0), a01 = a00, a02 = a00, a03 = a00;
            Vector512<T> a10 = Vector512.Create(b1), a11 = a10, a12 = a10, a13 = a10;
            Vector512<T> a20 = Vector512.Create(b2), a21 = a20, a22 = a20, a23 = a20;
            Vector512<T> a30 = Vector512.Create(b3), a31 = a30, a32 = a30, a33 = a30;
            ref T w1 = ref Unsafe.Add(ref w, taps), w2 = ref Unsafe.Add(ref w, 2 * taps), w3 = ref Unsafe.Add(ref w, 3 * taps);
            int t = 0;
            for (int c = 0; c < channels; c++)
            {
                ref T plane = ref Unsafe.Add(ref x, c * planeStride);
                for (int ky = 0; ky < kernel; ky++)
                {
                    ref T row = ref Unsafe.Add(ref plane, ky * rowWidth);
                    for (int kx = 0; kx < kernel; kx++, t++)
                    {
                        ref T at = ref Unsafe.Add(ref row, kx);
                        Vector512<T> x0 = Vector512.LoadUnsafe(ref at), x1 = Vector512.LoadUnsafe(ref at, lanes);
                        Vector512<T> x2 = Vector512.LoadUnsafe(ref at, 2 * lanes), x3 = Vector512.LoadUnsafe(ref at, 3 * lanes);
                        Vector512<T> v = Vector512.Create(Unsafe.Add(ref w, t));
                        a00 = VectorOps.MultiplyAdd(v, x0, a00);
                        a01 = VectorOps.MultiplyAdd(v, x1, a01);
                        a02 = VectorOps.MultiplyAdd(v, x2, a02);
                        a03 = VectorOps.MultiplyAdd(v, x3, a03);
                        v = Vector512.Create(Unsafe.Add(ref w1, t));
                        a10 = VectorOps.MultiplyAdd(v, x0, a10);
                        a11 = VectorOps.MultiplyAdd(v, x1, a11);
                        a12 = VectorOps.MultiplyAdd(v, x2, a12);
                        a13 = VectorOps.MultiplyAdd(v, x3, a13);
                        v = Vector512.Create(Unsafe.Add(ref w2, t));
                        a20 = VectorOps.MultiplyAdd(v, x0, a20);
                        a21 = VectorOps.MultiplyAdd(v, x1, a21);
                        a22 = VectorOps.MultiplyAdd(v, x2, a22);
                        a23 = VectorOps.MultiplyAdd(v, x3, a23);
                        v = Vector512.Create(Unsafe.Add(ref w3, t));
                        a30 = VectorOps.MultiplyAdd(v, x0, a30);
                        a31 = VectorOps.MultiplyAdd(v, x1, a31);
                        a32 = VectorOps.MultiplyAdd(v, x2, a32);
                        a33 = VectorOps.MultiplyAdd(v, x3, a33);
                    }
                }
            }

            Store4(a00, a01, a02, a03, ref y, lanes);
            Store4(a10, a11, a12, a13, ref Unsafe.Add(ref y, wideLength), lanes);
            Store4(a20, a21, a22, a23, ref Unsafe.Add(ref y, 2 * wideLength), lanes);
            Store4(a30, a31, a32, a33, ref Unsafe.Add(ref y, 3 * wideLength), lanes);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Store4<T>(Vector512<T> a0, Vector512<T> a1, Vector512<T> a2, Vector512<T> a3, ref T y, nuint lanes)
        {
            a0.StoreUnsafe(ref y);
            a1.StoreUnsafe(ref y, lanes);
            a2.StoreUnsafe(ref y, 2 * lanes);
            a3.StoreUnsafe(ref y, 3 * lanes);
        }

        /// <summary>
        /// 6 (or, with <paramref name="six"/> false, 4) output channels × 2 vectors of positions: 12 Vector256 accumulators,
        /// 2 inputs and a broadcast weight fill AVX2's 16 registers. <paramref name="six"/> is a constant at each call site, so
        /// the JIT drops the unused rows.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Tile256<T>(ref T x, int planeStride, int rowWidth, int channels, int kernel, ref T w, int taps, ref T y, int wideLength, T b0, T b1, T b2, T b3, T b4, T b5, bool six)
            where T : unmanaged, IBinaryFloatingPointIeee754<T>
        {
            nuint lanes = (nuint)Vector256<T>.Count;
            Vector256<T> a00 = Vector256.Create(b0), a01 = a00;
            Vector256<T> a10 = Vector256.Create(b1), a11 = a10;
            Vector256<T> a20 = Vector256.Create(b2), a21 = a20;
            Vector256<T> a30 = Vector256.Create(b3), a31 = a30;
            Vector256<T> a40 = Vector256.Create(b4), a41 = a40;
            Vector256<T> a50 = Vector256.Create(b5), a51 = a50;
            ref T w1 = ref Unsafe.Add(ref w, taps), w2 = ref Unsafe.Add(ref w, 2 * taps), w3 = ref Unsafe.Add(ref w, 3 * taps);
            ref T w4 = ref Unsafe.Add(ref w, six ? 4 * taps : 0), w5 = ref Unsafe.Add(ref w, six ? 5 * taps : 0);
            int t = 0;
            for (int c = 0; c < channels; c++)
            {
                ref T plane = ref Unsafe.Add(ref x, c * planeStride);
                for (int ky = 0; ky < kernel; ky++)
                {
                    ref T row = ref Unsafe.Add(ref plane, ky * rowWidth);
                    for (int kx = 0; kx < kernel; kx++, t++)
                    {
                        ref T at = ref Unsafe.Add(ref row, kx);
                        Vector256<T> x0 = Vector256.LoadUnsafe(ref at), x1 = Vector256.LoadUnsafe(ref at, lanes);
                        Vector256<T> v = Vector256.Create(Unsafe.Add(ref w, t));
                        a00 = VectorOps.MultiplyAdd(v, x0, a00);
                        a01 = VectorOps.MultiplyAdd(v, x1, a01);
                        v = Vector256.Create(Unsafe.Add(ref w1, t));
                        a10 = VectorOps.MultiplyAdd(v, x0, a10);
                        a11 = VectorOps.MultiplyAdd(v, x1, a11);
                        v = Vector256.Create(Unsafe.Add(ref w2, t));
                        a20 = VectorOps.MultiplyAdd(v, x0, a20);
                        a21 = VectorOps.MultiplyAdd(v, x1, a21);
                        v = Vector256.Create(Unsafe.Add(ref w3, t));
                        a30 = VectorOps.MultiplyAdd(v, x0, a30);
                        a31 = VectorOps.MultiplyAdd(v, x1, a31);
                        if (six)
                        {
                            v = Vector256.Create(Unsafe.Add(ref w4, t));
                            a40 = VectorOps.MultiplyAdd(v, x0, a40);
                            a41 = VectorOps.MultiplyAdd(v, x1, a41);
                            v = Vector256.Create(Unsafe.Add(ref w5, t));
                            a50 = VectorOps.MultiplyAdd(v, x0, a50);
                            a51 = VectorOps.MultiplyAdd(v, x1, a51);
                        }
                    }
                }
            }

            Store2(a00, a01, ref y, lanes);
            Store2(a10, a11, ref Unsafe.Add(ref y, wideLength), lanes);
            Store2(a20, a21, ref Unsafe.Add(ref y, 2 * wideLength), lanes);
            Store2(a30, a31, ref Unsafe.Add(ref y, 3 * wideLength), lanes);
            if (six)
            {
                Store2(a40, a41, ref Unsafe.Add(ref y, 4 * wideLength), lanes);
                Store2(a50, a51, ref Unsafe.Add(ref y, 5 * wideLength), lanes);
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Store2<T>(Vector256<T> a0, Vector256<T> a1, ref T y, nuint lanes)
        {
            a0.StoreUnsafe(ref y);
            a1.StoreUnsafe(ref y, lanes);
        }

        /// <summary>
        /// Adds one chunk's <c>Σ_p ∂y[o,p] · x̂[c, p + ky·paddedWidth + kx]</c> to every weight's gradient. <paramref name="x"/>
        /// holds the chunk's padded inputs, <paramref name="dy"/> its output gradients as wide planes (zero in the extra columns).
        /// </summary>
        private static void WeightGradientChunk<T>(in PlaneConvolutionShape shape, ref T x, ref T dy, int images, Span<T> weightGradient)
            where T : unmanaged, IBinaryFloatingPointIeee754<T>
        {
            int taps = shape.Taps, outChannels = shape.OutChannels, outRounded = shape.OutChannelsRounded, wide = shape.WideLength;
            int inputStride = shape.InChannels * shape.PaddedPlane, gradientStride = outRounded * wide;
            if (Vector512.IsHardwareAccelerated && Avx512F.IsSupported)
            {
                for (int o = 0; o < outRounded; o += 4)
                {
                    for (int t = 0; t < taps; t += 4)
                    {
                        int x0 = TapOffset(shape, t), x1 = TapOffset(shape, t + 1), x2 = TapOffset(shape, t + 2), x3 = TapOffset(shape, t + 3);
                        Vector512<T> a00 = default, a01 = default, a02 = default, a03 = default, a10 = default, a11 = default, a12 = default, a13 = default;
                        Vector512<T> a20 = default, a21 = default, a22 = default, a23 = default, a30 = default, a31 = default, a32 = default, a33 = default;
                        for (int j = 0; j < images; j++)
                        {
                            ref T xj = ref Unsafe.Add(ref x, j * inputStride);
                            ref T d0 = ref Unsafe.Add(ref dy, (j * gradientStride) + (o * wide));
                            ref T d1 = ref Unsafe.Add(ref d0, wide), d2 = ref Unsafe.Add(ref d0, 2 * wide), d3 = ref Unsafe.Add(ref d0, 3 * wide);
                            ref T s0 = ref Unsafe.Add(ref xj, x0), s1 = ref Unsafe.Add(ref xj, x1), s2 = ref Unsafe.Add(ref xj, x2), s3 = ref Unsafe.Add(ref xj, x3);
                            for (nuint p = 0; p < (nuint)wide; p += (nuint)Vector512<T>.Count)
                            {
                                Vector512<T> g0 = Vector512.LoadUnsafe(ref d0, p), g1 = Vector512.LoadUnsafe(ref d1, p), g2 = Vector512.LoadUnsafe(ref d2, p), g3 = Vector512.LoadUnsafe(ref d3, p);
                                Vector512<T> v = Vector512.LoadUnsafe(ref s0, p);
                                a00 = VectorOps.MultiplyAdd(g0, v, a00);
                                a10 = VectorOps.MultiplyAdd(g1, v, a10);
                                a20 = VectorOps.MultiplyAdd(g2, v, a20);
                                a30 = VectorOps.MultiplyAdd(g3, v, a30);
                                v = Vector512.LoadUnsafe(ref s1, p);
                                a01 = VectorOps.MultiplyAdd(g0, v, a01);
                                a11 = VectorOps.MultiplyAdd(g1, v, a11);
                                a21 = VectorOps.MultiplyAdd(g2, v, a21);
                                a31 = VectorOps.MultiplyAdd(g3, v, a31);
                                v = Vector512.LoadUnsafe(ref s2, p);
                                a02 = VectorOps.MultiplyAdd(g0, v, a02);
                                a12 = VectorOps.MultiplyAdd(g1, v, a12);
                                a22 = VectorOps.MultiplyAdd(g2, v, a22);
                                a32 = VectorOps.MultiplyAdd(g3, v, a32);
                                v = Vector512.LoadUnsafe(ref s3, p);
                                a03 = VectorOps.MultiplyAdd(g0, v, a03);
                                a13 = VectorOps.MultiplyAdd(g1, v, a13);
                                a23 = VectorOps.MultiplyAdd(g2, v, a23);
                                a33 = VectorOps.MultiplyAdd(g3, v, a33);
                            }
                        }

                        AddSums(weightGradient, o, t, taps, outChannels, Vector512.Sum(a00), Vector512.Sum(a01), Vector512.Sum(a02), Vector512.Sum(a03));
                        AddSums(weightGradient, o + 1, t, taps, outChannels, Vector512.Sum(a10), Vector512.Sum(a11), Vector512.Sum(a12), Vector512.Sum(a13));
                        AddSums(weightGradient, o + 2, t, taps, outChannels, Vector512.Sum(a20), Vector512.Sum(a21), Vector512.Sum(a22), Vector512.Sum(a23));
                        AddSums(weightGradient, o + 3, t, taps, outChannels, Vector512.Sum(a30), Vector512.Sum(a31), Vector512.Sum(a32), Vector512.Sum(a33));
                    }
                }

                return;
            }

            if (Vector256.IsHardwareAccelerated && Fma.IsSupported)
            {
                for (int o = 0; o < outRounded; o += 4)
                {
                    for (int t = 0; t < taps; t += 2)
                    {
                        int x0 = TapOffset(shape, t), x1 = TapOffset(shape, t + 1);
                        Vector256<T> a00 = default, a01 = default, a10 = default, a11 = default, a20 = default, a21 = default, a30 = default, a31 = default;
                        for (int j = 0; j < images; j++)
                        {
                            ref T xj = ref Unsafe.Add(ref x, j * inputStride);
                            ref T d0 = ref Unsafe.Add(ref dy, (j * gradientStride) + (o * wide));
                            ref T d1 = ref Unsafe.Add(ref d0, wide), d2 = ref Unsafe.Add(ref d0, 2 * wide), d3 = ref Unsafe.Add(ref d0, 3 * wide);
                            ref T s0 = ref Unsafe.Add(ref xj, x0), s1 = ref Unsafe.Add(ref xj, x1);
                            for (nuint p = 0; p < (nuint)wide; p += (nuint)Vector256<T>.Count)
                            {
                                Vector256<T> g0 = Vector256.LoadUnsafe(ref d0, p), g1 = Vector256.LoadUnsafe(ref d1, p), g2 = Vector256.LoadUnsafe(ref d2, p), g3 = Vector256.LoadUnsafe(ref d3, p);
                                Vector256<T> v = Vector256.LoadUnsafe(ref s0, p);
                                a00 = VectorOps.MultiplyAdd(g0, v, a00);
                                a10 = VectorOps.MultiplyAdd(g1, v, a10);
                                a20 = VectorOps.MultiplyAdd(g2, v, a20);
                                a30 = VectorOps.MultiplyAdd(g3, v, a30);
                                v = Vector256.LoadUnsafe(ref s1, p);
                                a01 = VectorOps.MultiplyAdd(g0, v, a01);
                                a11 = VectorOps.MultiplyAdd(g1, v, a11);
                                a21 = VectorOps.MultiplyAdd(g2, v, a21);
                                a31 = VectorOps.MultiplyAdd(g3, v, a31);
                            }
                        }

                        AddSums(weightGradient, o, t, taps, outChannels, Vector256.Sum(a00), Vector256.Sum(a01), T.Zero, T.Zero, width: 2);
                        AddSums(weightGradient, o + 1, t, taps, outChannels, Vector256.Sum(a10), Vector256.Sum(a11), T.Zero, T.Zero, width: 2);
                        AddSums(weightGradient, o + 2, t, taps, outChannels, Vector256.Sum(a20), Vector256.Sum(a21), T.Zero, T.Zero, width: 2);
                        AddSums(weightGradient, o + 3, t, taps, outChannels, Vector256.Sum(a30), Vector256.Sum(a31), T.Zero, T.Zero, width: 2);
                    }
                }

                return;
            }

            for (int o = 0; o < outChannels; o++)
            {
                for (int t = 0; t < taps; t++)
                {
                    int offset = TapOffset(shape, t);
                    T sum = T.Zero;
                    for (int j = 0; j < images; j++)
                    {
                        ref T s = ref Unsafe.Add(ref x, (j * inputStride) + offset);
                        ref T d = ref Unsafe.Add(ref dy, (j * gradientStride) + (o * wide));
                        for (int p = 0; p < wide; p++)
                        {
                            sum += Unsafe.Add(ref d, p) * Unsafe.Add(ref s, p);
                        }
                    }

                    weightGradient[(o * taps) + t] += sum;
                }
            }
        }

        /// <summary>Where tap t = (c·kernel + ky)·kernel + kx starts in a padded example; taps past the last read the last one's (their sums are dropped).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static int TapOffset(in PlaneConvolutionShape shape, int t)
        {
            int kernel = shape.Kernel, last = shape.Taps - 1;
            t = t < last ? t : last;
            int kx = t % kernel, rest = t / kernel, ky = rest % kernel, c = rest / kernel;
            return (c * shape.PaddedPlane) + (ky * shape.PaddedWidth) + kx;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void AddSums<T>(Span<T> weightGradient, int o, int t, int taps, int outChannels, T s0, T s1, T s2, T s3, int width = 4)
            where T : unmanaged, IBinaryFloatingPointIeee754<T>
        {
            if (o >= outChannels)
            {
                return;
            }

            Span<T> row = weightGradient.Slice(o * taps, taps);
            if (t < taps)
            {
                row[t] += s0;
            }

            if (t + 1 < taps)
            {
                row[t + 1] += s1;
            }

            if (width == 4 && t + 2 < taps)
            {
                row[t + 2] += s2;
            }

            if (width == 4 && t + 3 < taps)
            {
                row[t + 3] += s3;
            }
        }

        /// <summary>Convolutions of at least this many multiply-adds are split across a team (as the matrix products).</summary>
        private const long ParallelThreshold = 1L << 20;

        private static int Parts(in PlaneConvolutionShape shape, int batch, WorkerTeam? team) =>
            team is null || batch < 2 || (long)batch * shape.OutChannels * shape.OutHeight * shape.OutWidth * shape.Taps < ParallelThreshold
                ? 1
                : team.Threads;

        private static int First(int batch, int part, int parts) => (int)((long)batch * part / parts);

        private static void Add<T>(ReadOnlySpan<T> source, Span<T> target)
            where T : unmanaged, IBinaryFloatingPointIeee754<T>
        {
            for (int i = 0; i < source.Length; i++)
            {
                target[i] += source[i];
            }
        }

        /// <summary>One thread's examples of a forward pass; the spans are pinned by the caller for the job's lifetime.</summary>
        private unsafe struct ForwardJob<T> : IPartitionedJob
            where T : unmanaged, IBinaryFloatingPointIeee754<T>
        {
            public PlaneConvolutionShape Shape;
            public T* Input;
            public T* Weights;
            public T* Bias;
            public bool HasBias;
            public T* Output;
            public int Batch;
            public PlaneConvolutionWorkspace<T> Workspace;

            public void Run(int part, int parts)
            {
                int first = First(Batch, part, parts), count = First(Batch, part + 1, parts) - first;
                if (count == 0)
                {
                    return;
                }

                int inputSize = Shape.InputSize, outputSize = Shape.OutputSize;
                ForwardExamples(
                    Shape,
                    new ReadOnlySpan<T>(Input + ((nint)first * inputSize), count * inputSize),
                    count,
                    new ReadOnlySpan<T>(Weights, Shape.WeightCount),
                    HasBias ? new ReadOnlySpan<T>(Bias, Shape.OutChannels) : default,
                    new Span<T>(Output + ((nint)first * outputSize), count * outputSize),
                    Workspace.Part(part));
            }
        }

        /// <summary>One thread's examples of a backward pass: part 0 adds to the gradients, the others to their own partial sums.</summary>
        private unsafe struct BackwardJob<T> : IPartitionedJob
            where T : unmanaged, IBinaryFloatingPointIeee754<T>
        {
            public PlaneConvolutionShape Shape;
            public T* Input;
            public T* OutputGradient;
            public T* Weights;
            public T* WeightGradient;
            public T* BiasGradient;
            public bool HasBias;
            public T* InputGradient;
            public bool HasInputGradient;
            public bool AddInputGradient;
            public int Batch;
            public PlaneConvolutionWorkspace<T> Workspace;
            public int PartsRun;

            public void Run(int part, int parts)
            {
                if (part == 0)
                {
                    PartsRun = parts; // the team runs a job as one part when its workers are busy
                }

                int weights = Shape.WeightCount, outChannels = Shape.OutChannels;
                Span<T> weightGradient = new Span<T>(WeightGradient, weights), biasGradient = HasBias ? new Span<T>(BiasGradient, outChannels) : default;
                if (part != 0)
                {
                    Span<T> partial = Workspace.Partial(part);
                    partial.Clear();
                    weightGradient = partial.Slice(0, weights);
                    biasGradient = HasBias ? partial.Slice(weights, outChannels) : default;
                }

                int first = First(Batch, part, parts), count = First(Batch, part + 1, parts) - first;
                if (count == 0)
                {
                    return;
                }

                int inputSize = Shape.InputSize, outputSize = Shape.OutputSize;
                BackwardExamples(
                    Shape,
                    new ReadOnlySpan<T>(Input + ((nint)first * inputSize), count * inputSize),
                    new ReadOnlySpan<T>(OutputGradient + ((nint)first * outputSize), count * outputSize),
                    count,
                    new ReadOnlySpan<T>(Weights, weights),
                    weightGradient,
                    biasGradient,
                    HasInputGradient ? new Span<T>(InputGradient + ((nint)first * inputSize), count * inputSize) : default,
                    AddInputGradient,
                    Workspace.Part(part));
            }
        }

        private static void CheckCommon<T>(in PlaneConvolutionShape shape, ReadOnlySpan<T> input, int batch, ReadOnlySpan<T> weights, PlaneConvolutionWorkspace<T> workspace)
            where T : unmanaged, IBinaryFloatingPointIeee754<T>
        {
            ArgumentNullException.ThrowIfNull(workspace);
            if (batch < 0)
            {
                throw new ArgumentOutOfRangeException(nameof(batch), batch, "The batch must be 0 or positive.");
            }

            if (shape.ScratchLength == 0)
            {
                throw new ArgumentException("The shape is default(PlaneConvolutionShape); construct it with the convolution's sizes.", nameof(shape));
            }

            if (!(input.Length >= batch * shape.InputSize))
            {
                Throw(nameof(input), $"at least {batch} × {shape.InputSize} elements ({shape})", input.Length);
            }

            if (!(weights.Length == shape.WeightCount))
            {
                Throw(nameof(weights), $"{shape.WeightCount} elements ([{shape.OutChannels}, {shape.InChannels}, {shape.Kernel}, {shape.Kernel}])", weights.Length);
            }

            if (!workspace.Shape.Equals(shape))
            {
                throw new ArgumentException($"The workspace was made for {workspace.Shape}, not {shape}.", nameof(workspace));
            }
        }

        /// <summary>Called only on failure, so the message is built only then (an interpolated argument would allocate on every call).</summary>
        private static void Throw(string name, string expected, int actual) =>
            throw new ArgumentException($"{name} must have {expected}, but has {actual}.", name);
    }
}
