using System;
using StaticGrad.Kernels;
using Xunit;
using Xunit.Abstractions;

namespace StaticGrad.Tests.Kernels;

/// <summary>
/// <see cref="Pooling.MaxPool{T}"/> on floats, whose 2×2 stride-2 windows take vector paths (8 windows a step when the output
/// is at least 8 wide, 4 when 4 to 7), against PyTorch's rule written here as a plain loop: the first maximum of a window in
/// row-major order wins, a NaN wins over any number and the first NaN stays. Widths cover every tail (odd input widths leave
/// the last column out), values repeat often so ties are common, and some inputs carry NaNs and infinities. The backward pass
/// (dense for 2×2 of stride 2 when 8 windows wide or more) against the plain scatter, bit for bit.
/// The suite runs again with AVX-512, AVX2 and all intrinsics off (<see cref="Numerics.InstructionSetTests"/>).
/// </summary>
public class PoolingTests(ITestOutputHelper output)
{
    [Fact]
    public void MaxPool_Float_MatchesTheReference_OnEveryWidth()
    {
        int seed = int.TryParse(Environment.GetEnvironmentVariable("STATICGRAD_TEST_SEED"), out int fixedSeed) ? fixedSeed : System.Random.Shared.Next();
        output.WriteLine($"seed {seed} (replay with STATICGRAD_TEST_SEED={seed})");
        var random = new System.Random(seed);
        foreach (int width in new[] { 2, 3, 7, 8, 9, 14, 15, 16, 17, 28, 31, 33, 40 })
        {
            foreach ((int kernel, int stride) in new[] { (2, 2), (2, 1), (3, 2) })
            {
                int height = random.Next(kernel, 12), channels = random.Next(1, 4), batch = random.Next(1, 4);
                if (width < kernel)
                {
                    continue;
                }

                int outHeight = ((height - kernel) / stride) + 1, outWidth = ((width - kernel) / stride) + 1;
                float[] x = new float[batch * channels * height * width];
                for (int i = 0; i < x.Length; i++)
                {
                    x[i] = random.Next(10) switch
                    {
                        0 => float.NaN,
                        1 => float.NegativeInfinity,
                        2 => 0f,
                        3 => -0f,
                        _ => random.Next(-3, 4), // few distinct values: ties are common
                    };
                }

                if (random.Next(2) == 0)
                {
                    Array.Fill(x, 1f, 0, Math.Min(x.Length, 2 * width)); // a tie across a whole window
                }

                float[] y = new float[(batch * channels * outHeight * outWidth) + 3];
                int[] indices = new int[y.Length];
                Array.Fill(y, 99f);
                Array.Fill(indices, -5);
                Pooling.MaxPool<float>(x, batch, channels, height, width, kernel, stride, outHeight, outWidth, y, indices);

                int o = 0;
                for (int plane = 0; plane < batch * channels; plane++)
                {
                    for (int oy = 0; oy < outHeight; oy++)
                    {
                        for (int ox = 0; ox < outWidth; ox++, o++)
                        {
                            int best = -1;
                            for (int i = 0; i < kernel; i++)
                            {
                                for (int j = 0; j < kernel; j++)
                                {
                                    int at = (((oy * stride) + i) * width) + (ox * stride) + j;
                                    float v = x[(plane * height * width) + at];
                                    float current = best < 0 ? 0 : x[(plane * height * width) + best];
                                    if (best < 0 || (!float.IsNaN(current) && (float.IsNaN(v) || v > current)))
                                    {
                                        best = at;
                                    }
                                }
                            }

                            string where = $"width {width}, kernel {kernel}, stride {stride}, plane {plane}, output ({oy}, {ox})";
                            Assert.True(indices[o] == ((plane % channels) * height * width) + best, $"{where}: index {indices[o]}, the reference {((plane % channels) * height * width) + best}");
                            Assert.Equal(BitConverter.SingleToInt32Bits(x[(plane * height * width) + best]), BitConverter.SingleToInt32Bits(y[o]));
                        }
                    }
                }

                Assert.Equal(99f, y[^1]); // nothing written past the batch
                Assert.Equal(-5, indices[^1]);

                // Backward with the geometry (2×2 of stride 2 writes the planes densely): the same bits as the plain rule
                // (cleared, then each gradient added where its maximum came from), over a gradient full of stale values, with
                // −0 and NaN among the pooled gradients; nothing written past the batch.
                float[] dy = new float[y.Length - 3];
                for (int i = 0; i < dy.Length; i++)
                {
                    dy[i] = random.Next(8) switch { 0 => -0f, 1 => float.NaN, _ => (float)random.NextDouble() - 0.5f };
                }

                float[] expected = new float[x.Length];
                for (int i = 0; i < dy.Length; i++)
                {
                    int plane = i / (outHeight * outWidth), example = plane / channels;
                    expected[(example * channels * height * width) + indices[i]] += dy[i];
                }

                float[] dx = new float[x.Length + 3];
                Array.Fill(dx, 7f);
                Pooling.MaxPoolBackward<float>(dy, indices, batch, channels, height, width, kernel, stride, outHeight, outWidth, dx);
                for (int i = 0; i < x.Length; i++)
                {
                    Assert.True(BitConverter.SingleToInt32Bits(expected[i]) == BitConverter.SingleToInt32Bits(dx[i]), $"width {width}, kernel {kernel}, stride {stride}, ∂x[{i}]: {dx[i]}, the reference {expected[i]}");
                }

                Assert.Equal(7f, dx[^1]);
            }
        }
    }
}
