using System;
using System.Numerics;

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

        /// <summary>Max pooling's backward pass: clears <paramref name="inputGradient"/>, then adds each output gradient to the input its maximum came from.</summary>
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
            inputGradient.Slice(0, batch * inputSize).Clear();
            for (int b = 0; b < batch; b++)
            {
                Span<T> dX = inputGradient.Slice(b * inputSize, inputSize);
                for (int o = b * outputSize; o < (b + 1) * outputSize; o++)
                {
                    dX[indices[o]] += outputGradient[o];
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
    }
}
