using System;
using System.Numerics;

namespace StaticGrad.Kernels
{
    /// <summary>
    /// The data movement of a 2-D convolution, for generated Conv2d layers: im2col (each kernel position's input window
    /// as a column, so the convolution becomes one matrix product per example on StaticGrad's GEMM kernels), its adjoint
    /// col2im, and the per-channel bias. Layout is PyTorch's NCHW: one example is <c>[channels × height × width]</c>.
    /// </summary>
    public static class Convolution
    {
        /// <summary>
        /// Writes <paramref name="columns"/> <c>[channels·kernel·kernel × outHeight·outWidth]</c>: row <c>(c, ki, kj)</c>,
        /// column <c>(oy, ox)</c> holds <c>input[c, oy·stride − padding + ki, ox·stride − padding + kj]</c>, or 0 in the padding.
        /// </summary>
        /// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
        /// <param name="input">One example, <c>[channels × height × width]</c>.</param>
        /// <param name="channels">Input channels.</param>
        /// <param name="height">Input height.</param>
        /// <param name="width">Input width.</param>
        /// <param name="kernel">Kernel side.</param>
        /// <param name="stride">Step between kernel positions.</param>
        /// <param name="padding">Zeros on every side.</param>
        /// <param name="outHeight">Output height.</param>
        /// <param name="outWidth">Output width.</param>
        /// <param name="columns">Receives the columns.</param>
        public static void Im2Col<T>(ReadOnlySpan<T> input, int channels, int height, int width, int kernel, int stride, int padding, int outHeight, int outWidth, Span<T> columns)
            where T : unmanaged, IBinaryFloatingPointIeee754<T>
        {
            int plane = outHeight * outWidth;
            for (int c = 0; c < channels; c++)
            {
                ReadOnlySpan<T> channel = input.Slice(c * height * width, height * width);
                for (int ki = 0; ki < kernel; ki++)
                {
                    for (int kj = 0; kj < kernel; kj++)
                    {
                        Span<T> row = columns.Slice((((c * kernel) + ki) * kernel + kj) * plane, plane);
                        for (int oy = 0; oy < outHeight; oy++)
                        {
                            Span<T> outRow = row.Slice(oy * outWidth, outWidth);
                            int iy = (oy * stride) - padding + ki;
                            if ((uint)iy >= (uint)height)
                            {
                                outRow.Clear();
                                continue;
                            }

                            ReadOnlySpan<T> inRow = channel.Slice(iy * width, width);
                            // The columns ox whose input column ix = ox·stride − padding + kj lies inside [0, width).
                            int first = Math.Max(0, CeilDiv(padding - kj, stride));
                            int last = Math.Min(outWidth, CeilDiv(width + padding - kj, stride)); // exclusive
                            if (last <= first)
                            {
                                outRow.Clear();
                                continue;
                            }

                            outRow.Slice(0, first).Clear();
                            outRow.Slice(last).Clear();
                            int ix = (first * stride) - padding + kj;
                            if (stride == 1)
                            {
                                inRow.Slice(ix, last - first).CopyTo(outRow.Slice(first));
                            }
                            else
                            {
                                for (int ox = first; ox < last; ox++, ix += stride)
                                {
                                    outRow[ox] = inRow[ix];
                                }
                            }
                        }
                    }
                }
            }
        }

        /// <summary>The adjoint of <see cref="Im2Col{T}"/>: adds each column entry back onto the input position it came from (padding dropped).</summary>
        /// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
        /// <param name="columns">Gradients of the columns, <c>[channels·kernel·kernel × outHeight·outWidth]</c>.</param>
        /// <param name="channels">Input channels.</param>
        /// <param name="height">Input height.</param>
        /// <param name="width">Input width.</param>
        /// <param name="kernel">Kernel side.</param>
        /// <param name="stride">Step between kernel positions.</param>
        /// <param name="padding">Zeros on every side.</param>
        /// <param name="outHeight">Output height.</param>
        /// <param name="outWidth">Output width.</param>
        /// <param name="inputGradient">One example's input gradient, added to.</param>
        public static void Col2ImAdd<T>(ReadOnlySpan<T> columns, int channels, int height, int width, int kernel, int stride, int padding, int outHeight, int outWidth, Span<T> inputGradient)
            where T : unmanaged, IBinaryFloatingPointIeee754<T>
        {
            int plane = outHeight * outWidth;
            for (int c = 0; c < channels; c++)
            {
                Span<T> channel = inputGradient.Slice(c * height * width, height * width);
                for (int ki = 0; ki < kernel; ki++)
                {
                    for (int kj = 0; kj < kernel; kj++)
                    {
                        ReadOnlySpan<T> row = columns.Slice((((c * kernel) + ki) * kernel + kj) * plane, plane);
                        int first = Math.Max(0, CeilDiv(padding - kj, stride));
                        int last = Math.Min(outWidth, CeilDiv(width + padding - kj, stride));
                        for (int oy = 0; oy < outHeight; oy++)
                        {
                            int iy = (oy * stride) - padding + ki;
                            if ((uint)iy >= (uint)height)
                            {
                                continue;
                            }

                            Span<T> inRow = channel.Slice(iy * width, width);
                            ReadOnlySpan<T> outRow = row.Slice(oy * outWidth, outWidth);
                            int ix = (first * stride) - padding + kj;
                            for (int ox = first; ox < last; ox++, ix += stride)
                            {
                                inRow[ix] += outRow[ox];
                            }
                        }
                    }
                }
            }
        }

        /// <summary>Adds <c>bias[c]</c> to every value of channel c of one example's output <c>[channels × plane]</c>.</summary>
        /// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
        /// <param name="output">One example's output.</param>
        /// <param name="bias">One value per channel.</param>
        /// <param name="plane">Values per channel (outHeight·outWidth).</param>
        public static void AddChannelBias<T>(Span<T> output, ReadOnlySpan<T> bias, int plane)
            where T : unmanaged, IBinaryFloatingPointIeee754<T>
        {
            for (int c = 0; c < bias.Length; c++)
            {
                T b = bias[c];
                Span<T> values = output.Slice(c * plane, plane);
                for (int e = 0; e < values.Length; e++)
                {
                    values[e] += b;
                }
            }
        }

        /// <summary>Adds to <c>biasGradient[c]</c> the sum of channel c of one example's output gradient <c>[channels × plane]</c>.</summary>
        /// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
        /// <param name="outputGradient">One example's output gradient.</param>
        /// <param name="biasGradient">One value per channel, added to.</param>
        /// <param name="plane">Values per channel.</param>
        public static void SumChannels<T>(ReadOnlySpan<T> outputGradient, Span<T> biasGradient, int plane)
            where T : unmanaged, IBinaryFloatingPointIeee754<T>
        {
            for (int c = 0; c < biasGradient.Length; c++)
            {
                T sum = T.Zero;
                ReadOnlySpan<T> values = outputGradient.Slice(c * plane, plane);
                for (int e = 0; e < values.Length; e++)
                {
                    sum += values[e];
                }

                biasGradient[c] += sum;
            }
        }

        private static int CeilDiv(int value, int divisor) => value <= 0 ? -(-value / divisor) : ((value + divisor - 1) / divisor);
    }
}
