using System;
using StaticGrad.Kernels;
using Xunit;
using Xunit.Abstractions;

namespace StaticGrad.Tests.Kernels;

/// <summary>
/// StaticGrad.Runtime's <see cref="PlaneConvolution"/> on its own, against a convolution written here from PyTorch's
/// definition (plain loops in double, index arithmetic with explicit bounds checks for the padding): forward, weight, bias
/// and input gradients, float and double, overwrite and accumulate (the input gradient too). Shapes are drawn to straddle
/// the kernel's tiles: output and input channels not multiples of 4, tap counts not multiples of 4, planes shorter and
/// longer than one 64-position block, batches beyond a weight-gradient chunk, kernels from 1×1 to larger than the input
/// (with padding).
/// The suite runs again with AVX-512, AVX2 and all intrinsics off (<see cref="Numerics.InstructionSetTests"/>).
/// </summary>
public class PlaneConvolutionTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData(typeof(float))]
    [InlineData(typeof(double))]
    public void RandomShapes_MatchTheReference(Type element)
    {
        int seed = int.TryParse(Environment.GetEnvironmentVariable("STATICGRAD_TEST_SEED"), out int fixedSeed) ? fixedSeed : System.Random.Shared.Next();
        output.WriteLine($"seed {seed} (replay with STATICGRAD_TEST_SEED={seed})");
        var random = new System.Random(seed);
        int runs = TestTier.Cases(quick: 25, full: 80);
        for (int run = 0; run < runs; run++)
        {
            int kernel = random.Next(1, 6), padding = random.Next(0, 3);
            int height = Math.Max(1, random.Next(kernel - (2 * padding), 17)), width = Math.Max(1, random.Next(kernel - (2 * padding), 17));
            int channels = random.Next(1, 7), outChannels = random.Next(1, 10);
            int batch = run == 0 ? 20 : random.Next(1, 6); // one batch larger than any chunk
            if (run == 1)
            {
                (channels, outChannels, height, width, kernel, padding, batch) = (16, 32, 14, 14, 3, 1, 3); // the sample's second layer
            }

            var shape = new PlaneConvolutionShape(channels, height, width, outChannels, kernel, padding);
            string what = $"run {run}: {shape}, batch {batch}";
            if (element == typeof(float))
            {
                Check<float>(shape, batch, random, 2e-4, what);
            }
            else
            {
                Check<double>(shape, batch, random, 1e-11, what);
            }
        }
    }

    /// <summary>
    /// 3×3 kernels take the channels-last weight gradient (register tiles of 32 output channels with Vector512, 8 with
    /// Vector256): channel counts on both sides of those tiles, odd planes, no padding and padding 2, batches of 1.
    /// </summary>
    [Theory]
    [InlineData(typeof(float))]
    [InlineData(typeof(double))]
    public void ThreeByThree_RandomShapes_MatchTheReference(Type element)
    {
        int seed = int.TryParse(Environment.GetEnvironmentVariable("STATICGRAD_TEST_SEED"), out int fixedSeed) ? fixedSeed : System.Random.Shared.Next();
        output.WriteLine($"seed {seed} (replay with STATICGRAD_TEST_SEED={seed})");
        var random = new System.Random(seed);
        int runs = TestTier.Cases(quick: 10, full: 24);
        for (int run = 0; run < runs; run++)
        {
            int padding = random.Next(0, 3), least = Math.Max(1, 3 - (2 * padding));
            int height = random.Next(least, 18), width = random.Next(least, 18);
            int channels = random.Next(1, 37), outChannels = run < 2 ? 32 + run : random.Next(1, 37);
            int batch = run % 3 == 0 ? 1 : random.Next(2, 5);
            var shape = new PlaneConvolutionShape(channels, height, width, outChannels, 3, padding);
            string what = $"run {run}: {shape}, batch {batch}";
            if (element == typeof(float))
            {
                Check<float>(shape, batch, random, 2e-4, what);
            }
            else
            {
                Check<double>(shape, batch, random, 1e-11, what);
            }
        }
    }

    /// <summary>
    /// Enough channels for the channels-last forward pass and input gradient (register tiles of 2 vectors of channels × 7
    /// positions with Vector512, × 6 with Vector256; the wide planes below three quarters of a tile): channel counts that fill
    /// a tile, round one up, or leave the input gradient on the wide planes; rows that 7 and 6 divide or not; kernels 1 to 5.
    /// </summary>
    [Theory]
    [InlineData(typeof(float))]
    [InlineData(typeof(double))]
    public void ManyChannels_RandomShapes_MatchTheReference(Type element)
    {
        int seed = int.TryParse(Environment.GetEnvironmentVariable("STATICGRAD_TEST_SEED"), out int fixedSeed) ? fixedSeed : System.Random.Shared.Next();
        output.WriteLine($"seed {seed} (replay with STATICGRAD_TEST_SEED={seed})");
        var random = new System.Random(seed);
        int runs = TestTier.Cases(quick: 8, full: 24);
        for (int run = 0; run < runs; run++)
        {
            int kernel = random.Next(1, 6), padding = random.Next(0, (kernel / 2) + 1), least = Math.Max(1, kernel - (2 * padding));
            int height = random.Next(least, 16), width = random.Next(least, 23);
            int channels = run == 0 ? 32 : random.Next(20, 70), outChannels = run == 0 ? 32 : random.Next(20, 70);
            int batch = random.Next(1, 4);
            var shape = new PlaneConvolutionShape(channels, height, width, outChannels, kernel, padding);
            string what = $"run {run}: {shape}, batch {batch}";
            if (element == typeof(float))
            {
                Check<float>(shape, batch, random, 2e-4, what);
            }
            else
            {
                Check<double>(shape, batch, random, 1e-11, what);
            }
        }
    }

    /// <summary>
    /// One input channel, 3×3, output rows 16 to 32 wide: the single-channel path with Vector512 floats (two vectors per row
    /// that overlap below 32; the weight gradient counts the overlap once). Rows at both ends of that range, odd output
    /// channel counts, padding 0 to 2, batches of 1 to 4, with and without bias; on other machines the general paths.
    /// </summary>
    [Fact]
    public void OneInputChannel_WideRows_MatchTheReference()
    {
        int seed = int.TryParse(Environment.GetEnvironmentVariable("STATICGRAD_TEST_SEED"), out int fixedSeed) ? fixedSeed : System.Random.Shared.Next();
        output.WriteLine($"seed {seed} (replay with STATICGRAD_TEST_SEED={seed})");
        var random = new System.Random(seed);
        int runs = TestTier.Cases(quick: 8, full: 24);
        for (int run = 0; run < runs; run++)
        {
            int padding = random.Next(0, 3);
            int outWidth = run switch { 0 => 16, 1 => 32, 2 => 17, _ => random.Next(16, 33) };
            int width = outWidth + 2 - (2 * padding), height = random.Next(Math.Max(1, 3 - (2 * padding)), 12);
            int outChannels = run == 0 ? 32 : random.Next(1, 41), batch = random.Next(1, 5);
            var shape = new PlaneConvolutionShape(1, height, width, outChannels, 3, padding);
            Check<float>(shape, batch, random, 2e-4, $"run {run}: {shape}, batch {batch}");
        }
    }

    [Fact]
    public void TheSampleShapes_MatchTheReference()
    {
        var random = new System.Random(7);
        Check<float>(new PlaneConvolutionShape(1, 28, 28, 16, 3, 1), 3, random, 2e-4, "Conv2d(1, 16, 3, Padding = 1) on 1×28×28");
        Check<float>(new PlaneConvolutionShape(16, 14, 14, 32, 3, 1), 2, random, 2e-4, "Conv2d(16, 32, 3, Padding = 1) on 16×14×14");
    }

    /// <summary>A team splits the batch's examples; each thread sums its share of ∂W and ∂b, added in part order.</summary>
    [Theory]
    [InlineData(2, 2)]
    [InlineData(3, 7)]
    [InlineData(4, 3)] // more threads than a fair share of examples: some parts get one
    public void OnATeam_TheResultsMatchTheReference(int threads, int batch)
    {
        using var team = new WorkerTeam(threads);
        var random = new System.Random(threads * 31 + batch);
        var shape = new PlaneConvolutionShape(16, 14, 14, 32, 3, 1); // large enough to be split
        var workspace = new PlaneConvolutionWorkspace<float>(shape);
        Check<float>(shape, batch, random, 2e-4, $"{threads} threads, batch {batch}", team, workspace);
        long grown = workspace.Length;
        Assert.True(grown > shape.ScratchLength, "each further thread has a region of its own");
        Check<float>(shape, batch, random, 2e-4, $"{threads} threads, batch {batch}, again", team, workspace);
        Assert.Equal(grown, workspace.Length); // allocated once, the first time
        Check<double>(shape, batch, random, 1e-11, $"{threads} threads, batch {batch}, double", team);
    }

    [Fact]
    public void BadArguments_AreRefusedWithTheirNames()
    {
        var shape = new PlaneConvolutionShape(2, 5, 5, 3, 3, 1);
        float[] input = new float[2 * shape.InputSize], weights = new float[shape.WeightCount], output = new float[2 * shape.OutputSize];
        var scratch = new PlaneConvolutionWorkspace<float>(shape);
        var e = Assert.Throws<ArgumentException>(() => PlaneConvolution.Forward<float>(shape, input, 2, weights.AsSpan(1), default, output, scratch));
        Assert.Equal("weights", e.ParamName);
        Assert.Contains("54 elements ([3, 2, 3, 3])", e.Message);
        Assert.Contains("but has 53", e.Message);
        e = Assert.Throws<ArgumentException>(() => PlaneConvolution.Forward<float>(shape, input, 3, weights, default, output, scratch));
        Assert.Equal("input", e.ParamName);
        e = Assert.Throws<ArgumentException>(() => PlaneConvolution.Forward<float>(shape, input, 2, weights, default, output, new PlaneConvolutionWorkspace<float>(new PlaneConvolutionShape(2, 5, 5, 3, 3, 0))));
        Assert.Equal("workspace", e.ParamName);
        Assert.Contains("made for Conv2d 2→3, 3×3, padding 0, on 2×5×5, not Conv2d 2→3, 3×3, padding 1", e.Message);
        e = Assert.Throws<ArgumentException>(() => PlaneConvolution.Forward<float>(shape, input, 2, weights, new float[2], output, scratch));
        Assert.Equal("bias", e.ParamName);
        e = Assert.Throws<ArgumentException>(() => PlaneConvolution.Backward<float>(shape, input, output, 2, weights, new float[54], default, false, new float[3], scratch));
        Assert.Equal("inputGradient", e.ParamName);
        e = Assert.Throws<ArgumentException>(() => new PlaneConvolutionWorkspace<float>(default));
        Assert.Equal("shape", e.ParamName);
        var range = Assert.Throws<ArgumentOutOfRangeException>(() => new PlaneConvolutionShape(2, 2, 2, 3, 5, 1));
        Assert.Equal("kernel", range.ParamName);
        range = Assert.Throws<ArgumentOutOfRangeException>(() => new PlaneConvolutionShape(0, 2, 2, 3, 1, 0));
        Assert.Equal("inChannels", range.ParamName);
    }

    private static void Check<T>(PlaneConvolutionShape shape, int batch, System.Random random, double tolerance, string what, WorkerTeam? team = null, PlaneConvolutionWorkspace<T>? workspace = null)
        where T : unmanaged, System.Numerics.IBinaryFloatingPointIeee754<T>
    {
        int c = shape.InChannels, h = shape.Height, wd = shape.Width, o = shape.OutChannels, k = shape.Kernel, pad = shape.Padding;
        int oh = h + (2 * pad) - k + 1, ow = wd + (2 * pad) - k + 1;
        Assert.Equal(oh, shape.OutHeight);
        Assert.Equal(ow, shape.OutWidth);
        double[] x = Values(random, batch * c * h * wd), w = Values(random, o * c * k * k), b = Values(random, o), dy = Values(random, batch * o * oh * ow);
        bool hasBias = random.Next(2) == 0, accumulate = random.Next(2) == 0, inputGradient = random.Next(4) != 0, addInput = inputGradient && random.Next(2) == 0;
        double[] dwStart = Values(random, w.Length), dbStart = Values(random, o), dxStart = Values(random, x.Length);

        // The reference, from the definition: y[n,o,r,s] = b[o] + Σ w[o,c,i,j]·x[n,c,r+i−pad,s+j−pad] (0 outside the input).
        double[] y = new double[batch * o * oh * ow], dw = accumulate ? (double[])dwStart.Clone() : new double[w.Length];
        double[] db = accumulate ? (double[])dbStart.Clone() : new double[o], dx = addInput ? (double[])dxStart.Clone() : new double[x.Length];
        for (int n = 0; n < batch; n++)
        {
            for (int oc = 0; oc < o; oc++)
            {
                for (int r = 0; r < oh; r++)
                {
                    for (int s = 0; s < ow; s++)
                    {
                        int at = (((n * o) + oc) * oh * ow) + (r * ow) + s;
                        double sum = hasBias ? b[oc] : 0;
                        db[oc] += dy[at];
                        for (int ic = 0; ic < c; ic++)
                        {
                            for (int i = 0; i < k; i++)
                            {
                                for (int j = 0; j < k; j++)
                                {
                                    int row = r + i - pad, col = s + j - pad;
                                    if (row < 0 || row >= h || col < 0 || col >= wd)
                                    {
                                        continue;
                                    }

                                    int xi = (((n * c) + ic) * h * wd) + (row * wd) + col, wi = (((oc * c) + ic) * k * k) + (i * k) + j;
                                    sum += w[wi] * x[xi];
                                    dw[wi] += dy[at] * x[xi];
                                    dx[xi] += dy[at] * w[wi];
                                }
                            }
                        }

                        y[at] = sum;
                    }
                }
            }
        }

        T[] xt = Cast<T>(x), wt = Cast<T>(w), bt = Cast<T>(b), dyt = Cast<T>(dy);
        T[] yt = new T[y.Length + 5];
        workspace ??= new PlaneConvolutionWorkspace<T>(shape);
        Array.Fill(yt, T.NaN);
        PlaneConvolution.Forward<T>(shape, xt, batch, wt, hasBias ? bt : default, yt, workspace, team);
        Compare(y, yt, tolerance, what + ", forward");
        for (int i = y.Length; i < yt.Length; i++)
        {
            Assert.True(T.IsNaN(yt[i]), $"{what}: forward wrote past the batch");
        }

        T[] dwt = accumulate ? Cast<T>(dwStart) : Fill<T>(w.Length), dbt = accumulate ? Cast<T>(dbStart) : Fill<T>(o), dxt = addInput ? Cast<T>(dxStart) : Fill<T>(dx.Length);
        PlaneConvolution.Backward<T>(shape, xt, dyt, batch, wt, dwt, dbt, accumulate, inputGradient ? dxt : default, workspace, team, accumulateInputGradient: addInput);
        Compare(dw, dwt, tolerance, what + $", weight gradient (accumulate {accumulate})");
        Compare(db, dbt, tolerance, what + ", bias gradient");
        if (inputGradient)
        {
            Compare(dx, dxt, tolerance, what + $", input gradient (added {addInput})");
        }
        else
        {
            Assert.All(dxt, v => Assert.True(T.IsNaN(v)));
        }
    }

    private static double[] Values(Random random, int count)
    {
        double[] values = new double[count];
        for (int i = 0; i < count; i++)
        {
            values[i] = (random.NextDouble() * 2) - 1;
        }

        return values;
    }

    private static T[] Cast<T>(double[] values)
        where T : unmanaged, System.Numerics.IBinaryFloatingPointIeee754<T> => Array.ConvertAll(values, v => T.CreateChecked(v));

    private static T[] Fill<T>(int count)
        where T : unmanaged, System.Numerics.IBinaryFloatingPointIeee754<T>
    {
        T[] values = new T[count];
        Array.Fill(values, T.NaN); // overwrite mode must write every element
        return values;
    }

    private static void Compare<T>(double[] expected, T[] actual, double tolerance, string what)
        where T : unmanaged, System.Numerics.IBinaryFloatingPointIeee754<T>
    {
        for (int i = 0; i < expected.Length; i++)
        {
            double a = double.CreateChecked(actual[i]);
            double scale = Math.Max(1, Math.Abs(expected[i]));
            Assert.True(Math.Abs(a - expected[i]) <= tolerance * scale * 10, $"{what}: element {i} is {a}, the reference {expected[i]}");
        }
    }
}
