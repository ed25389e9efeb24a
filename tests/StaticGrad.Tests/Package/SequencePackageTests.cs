using System;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using Xunit;

namespace StaticGrad.Tests.Package;

/// <summary>The sequence issue's GPT, as its text writes it, and the README's GRU forecaster, in a fresh console project of the packed StaticGrad.</summary>
public partial class PackageConsumptionTests
{
    private const string GptModels = """
        using StaticGrad;
        using static StaticGrad.Functional;

        [Module]
        public partial class Block
        {
            readonly LayerNorm ln1, ln2;
            readonly Linear query, key, value, proj, up, down;
            readonly int heads;

            public Block(int dim, int heads)
            {
                this.heads = heads;
                ln1 = new LayerNorm(dim); query = new Linear(dim, dim); key = new Linear(dim, dim); value = new Linear(dim, dim);
                proj = new Linear(dim, dim); ln2 = new LayerNorm(dim); up = new Linear(dim, 4 * dim); down = new Linear(4 * dim, dim);
            }

            public Tensor Forward(Tensor x)                         // T×dim for each example of the batch
            {
                var h = ln1.Forward(x);
                var q = SplitHeads(query.Forward(h)); var k = SplitHeads(key.Forward(h)); var v = SplitHeads(value.Forward(h));
                x = x + proj.Forward(MergeHeads(ScaledDotProductAttention(q, k, v, causal: true)));
                return x + down.Forward(Gelu(up.Forward(ln2.Forward(x))));
            }

            Tensor SplitHeads(Tensor t) => t.Reshape(t.Size(0), heads, t.Size(1) / heads).Transpose(0, 1);   // heads×T×d
            Tensor MergeHeads(Tensor t) => t.Transpose(0, 1).Reshape(t.Size(1), heads * t.Size(2));
        }

        [Model(Loss = Loss.SoftmaxCrossEntropy)]                    // per position: labels are T ids per example
        public partial class TinyGpt
        {
            readonly Embedding tokens = new(65, 128);
            readonly Parameter position = new(64, 128);
            readonly Block[] blocks = [new(128, 4), new(128, 4), new(128, 4), new(128, 4)];
            readonly LayerNorm final = new(128);
            readonly Linear head = new(128, 65, bias: false);

            public Tensor Forward([Shape(64)] Tokens ids)
            {
                var x = tokens.Forward(ids) + position;
                foreach (var block in blocks) x = block.Forward(x);
                return head.Forward(final.Forward(x));              // 64×65 scores
            }
        }

        [Model(Loss = Loss.MeanSquaredError)]
        public partial class Forecaster
        {
            readonly GRU gru = new(4, 32, numLayers: 2);
            readonly Linear head = new(32, 4);

            public Tensor Forward([Shape(24, 4)] Tensor window)           // 24 steps of 4 variables
            {
                var (output, hidden) = gru.Forward(window);               // 24×32, and 2×32: the final state of each layer
                return head.Forward(output.Narrow(0, 23, 1).Flatten());   // the next step's 4 values from the last state
            }
        }
        """;

