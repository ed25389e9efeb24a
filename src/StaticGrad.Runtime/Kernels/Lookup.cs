using System;
using System.Diagnostics;
using System.Numerics;

namespace StaticGrad.Kernels
{
    /// <summary>
    /// Kernels that read rows of a table by index or spread one row over a batch: an embedding's lookup and its gradient,
    /// and a learned tensor (a <c>Parameter</c> field) added to every example. Nothing is allocated and lengths are only
    /// asserted; ids are checked by the generated code before a forward pass starts.
    /// </summary>
    public static class Lookup
    {
        /// <summary><c>output[r, :] = table[ids[r], :]</c> for every id, rows of <paramref name="width"/> values.</summary>
        public static void Gather<T>(ReadOnlySpan<int> ids, ReadOnlySpan<T> table, Span<T> output, int width)
            where T : unmanaged, IBinaryFloatingPointIeee754<T>
        {
            Debug.Assert(output.Length >= ids.Length * width, "output is shorter than ids × width.");
            for (int r = 0; r < ids.Length; r++)
            {
                table.Slice(ids[r] * width, width).CopyTo(output.Slice(r * width, width));
            }
        }

        /// <summary>The gradient of <see cref="Gather{T}"/>: <c>tableGradient[ids[r], :] += outputGradient[r, :]</c> (an id used twice gets both).</summary>
        public static void ScatterAdd<T>(ReadOnlySpan<int> ids, ReadOnlySpan<T> outputGradient, Span<T> tableGradient, int width)
            where T : unmanaged, IBinaryFloatingPointIeee754<T>
        {
            Debug.Assert(outputGradient.Length >= ids.Length * width, "outputGradient is shorter than ids × width.");
            for (int r = 0; r < ids.Length; r++)
            {
                Attention.MultiplyAdd(T.One, outputGradient.Slice(r * width, width), tableGradient.Slice(ids[r] * width, width));
            }
        }

        /// <summary>Copies <paramref name="values"/> into each of the <paramref name="batch"/> examples of <paramref name="output"/>.</summary>
        public static void Repeat<T>(ReadOnlySpan<T> values, int batch, Span<T> output)
            where T : unmanaged
        {
            Debug.Assert(output.Length >= batch * values.Length, "output is shorter than batch copies.");
            for (int b = 0; b < batch; b++)
            {
                values.CopyTo(output.Slice(b * values.Length, values.Length));
            }
        }

        /// <summary>
        /// The first id of <paramref name="ids"/> outside 0 to <paramref name="limit"/> − 1, or −1 when all are inside: the check
        /// generated code runs on token inputs before anything changes.
        /// </summary>
        public static int FindOutOfRange(ReadOnlySpan<int> ids, int limit)
        {
            for (int i = 0; i < ids.Length; i++)
            {
                if ((uint)ids[i] >= (uint)limit)
                {
                    return i;
                }
            }

            return -1;
        }
    }
}
