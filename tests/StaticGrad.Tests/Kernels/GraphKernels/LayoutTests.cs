using System;
using StaticGrad.Kernels;
using Xunit;

namespace StaticGrad.Tests.Kernels.GraphKernels;

/// <summary>
/// <see cref="Layout.Gather{T}"/> and <see cref="Layout.Scatter{T}"/> on random transposes (ranks 2–4, batches 1–3) against
/// the table applied element by element here: transposes that keep the last dimension in place (runs of consecutive
/// positions, copied as blocks) and ones that move it (element by element), and tables whose first run does not repeat.
/// </summary>
public class LayoutTests
{
    [Fact]
    public void RandomTransposes_GatherAndScatter_MatchTheTableElementByElement()
    {
        var random = new Random(21);
        for (int trial = 0; trial < 60; trial++)
        {
            int rank = random.Next(2, 5);
            int[] shape = new int[rank];
            for (int d = 0; d < rank; d++) shape[d] = random.Next(1, 9);
            int first = random.Next(rank), second = random.Next(rank);
            if (trial == 0) (shape, first, second) = ([64, 4, 32], 0, 1);   // the GPT's split into heads
            int[] table = Layout.TransposeTable(shape, first, second);
            Check(table, random.Next(1, 4), random, $"trial {trial}: [{string.Join(", ", shape)}] ({first}, {second})");
        }

        // A first run of 4 that the rest of the table does not repeat: element by element.
        Check([0, 1, 2, 3, 7, 6, 5, 4], 2, random, "irregular runs");
        Check([4, 5, 6, 7, 0, 1, 2, 3], 3, random, "two runs of 4");
    }

    private static void Check(int[] table, int batch, Random random, string what)
    {
        int size = table.Length;
        float[] x = new float[batch * size], y = new float[batch * size], back = new float[batch * size];
        for (int i = 0; i < x.Length; i++) x[i] = (float)random.NextDouble();
        Layout.Gather<float>(x, table, batch, y);
        for (int b = 0; b < batch; b++)
        {
            for (int i = 0; i < size; i++)
            {
                Assert.True(y[(b * size) + i] == x[(b * size) + table[i]], $"{what}: gather at {b}, {i}");
            }
        }

        if (IsPermutation(table))
        {
            Layout.Scatter<float>(y, table, batch, back);
            Assert.True(x.AsSpan().SequenceEqual(back), $"{what}: scatter does not undo gather");
        }
    }

    private static bool IsPermutation(int[] table)
    {
        bool[] seen = new bool[table.Length];
        foreach (int t in table)
        {
            if (t < 0 || t >= table.Length || seen[t]) return false;
            seen[t] = true;
        }

        return true;
    }
}