    private const string GptProgram = """
        using System;
        using System.Globalization;
        using System.Linq;
        using StaticGrad;

        const int Batch = 2;
        var random = new Random(1);
        int[] text = Enumerable.Range(0, Batch * 65).Select(_ => random.Next(65)).ToArray();
        int[] ids = Enumerable.Range(0, Batch).SelectMany(b => text.Skip(b * 65).Take(64)).ToArray();
        int[] next = Enumerable.Range(0, Batch).SelectMany(b => text.Skip((b * 65) + 1).Take(64)).ToArray();

        var gpt = new TinyGpt(seed: 1, maxBatchSize: Batch);
        gpt.UseAdamW(3e-3, weightDecay: 0.1);
        var losses = Enumerable.Range(0, 15).Select(_ => gpt.TrainStep(ids, next)).ToArray();
        Console.WriteLine("LOSSES " + string.Join(" ", losses.Select(l => l.ToString("R", CultureInfo.InvariantCulture))));

        var scores = new float[Batch * TinyGpt.OutputSize];
        gpt.Forward(ids, scores);
        gpt.Eval();
        float[] eager = gpt.Forward(new Tokens(ids, Batch, 64)).ToArray();
        double difference = eager.Zip(scores).Max(pair => Math.Abs(pair.First - pair.Second) / Math.Max(1, Math.Abs(pair.Second)));
        Console.WriteLine($"EAGER {(difference <= 1e-4 ? "OK" : "BAD")} {difference.ToString("E2", CultureInfo.InvariantCulture)}");
        try
        {
            ids[5] = 65;
            gpt.Predict(ids, new int[Batch * 64]);
            Console.WriteLine("IDS UNCHECKED");
        }
        catch (ArgumentOutOfRangeException e) when (e.ParamName == "inputs")
        {
            Console.WriteLine("IDS CHECKED");
        }

        // The GRU forecaster of the README: next values of four phase-shifted sines.
        var forecaster = new Forecaster(seed: 2, maxBatchSize: 8);
        forecaster.UseAdam(1e-2);
        var window = new float[8 * 24 * 4];
        var target = new float[8 * 4];
        float[] forecastLosses = new float[60];
        for (int step = 0; step < forecastLosses.Length; step++)
        {
            for (int b = 0; b < 8; b++)
            {
                double start = random.NextDouble() * 6.3;
                for (int t = 0; t <= 24; t++)
                {
                    for (int v = 0; v < 4; v++)
                    {
                        float value = (float)Math.Sin(start + (0.3 * t) + v);
                        if (t < 24) window[(b * 96) + (t * 4) + v] = value; else target[(b * 4) + v] = value;
                    }
                }
            }

            forecastLosses[step] = forecaster.TrainStep(window, target);
        }

        Console.WriteLine("FORECAST " + string.Join(" ", forecastLosses.Select(l => l.ToString("R", CultureInfo.InvariantCulture))));
        var predicted = new float[8 * 4];
        forecaster.Forward(window, predicted);
        forecaster.Eval();
        float[] eagerForecast = forecaster.Forward(new Tensor(window, 8, 24, 4)).ToArray();
        double gap = eagerForecast.Zip(predicted).Max(pair => Math.Abs(pair.First - pair.Second) / Math.Max(1, Math.Abs(pair.Second)));
        Console.WriteLine($"GRU EAGER {(gap <= 1e-4 ? "OK" : "BAD")} {gap.ToString("E2", CultureInfo.InvariantCulture)}");
        """;

    [FullTierFact]
    public void SequenceModels_TheIssueGptAndTheReadmeGru_BuildWithoutWarnings_Train_AndMatchTheEagerForward()
    {
        string root = package.NewWorkspace("gpt");
        WriteProject(root, "Exe", Array.Empty<string>(), GptProgram);
        File.WriteAllText(Path.Combine(root, "Models.cs"), GptModels);

        var build = package.Dotnet(root, "build -c Release --disable-build-servers");
        output.WriteLine(build.Output);
        Assert.True(build.ExitCode == 0, build.ToString());
        Assert.Matches(@"\b0 Warning\(s\)", build.Output);

        var run = package.Dotnet(root, "run -c Release --no-build");
        output.WriteLine(run.Output);
        Assert.True(run.ExitCode == 0, run.ToString());
        Match losses = Regex.Match(run.Output, @"LOSSES (.+)");
        Assert.True(losses.Success, run.Output);
        float[] values = losses.Groups[1].Value.Trim().Split(' ').Select(v => float.Parse(v, CultureInfo.InvariantCulture)).ToArray();
        Assert.All(values, v => Assert.True(float.IsFinite(v), $"loss {v} is not finite"));
        Assert.True(values[^1] < values[0] * 0.8, $"the loss did not fall by a fifth on one memorised batch: {losses.Groups[1].Value}");
        Assert.Contains("EAGER OK", run.Output);
        Assert.Contains("IDS CHECKED", run.Output);

        Match forecast = Regex.Match(run.Output, @"FORECAST (.+)");
        Assert.True(forecast.Success, run.Output);
        float[] forecastLosses = forecast.Groups[1].Value.Trim().Split(' ').Select(v => float.Parse(v, CultureInfo.InvariantCulture)).ToArray();
        Assert.True(forecastLosses.TakeLast(5).Average() < forecastLosses.Take(5).Average() / 4, $"the GRU's loss did not fall fourfold: {forecast.Groups[1].Value}");
        Assert.Contains("GRU EAGER OK", run.Output);
    }
}
