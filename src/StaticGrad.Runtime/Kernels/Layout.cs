using System;

namespace StaticGrad.Kernels
{
    /// <summary>
    /// Moves of values between layouts for the ops of a model's graph: a transpose of two dimensions per example (as a
    /// gather through a table computed once) and the blocks of a concatenation.
    /// </summary>
    public static class Layout
    {
        /// <summary>
        /// The gather table of a transpose of dimensions <paramref name="first"/> and <paramref name="second"/> of a
        /// per-example shape: entry i is the input position that output position i reads.
        /// </summary>
        /// <param name="shape">The input's shape per example (rank 1–4).</param>
        /// <param name="first">One dimension to swap.</param>
        /// <param name="second">The other.</param>
        /// <exception cref="ArgumentOutOfRangeException">A dimension is outside the shape.</exception>
        public static int[] TransposeTable(int[] shape, int first, int second)
        {
            ArgumentNullException.ThrowIfNull(shape);
            if ((uint)first >= (uint)shape.Length)
            {
                throw new ArgumentOutOfRangeException(nameof(first), first, $"A shape of rank {shape.Length} has dimensions 0 to {shape.Length - 1}.");
            }

            if ((uint)second >= (uint)shape.Length)
            {
                throw new ArgumentOutOfRangeException(nameof(second), second, $"A shape of rank {shape.Length} has dimensions 0 to {shape.Length - 1}.");
            }

            int rank = shape.Length, size = 1;
            var inputStrides = new int[rank];
            for (int d = rank - 1; d >= 0; d--)
            {
                inputStrides[d] = size;
                size *= shape[d];
            }

            var outputShape = (int[])shape.Clone();
            (outputShape[first], outputShape[second]) = (outputShape[second], outputShape[first]);
            var strides = (int[])inputStrides.Clone();
            (strides[first], strides[second]) = (strides[second], strides[first]);
            var table = new int[size];
            var index = new int[rank];
            for (int i = 0; i < size; i++)
            {
                int source = 0;
                for (int d = 0; d < rank; d++)
                {
                    source += index[d] * strides[d];
                }

                table[i] = source;
                for (int d = rank - 1; d >= 0; d--)
                {
                    if (++index[d] < outputShape[d])
                    {
                        break;
                    }

                    index[d] = 0;
                }
            }

            return table;
        }

        /// <summary><c>y[b, i] = x[b, table[i]]</c> for every example b.</summary>
        public static void Gather<T>(ReadOnlySpan<T> x, ReadOnlySpan<int> table, int batch, Span<T> y)
        {
            int size = table.Length, run = ContiguousRun(table);
            for (int b = 0; b < batch; b++)
            {
                ReadOnlySpan<T> source = x.Slice(b * size, size);
                Span<T> destination = y.Slice(b * size, size);
                if (run > 1)
                {
                    for (int i = 0; i < size; i += run)
                    {
                        source.Slice(table[i], run).CopyTo(destination.Slice(i, run));
                    }

                    continue;
                }

                for (int i = 0; i < size; i++)
                {
                    destination[i] = source[table[i]];
                }
            }
        }

        /// <summary><c>dX[b, table[i]] = dY[b, i]</c>: the backward of <see cref="Gather{T}"/> when the table is a permutation.</summary>
        public static void Scatter<T>(ReadOnlySpan<T> outputGradient, ReadOnlySpan<int> table, int batch, Span<T> inputGradient)
        {
            int size = table.Length, run = ContiguousRun(table);
            for (int b = 0; b < batch; b++)
            {
                ReadOnlySpan<T> source = outputGradient.Slice(b * size, size);
                Span<T> destination = inputGradient.Slice(b * size, size);
                if (run > 1)
                {
                    for (int i = 0; i < size; i += run)
                    {
                        source.Slice(i, run).CopyTo(destination.Slice(table[i], run));
                    }

                    continue;
                }

                for (int i = 0; i < size; i++)
                {
                    destination[table[i]] = source[i];
                }
            }
        }

        /// <summary>
        /// The length r of the table's runs of consecutive positions when the whole table is made of them (every aligned
        /// block of r entries reads r consecutive positions, as a transpose that keeps the last dimension in place does: a
        /// [T, heads, d] → [heads, T, d] table is runs of d), so the gather and the scatter copy blocks instead of elements;
        /// 1 otherwise. One pass over the table, which is far shorter than the batch it is applied to.
        /// </summary>
        private static int ContiguousRun(ReadOnlySpan<int> table)
        {
            int size = table.Length, run = 1;
            while (run < size && table[run] == table[0] + run)
            {
                run++;
            }

            if (run < 4 || run >= size || size % run != 0)
            {
                return 1;
            }

            for (int start = run; start < size; start += run)
            {
                int first = table[start];
                for (int j = 1; j < run; j++)
                {
                    if (table[start + j] != first + j)
                    {
                        return 1;
                    }
                }
            }

            return run;
        }

        /// <summary>
        /// Copies one input of a concatenation into its place: per example, <paramref name="outer"/> blocks of
        /// <paramref name="chunk"/> values go to <paramref name="offset"/> within blocks of <paramref name="outputChunk"/>.
        /// </summary>
        public static void ConcatPart<T>(ReadOnlySpan<T> part, int batch, int outer, int chunk, int outputChunk, int offset, Span<T> output)
        {
            for (int block = 0; block < batch * outer; block++)
            {
                part.Slice(block * chunk, chunk).CopyTo(output.Slice((block * outputChunk) + offset, chunk));
            }
        }

        /// <summary>The backward of <see cref="ConcatPart{T}"/>: the part's gradient is its blocks of the output's gradient.</summary>
        public static void ConcatPartBackward<T>(ReadOnlySpan<T> outputGradient, int batch, int outer, int chunk, int outputChunk, int offset, Span<T> partGradient)
        {
            for (int block = 0; block < batch * outer; block++)
            {
                outputGradient.Slice((block * outputChunk) + offset, chunk).CopyTo(partGradient.Slice(block * chunk, chunk));
            }
        }
    }
}
