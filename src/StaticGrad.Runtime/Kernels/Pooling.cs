using System;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace StaticGrad.Kernels
{
    /// <summary>
    /// Max and average pooling over a batch in NCHW layout (no padding), forward and backward, for generated
    /// MaxPool2d and AvgPool2d layers. Max pooling records which input each output came from, so its backward pass
    /// routes each gradient to that one input (the first maximum of a window, as PyTorch; a NaN wins, as in PyTorch).
    /// </summary>
    public static class Pooling
    {
        /// <summary>Max pooling: each output is the largest input of its kernel×kernel window, per channel.</summary>
        /// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
        /// <param name="input">The batch, <c>[batch × channels × height × width]</c>.</param>
        /// <param name="batch">Examples.</param>
        /// <param name="channels">Channels.</param>
        /// <param name="height">Input height.</param>
        /// <param name="width">Input width.</param>
        /// <param name="kernel">Window side.</param>
        /// <param name="stride">Step between windows.</param>
        /// <param name="outHeight">Output height.</param>
        /// <param name="outWidth">Output width.</param>
        /// <param name="output">Receives <c>[batch × channels × outHeight × outWidth]</c>.</param>
        /// <param name="indices">Receives, per output, the position of its maximum within the example's input.</param>
        public static void MaxPool<T>(ReadOnlySpan<T> input, int batch, int channels, int height, int width, int kernel, int stride, int outHeight, int outWidth, Span<T> output, Span<int> indices)
            where T : unmanaged, IBinaryFloatingPointIeee754<T>
        {
            int inPlane = height * width, outPlane = outHeight * outWidth;
            if (input.Length < batch * channels * inPlane || output.Length < batch * channels * outPlane || indices.Length < batch * channels * outPlane)
            {
                throw new ArgumentException("input, output or indices is shorter than the shapes say.");
            }

            ref T x = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(input);
            ref T y = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(output);
            ref int index = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(indices);
            if (typeof(T) == typeof(float) && kernel == 2 && stride == 2 && BitConverter.IsLittleEndian) // the left value of a pair is a 64-bit lane's low half
            {
                if (outWidth >= 8 && Vector256.IsHardwareAccelerated)
                {
                    MaxPool2x2(ref Unsafe.As<T, float>(ref x), batch * channels, channels, height, width, outHeight, outWidth, ref Unsafe.As<T, float>(ref y), ref index, 0, default(StoredValues));
                    return;
                }

                if (outWidth >= 4 && Vector128.IsHardwareAccelerated)
                {
                    MaxPool2x2Narrow(ref Unsafe.As<T, float>(ref x), batch * channels, channels, height, width, outHeight, outWidth, ref Unsafe.As<T, float>(ref y), ref index);
                    return;
                }
            }

            int o = 0;
            for (int plane = 0; plane < batch * channels; plane++)
            {
                int planeBase = plane * inPlane;
                int channelBase = (plane % channels) * inPlane; // indices count within the example
                for (int oy = 0; oy < outHeight; oy++)
                {
                    for (int ox = 0; ox < outWidth; ox++, o++)
                    {
                        int start = (oy * stride * width) + (ox * stride);
                        int bestIndex = start;
                        T best = System.Runtime.CompilerServices.Unsafe.Add(ref x, planeBase + start);
                        if (kernel == 2)
                        {
                            // The common 2×2 window, unrolled: the same first-maximum and NaN rules as the loop below.
                            ref T window = ref System.Runtime.CompilerServices.Unsafe.Add(ref x, planeBase + start);
                            T b1 = System.Runtime.CompilerServices.Unsafe.Add(ref window, 1);
                            T b2 = System.Runtime.CompilerServices.Unsafe.Add(ref window, width);
                            T b3 = System.Runtime.CompilerServices.Unsafe.Add(ref window, width + 1);
                            if (b1 > best || (T.IsNaN(b1) && !T.IsNaN(best)))
                            {
                                best = b1;
                                bestIndex = start + 1;
                            }

                            if (b2 > best || (T.IsNaN(b2) && !T.IsNaN(best)))
                            {
                                best = b2;
                                bestIndex = start + width;
                            }

                            if (b3 > best || (T.IsNaN(b3) && !T.IsNaN(best)))
                            {
                                best = b3;
                                bestIndex = start + width + 1;
                            }

                            System.Runtime.CompilerServices.Unsafe.Add(ref y, o) = best;
                            System.Runtime.CompilerServices.Unsafe.Add(ref index, o) = channelBase + bestIndex;
                            continue;
                        }

                        for (int ki = 0; ki < kernel; ki++)
                        {
                            int rowStart = start + (ki * width);
                            for (int kj = 0; kj < kernel; kj++)
                            {
                                T v = System.Runtime.CompilerServices.Unsafe.Add(ref x, planeBase + rowStart + kj);
                                // The first maximum wins; a NaN wins over any number and stays (v > best is false for a NaN best).
                                if (v > best || (T.IsNaN(v) && !T.IsNaN(best)))
                                {
                                    best = v;
                                    bestIndex = rowStart + kj;
                                }
                            }
                        }

                        System.Runtime.CompilerServices.Unsafe.Add(ref y, o) = best;
                        System.Runtime.CompilerServices.Unsafe.Add(ref index, o) = channelBase + bestIndex;
                    }
                }
            }
        }

        /// <summary>
        /// The common 2×2, stride-2 window on floats, 8 windows per step and no branches: the two input rows are loaded as
        /// vectors, <see cref="Vector256.Narrow(Vector256{ulong}, Vector256{ulong})"/> splits each into its left and right
        /// columns (the low and high halves of every 64-bit pair), and the four candidates are compared in the scalar
        /// loop's order with the same rules (the first maximum wins; a NaN wins over any number and stays).
        /// </summary>
        /// <typeparam name="TValues">How the rows are read (<see cref="StoredValues"/>, or a transform computed on the way in).</typeparam>
        /// <param name="x">The first plane.</param>
        /// <param name="planes">Planes to pool, one after the other.</param>
        /// <param name="channels">Channels per example (an index counts within its example).</param>
        /// <param name="height">Input height.</param>
        /// <param name="width">Input width.</param>
        /// <param name="outHeight">Output height.</param>
        /// <param name="outWidth">Output width, at least 8.</param>
        /// <param name="y">Receives the pooled values.</param>
        /// <param name="index">Receives their indices.</param>
        /// <param name="indexOffset">Added to every index (a caller that pools one plane of a larger example gives the plane's offset in it).</param>
        /// <param name="values">What the windows hold: the input as stored, or a transform of it computed as the rows are read.</param>
        internal static void MaxPool2x2<TValues>(ref float x, int planes, int channels, int height, int width, int outHeight, int outWidth, ref float y, ref int index, int indexOffset, TValues values)
            where TValues : struct, IPoolValues
        {
            int inPlane = height * width, outPlane = outHeight * outWidth;
            Vector256<int> lanePairs = Vector256.Create(0, 2, 4, 6, 8, 10, 12, 14);
            Vector256<int> right = Vector256.Create(1), below = Vector256.Create(width), belowRight = Vector256.Create(width + 1);
            for (int plane = 0; plane < planes; plane++)
            {
                int channelBase = ((plane % channels) * inPlane) + indexOffset; // indices count within the example
                ref float source = ref Unsafe.Add(ref x, plane * inPlane);
                ref float target = ref Unsafe.Add(ref y, plane * outPlane);
                ref int targetIndex = ref Unsafe.Add(ref index, plane * outPlane);
                for (int oy = 0; oy < outHeight; oy++)
                {
                    int rowStart = 2 * oy * width;
                    ref float top = ref Unsafe.Add(ref source, rowStart);
                    ref float bottom = ref Unsafe.Add(ref top, width);
                    ref float outRow = ref Unsafe.Add(ref target, oy * outWidth);
                    ref int outIndex = ref Unsafe.Add(ref targetIndex, oy * outWidth);
                    for (int ox = 0; ; ox += 8)
                    {
                        ox = Math.Min(ox, outWidth - 8); // the last step overlaps the one before: same values, no scalar tail
                        Vector256<ulong> t0 = values.Load(ref Unsafe.Add(ref top, 2 * ox)).AsUInt64(), t1 = values.Load(ref Unsafe.Add(ref top, (2 * ox) + 8)).AsUInt64();
                        Vector256<ulong> b0 = values.Load(ref Unsafe.Add(ref bottom, 2 * ox)).AsUInt64(), b1 = values.Load(ref Unsafe.Add(ref bottom, (2 * ox) + 8)).AsUInt64();
                        Vector256<float> best = Vector256.Narrow(t0, t1).AsSingle();
                        Vector256<int> offset = Vector256<int>.Zero;
                        Candidate(ref best, ref offset, Vector256.Narrow(Vector256.ShiftRightLogical(t0, 32), Vector256.ShiftRightLogical(t1, 32)).AsSingle(), right);
                        Candidate(ref best, ref offset, Vector256.Narrow(b0, b1).AsSingle(), below);
                        Candidate(ref best, ref offset, Vector256.Narrow(Vector256.ShiftRightLogical(b0, 32), Vector256.ShiftRightLogical(b1, 32)).AsSingle(), belowRight);
                        best.StoreUnsafe(ref Unsafe.Add(ref outRow, ox));
                        (Vector256.Create(channelBase + rowStart + (2 * ox)) + lanePairs + offset).StoreUnsafe(ref Unsafe.Add(ref outIndex, ox));

                        if (ox == outWidth - 8)
                        {
                            break;
                        }
                    }
                }
            }
        }

        /// <summary>What <see cref="MaxPool2x2{TValues}"/> pools: 8 values read at a position, as stored or transformed on the way in.</summary>
        internal interface IPoolValues
        {
            /// <summary>The 8 values at <paramref name="at"/>.</summary>
            Vector256<float> Load(ref float at);
        }

        /// <summary>The input as it is stored.</summary>
        private readonly struct StoredValues : IPoolValues
        {
            public Vector256<float> Load(ref float at) => Vector256.LoadUnsafe(ref at);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Candidate(ref Vector256<float> best, ref Vector256<int> offset, Vector256<float> value, Vector256<int> valueOffset)
        {
            // value > best, or value is NaN and best is not (x != x only for NaN)
            Vector256<float> take = Vector256.GreaterThan(value, best) | (~Vector256.Equals(value, value) & Vector256.Equals(best, best));
            best = Vector256.ConditionalSelect(take, value, best);
            offset = Vector256.ConditionalSelect(take.AsInt32(), valueOffset, offset);
        }

        /// <summary><see cref="MaxPool2x2"/> with 4 windows per step, for outputs 4 to 7 wide (a 14×14 map pooled to 7×7).</summary>
        private static void MaxPool2x2Narrow(ref float x, int planes, int channels, int height, int width, int outHeight, int outWidth, ref float y, ref int index)
        {
            int inPlane = height * width, outPlane = outHeight * outWidth;
            Vector128<int> lanePairs = Vector128.Create(0, 2, 4, 6);
            Vector128<int> right = Vector128.Create(1), below = Vector128.Create(width), belowRight = Vector128.Create(width + 1);
            for (int plane = 0; plane < planes; plane++)
            {
                int channelBase = (plane % channels) * inPlane;
                ref float source = ref Unsafe.Add(ref x, plane * inPlane);
                for (int oy = 0; oy < outHeight; oy++)
                {
                    int rowStart = 2 * oy * width;
                    ref float top = ref Unsafe.Add(ref source, rowStart);
                    ref float bottom = ref Unsafe.Add(ref top, width);
                    ref float outRow = ref Unsafe.Add(ref y, (plane * outPlane) + (oy * outWidth));
                    ref int outIndex = ref Unsafe.Add(ref index, (plane * outPlane) + (oy * outWidth));
                    for (int ox = 0; ; ox += 4)
                    {
                        ox = Math.Min(ox, outWidth - 4); // the last step overlaps the one before: same values, no scalar tail
                        Vector128<ulong> t0 = Vector128.LoadUnsafe(ref Unsafe.Add(ref top, 2 * ox)).AsUInt64(), t1 = Vector128.LoadUnsafe(ref Unsafe.Add(ref top, (2 * ox) + 4)).AsUInt64();
                        Vector128<ulong> b0 = Vector128.LoadUnsafe(ref Unsafe.Add(ref bottom, 2 * ox)).AsUInt64(), b1 = Vector128.LoadUnsafe(ref Unsafe.Add(ref bottom, (2 * ox) + 4)).AsUInt64();
                        Vector128<float> best = Vector128.Narrow(t0, t1).AsSingle();
                        Vector128<int> offset = Vector128<int>.Zero;
                        Candidate(ref best, ref offset, Vector128.Narrow(Vector128.ShiftRightLogical(t0, 32), Vector128.ShiftRightLogical(t1, 32)).AsSingle(), right);
                        Candidate(ref best, ref offset, Vector128.Narrow(b0, b1).AsSingle(), below);
                        Candidate(ref best, ref offset, Vector128.Narrow(Vector128.ShiftRightLogical(b0, 32), Vector128.ShiftRightLogical(b1, 32)).AsSingle(), belowRight);
                        best.StoreUnsafe(ref Unsafe.Add(ref outRow, ox));
                        (Vector128.Create(channelBase + rowStart + (2 * ox)) + lanePairs + offset).StoreUnsafe(ref Unsafe.Add(ref outIndex, ox));
                        if (ox == outWidth - 4)
                        {
                            break;
                        }
                    }
                }
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Candidate(ref Vector128<float> best, ref Vector128<int> offset, Vector128<float> value, Vector128<int> valueOffset)
        {
            Vector128<float> take = Vector128.GreaterThan(value, best) | (~Vector128.Equals(value, value) & Vector128.Equals(best, best));
            best = Vector128.ConditionalSelect(take, value, best);
            offset = Vector128.ConditionalSelect(take.AsInt32(), valueOffset, offset);
        }

        /// <summary>
        /// Max pooling's backward pass: clears <paramref name="inputGradient"/>, then adds each output gradient to the input its
        /// maximum came from. One example at a time, so its cleared gradient is still in cache when the additions land on it.
        /// </summary>
        /// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
        /// <param name="outputGradient">∂L/∂output, <c>[batch × outputSize]</c>.</param>
        /// <param name="indices">What <see cref="MaxPool{T}"/> recorded.</param>
        /// <param name="batch">Examples.</param>
        /// <param name="inputSize">Values per example in.</param>
        /// <param name="outputSize">Values per example out.</param>
        /// <param name="inputGradient">Receives ∂L/∂input, <c>[batch × inputSize]</c>.</param>
        public static void MaxPoolBackward<T>(ReadOnlySpan<T> outputGradient, ReadOnlySpan<int> indices, int batch, int inputSize, int outputSize, Span<T> inputGradient)
            where T : unmanaged, IBinaryFloatingPointIeee754<T>
        {
            for (int b = 0; b < batch; b++)
            {
                Span<T> dX = inputGradient.Slice(b * inputSize, inputSize);
                dX.Clear();
                for (int o = b * outputSize; o < (b + 1) * outputSize; o++)
                {
                    dX[indices[o]] += outputGradient[o];
                }
            }
        }

        /// <summary>
        /// Max pooling's backward pass with the pooling's geometry: the same values as
        /// <see cref="MaxPoolBackward{T}(ReadOnlySpan{T}, ReadOnlySpan{int}, int, int, int, Span{T})"/>. For the common 2×2
        /// window of stride 2 on floats, 8 windows wide or more, the windows do not overlap and tile the plane but for an odd last
        /// row or column, so each input row is written once, densely, from the pooled gradients and indices (the gradient where
        /// the index names the position, 0 elsewhere): one pass of stores instead of clearing the whole gradient and then adding
        /// into it at scattered positions.
        /// </summary>
        /// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
        /// <param name="outputGradient">∂L/∂output, <c>[batch × channels × outHeight × outWidth]</c>.</param>
        /// <param name="indices">What <see cref="MaxPool{T}"/> recorded.</param>
        /// <param name="batch">Examples.</param>
        /// <param name="channels">Channels.</param>
        /// <param name="height">Input height.</param>
        /// <param name="width">Input width.</param>
        /// <param name="kernel">Window side.</param>
        /// <param name="stride">Step between windows.</param>
        /// <param name="outHeight">Output height.</param>
        /// <param name="outWidth">Output width.</param>
        /// <param name="inputGradient">Receives ∂L/∂input, <c>[batch × channels × height × width]</c>.</param>
        public static void MaxPoolBackward<T>(ReadOnlySpan<T> outputGradient, ReadOnlySpan<int> indices, int batch, int channels, int height, int width, int kernel, int stride, int outHeight, int outWidth, Span<T> inputGradient)
            where T : unmanaged, IBinaryFloatingPointIeee754<T>
        {
            int inPlane = height * width, outPlane = outHeight * outWidth;
            if (typeof(T) != typeof(float) || kernel != 2 || stride != 2 || outWidth < 8 || !Avx2.IsSupported)
            {
                MaxPoolBackward(outputGradient, indices, batch, channels * inPlane, channels * outPlane, inputGradient);
                return;
            }

            if (outputGradient.Length < batch * channels * outPlane || indices.Length < batch * channels * outPlane || inputGradient.Length < batch * channels * inPlane)
            {
                throw new ArgumentException("outputGradient, indices or inputGradient is shorter than the shapes say.");
            }

            ref float g = ref Unsafe.As<T, float>(ref System.Runtime.InteropServices.MemoryMarshal.GetReference(outputGradient));
            ref int index = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(indices);
            ref float dX = ref Unsafe.As<T, float>(ref System.Runtime.InteropServices.MemoryMarshal.GetReference(inputGradient));
            Vector256<int> lowPairs = Vector256.Create(0, 0, 1, 1, 2, 2, 3, 3), highPairs = Vector256.Create(4, 4, 5, 5, 6, 6, 7, 7);
            Vector256<int> columns = Vector256.Create(0, 1, 2, 3, 4, 5, 6, 7);
            for (int plane = 0; plane < batch * channels; plane++)
            {
                int channelBase = (plane % channels) * inPlane; // indices count within the example
                ref float planeGradient = ref Unsafe.Add(ref dX, plane * inPlane);
                for (int oy = 0; oy < outHeight; oy++)
                {
                    ref float gradients = ref Unsafe.Add(ref g, (plane * outPlane) + (oy * outWidth));
                    ref int rowIndices = ref Unsafe.Add(ref index, (plane * outPlane) + (oy * outWidth));
                    ref float top = ref Unsafe.Add(ref planeGradient, 2 * oy * width);
                    int topStart = channelBase + (2 * oy * width);
                    for (int ox = 0; ; ox += 8)
                    {
                        ox = Math.Min(ox, outWidth - 8); // the last step overlaps the one before: the same values again
                        Vector256<float> windowGradients = Vector256.LoadUnsafe(ref gradients, (nuint)ox) + Vector256<float>.Zero; // −0 becomes +0, as 0 + g does
                        Vector256<int> windowIndices = Vector256.LoadUnsafe(ref rowIndices, (nuint)ox);
                        Vector256<float> gradientLow = Avx2.PermuteVar8x32(windowGradients, lowPairs), gradientHigh = Avx2.PermuteVar8x32(windowGradients, highPairs);
                        Vector256<int> indexLow = Avx2.PermuteVar8x32(windowIndices, lowPairs), indexHigh = Avx2.PermuteVar8x32(windowIndices, highPairs);
                        Vector256<int> at = Vector256.Create(topStart + (2 * ox)) + columns;
                        ref float topAt = ref Unsafe.Add(ref top, 2 * ox);
                        ref float bottomAt = ref Unsafe.Add(ref topAt, width);
                        (gradientLow & Vector256.Equals(indexLow, at).AsSingle()).StoreUnsafe(ref topAt);
                        (gradientHigh & Vector256.Equals(indexHigh, at + Vector256.Create(8)).AsSingle()).StoreUnsafe(ref topAt, 8);
                        (gradientLow & Vector256.Equals(indexLow, at + Vector256.Create(width)).AsSingle()).StoreUnsafe(ref bottomAt);
                        (gradientHigh & Vector256.Equals(indexHigh, at + Vector256.Create(width + 8)).AsSingle()).StoreUnsafe(ref bottomAt, 8);
                        if (ox == outWidth - 8)
                        {
                            break;
                        }
                    }

                    if (width > 2 * outWidth)
                    {
                        Unsafe.Add(ref top, width - 1) = 0; // an odd last column belongs to no window
                        Unsafe.Add(ref top, (2 * width) - 1) = 0;
                    }
                }

                if (height > 2 * outHeight)
                {
                    System.Runtime.InteropServices.MemoryMarshal.CreateSpan(ref Unsafe.Add(ref planeGradient, 2 * outHeight * width), width).Clear(); // an odd last row
                }
            }
        }

        /// <summary>Average pooling: each output is the mean of its kernel×kernel window, per channel.</summary>
        /// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
        /// <param name="input">The batch, <c>[batch × channels × height × width]</c>.</param>
        /// <param name="batch">Examples.</param>
        /// <param name="channels">Channels.</param>
        /// <param name="height">Input height.</param>
        /// <param name="width">Input width.</param>
        /// <param name="kernel">Window side.</param>
        /// <param name="stride">Step between windows.</param>
        /// <param name="outHeight">Output height.</param>
        /// <param name="outWidth">Output width.</param>
        /// <param name="output">Receives <c>[batch × channels × outHeight × outWidth]</c>.</param>
        public static void AvgPool<T>(ReadOnlySpan<T> input, int batch, int channels, int height, int width, int kernel, int stride, int outHeight, int outWidth, Span<T> output)
            where T : unmanaged, IBinaryFloatingPointIeee754<T>
        {
            int inPlane = height * width, outPlane = outHeight * outWidth;
            T scale = T.One / T.CreateTruncating(kernel * kernel);
            for (int plane = 0; plane < batch * channels; plane++)
            {
                ReadOnlySpan<T> x = input.Slice(plane * inPlane, inPlane);
                for (int oy = 0; oy < outHeight; oy++)
                {
                    for (int ox = 0; ox < outWidth; ox++)
                    {
                        T sum = T.Zero;
                        for (int ki = 0; ki < kernel; ki++)
                        {
                            int rowStart = ((oy * stride) + ki) * width + (ox * stride);
                            for (int kj = 0; kj < kernel; kj++)
                            {
                                sum += x[rowStart + kj];
                            }
                        }

                        output[(plane * outPlane) + (oy * outWidth) + ox] = sum * scale;
                    }
                }
            }
        }

        /// <summary>Average pooling's backward pass: clears <paramref name="inputGradient"/>, then spreads each output gradient evenly over its window.</summary>
        /// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
        /// <param name="outputGradient">∂L/∂output, <c>[batch × channels × outHeight × outWidth]</c>.</param>
        /// <param name="batch">Examples.</param>
        /// <param name="channels">Channels.</param>
        /// <param name="height">Input height.</param>
        /// <param name="width">Input width.</param>
        /// <param name="kernel">Window side.</param>
        /// <param name="stride">Step between windows.</param>
        /// <param name="outHeight">Output height.</param>
        /// <param name="outWidth">Output width.</param>
        /// <param name="inputGradient">Receives ∂L/∂input.</param>
        public static void AvgPoolBackward<T>(ReadOnlySpan<T> outputGradient, int batch, int channels, int height, int width, int kernel, int stride, int outHeight, int outWidth, Span<T> inputGradient)
            where T : unmanaged, IBinaryFloatingPointIeee754<T>
        {
            int inPlane = height * width, outPlane = outHeight * outWidth;
            inputGradient.Slice(0, batch * channels * inPlane).Clear();
            T scale = T.One / T.CreateTruncating(kernel * kernel);
            for (int plane = 0; plane < batch * channels; plane++)
            {
                Span<T> dX = inputGradient.Slice(plane * inPlane, inPlane);
                for (int oy = 0; oy < outHeight; oy++)
                {
                    for (int ox = 0; ox < outWidth; ox++)
                    {
                        T g = outputGradient[(plane * outPlane) + (oy * outWidth) + ox] * scale;
                        for (int ki = 0; ki < kernel; ki++)
                        {
                            int rowStart = ((oy * stride) + ki) * width + (ox * stride);
                            for (int kj = 0; kj < kernel; kj++)
                            {
                                dX[rowStart + kj] += g;
                            }
                        }
                    }
                }
            }
        }

        /// <summary>
        /// Global average pooling (PyTorch's <c>AdaptiveAvgPool2d(1)</c>): each channel's plane of H·W values becomes its
        /// mean, summed in double.
        /// </summary>
        /// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
        /// <param name="x">The batch, <c>[batch × channels × plane]</c>.</param>
        /// <param name="batch">Examples.</param>
        /// <param name="channels">Channels.</param>
        /// <param name="plane">Values per channel (H·W).</param>
        /// <param name="y">Receives <c>[batch × channels]</c>.</param>
        public static void GlobalAveragePool<T>(ReadOnlySpan<T> x, int batch, int channels, int plane, Span<T> y)
            where T : unmanaged, IBinaryFloatingPointIeee754<T>
        {
            System.Diagnostics.Debug.Assert(x.Length >= batch * channels * plane && y.Length >= batch * channels, "x or y is shorter than the shapes say.");
            ref T input = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(x);
            double inverse = 1.0 / plane;
            for (int p = 0; p < batch * channels; p++)
            {
                ref T values = ref Unsafe.Add(ref input, p * plane);
                double sum = 0;
                for (int i = 0; i < plane; i++)
                {
                    sum += double.CreateTruncating(Unsafe.Add(ref values, i));
                }

                y[p] = T.CreateTruncating(sum * inverse);
            }
        }

        /// <summary>Global average pooling's backward pass: every value of a plane receives its output's gradient / plane (overwritten).</summary>
        /// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
        /// <param name="outputGradient">∂L/∂y, <c>[batch × channels]</c>.</param>
        /// <param name="batch">Examples.</param>
        /// <param name="channels">Channels.</param>
        /// <param name="plane">Values per channel (H·W).</param>
        /// <param name="inputGradient">Receives ∂L/∂x, <c>[batch × channels × plane]</c>.</param>
        public static void GlobalAveragePoolBackward<T>(ReadOnlySpan<T> outputGradient, int batch, int channels, int plane, Span<T> inputGradient)
            where T : unmanaged, IBinaryFloatingPointIeee754<T>
        {
            System.Diagnostics.Debug.Assert(outputGradient.Length >= batch * channels && inputGradient.Length >= batch * channels * plane, "a gradient is shorter than the shapes say.");
            T scale = T.One / T.CreateTruncating(plane);
            for (int p = 0; p < batch * channels; p++)
            {
                inputGradient.Slice(p * plane, plane).Fill(outputGradient[p] * scale);
            }
        }
    }
}
