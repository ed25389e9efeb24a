using System;
using System.Numerics;

namespace StaticGrad.Kernels
{
    /// <summary>
    /// The data movement of a 2-D convolution, for generated Conv2d layers: im2row (each output position's input window as
    /// a row, so the convolution of a whole batch is one matrix product on StaticGrad's GEMM kernels), its adjoint row2im,
    /// and the turns between channels-last and NCHW. Layout is PyTorch's NCHW: one example is <c>[channels × height × width]</c>.
    /// </summary>
    public static class Convolution
    {
        /// <summary>
        /// Writes one example's patches as rows (im2row): row <c>oy·outWidth + ox</c> of <paramref name="rows"/>
        /// <c>[outHeight·outWidth × channels·kernel·kernel]</c> holds the window under output position (oy, ox), in the
        /// order (c, ki, kj) of PyTorch's weights, 0 in the padding. A batch of these rows times Wᵀ is the convolution in
        /// channels-last order, one large product instead of one per example.
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
        /// <param name="rows">Receives the rows.</param>
        public static void Im2Row<T>(ReadOnlySpan<T> input, int channels, int height, int width, int kernel, int stride, int padding, int outHeight, int outWidth, Span<T> rows)
            where T : unmanaged, IBinaryFloatingPointIeee754<T>
        {
            int patch = channels * kernel * kernel;
            if (rows.Length < outHeight * outWidth * patch || input.Length < channels * height * width)
            {
                throw new ArgumentException("rows or input is shorter than the shapes say.");
            }

            // Raw references: the windows are a few values long (3 for a 3×3 kernel), so span slicing would cost more than the copy.
            ref T source = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(input);
            ref T target = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(rows);
            int at = 0;
            for (int oy = 0; oy < outHeight; oy++)
            {
                int y0 = (oy * stride) - padding;
                for (int ox = 0; ox < outWidth; ox++)
                {
                    int x0 = (ox * stride) - padding;
                    bool inside = x0 >= 0 && x0 + kernel <= width;
                    for (int c = 0; c < channels; c++)
                    {
                        int channelBase = c * height * width;
                        for (int ki = 0; ki < kernel; ki++)
                        {
                            int iy = y0 + ki;
                            if ((uint)iy >= (uint)height)
                            {
                                for (int kj = 0; kj < kernel; kj++)
                                {
                                    System.Runtime.CompilerServices.Unsafe.Add(ref target, at++) = T.Zero;
                                }

                                continue;
                            }

                            int rowBase = channelBase + (iy * width) + x0;
                            if (inside)
                            {
                                for (int kj = 0; kj < kernel; kj++)
                                {
                                    System.Runtime.CompilerServices.Unsafe.Add(ref target, at++) = System.Runtime.CompilerServices.Unsafe.Add(ref source, rowBase + kj);
                                }
                            }
                            else
                            {
                                for (int kj = 0; kj < kernel; kj++)
                                {
                                    System.Runtime.CompilerServices.Unsafe.Add(ref target, at++) = (uint)(x0 + kj) < (uint)width
                                        ? System.Runtime.CompilerServices.Unsafe.Add(ref source, rowBase + kj)
                                        : T.Zero;
                                }
                            }
                        }
                    }
                }
            }
        }

        /// <summary>The adjoint of <see cref="Im2Row{T}"/>: adds each row entry back onto the input position it came from (padding dropped).</summary>
        /// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
        /// <param name="rows">Gradients of the rows, <c>[outHeight·outWidth × channels·kernel·kernel]</c>.</param>
        /// <param name="channels">Input channels.</param>
        /// <param name="height">Input height.</param>
        /// <param name="width">Input width.</param>
        /// <param name="kernel">Kernel side.</param>
        /// <param name="stride">Step between kernel positions.</param>
        /// <param name="padding">Zeros on every side.</param>
        /// <param name="outHeight">Output height.</param>
        /// <param name="outWidth">Output width.</param>
        /// <param name="inputGradient">One example's input gradient, added to.</param>
        public static void Row2ImAdd<T>(ReadOnlySpan<T> rows, int channels, int height, int width, int kernel, int stride, int padding, int outHeight, int outWidth, Span<T> inputGradient)
            where T : unmanaged, IBinaryFloatingPointIeee754<T>
        {
            int patch = channels * kernel * kernel;
            for (int oy = 0; oy < outHeight; oy++)
            {
                for (int ox = 0; ox < outWidth; ox++)
                {
                    ReadOnlySpan<T> row = rows.Slice(((oy * outWidth) + ox) * patch, patch);
                    int x0 = (ox * stride) - padding;
                    int first = Math.Max(0, -x0), last = Math.Min(kernel, width - x0);
                    for (int c = 0; c < channels; c++)
                    {
                        for (int ki = 0; ki < kernel; ki++)
                        {
                            int iy = (oy * stride) - padding + ki;
                            if ((uint)iy >= (uint)height)
                            {
                                continue;
                            }

                            ReadOnlySpan<T> segment = row.Slice(((c * kernel) + ki) * kernel, kernel);
                            int start = (((c * height) + iy) * width) + x0; // kj = first … last − 1 stay inside the row
                            for (int kj = first; kj < last; kj++)
                            {
                                inputGradient[start + kj] += segment[kj];
                            }
                        }
                    }
                }
            }
        }

        /// <summary>One example from channels-last <c>[plane × channels]</c> to channels-first <c>[channels × plane]</c> (NCHW).</summary>
        /// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
        /// <param name="channelsLast">The source.</param>
        /// <param name="channelsFirst">The destination.</param>
        /// <param name="channels">Channels.</param>
        /// <param name="plane">Positions per channel.</param>
        public static void ToChannelsFirst<T>(ReadOnlySpan<T> channelsLast, Span<T> channelsFirst, int channels, int plane)
            where T : unmanaged
        {
            for (int p = 0; p < plane; p++)
            {
                ReadOnlySpan<T> position = channelsLast.Slice(p * channels, channels);
                for (int c = 0; c < channels; c++)
                {
                    channelsFirst[(c * plane) + p] = position[c];
                }
            }
        }

        /// <summary>One example from channels-first <c>[channels × plane]</c> to channels-last <c>[plane × channels]</c>.</summary>
        /// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
        /// <param name="channelsFirst">The source.</param>
        /// <param name="channelsLast">The destination.</param>
        /// <param name="channels">Channels.</param>
        /// <param name="plane">Positions per channel.</param>
        public static void ToChannelsLast<T>(ReadOnlySpan<T> channelsFirst, Span<T> channelsLast, int channels, int plane)
            where T : unmanaged
        {
            for (int c = 0; c < channels; c++)
            {
                ReadOnlySpan<T> channel = channelsFirst.Slice(c * plane, plane);
                for (int p = 0; p < plane; p++)
                {
                    channelsLast[(p * channels) + c] = channel[p];
                }
            }
        }
    }
}
