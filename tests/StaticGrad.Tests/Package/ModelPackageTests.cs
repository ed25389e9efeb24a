using System;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using Xunit;

namespace StaticGrad.Tests.Package;

/// <summary>
/// "Models as C# code" as a user gets it from the package: the issue's two examples, unchanged, in a fresh console project
/// that restores the packed StaticGrad (the same pack as the other package tests: this is the same test class and fixture).
/// </summary>
public partial class PackageConsumptionTests
{
    /// <summary>The issue's two examples, character for character.</summary>
    private const string IssueModels = """
        using StaticGrad;
        using static StaticGrad.Functional;

        [Module]
        public partial class ResidualBlock
        {
            readonly Conv2d conv1, conv2;
            readonly BatchNorm2d bn1, bn2;

            public ResidualBlock(int channels)
            {
                conv1 = new Conv2d(channels, channels, 3, padding: 1, bias: false);
                bn1 = new BatchNorm2d(channels);
                conv2 = new Conv2d(channels, channels, 3, padding: 1, bias: false);
                bn2 = new BatchNorm2d(channels);
            }

            public Tensor Forward(Tensor x)
            {
                var h = Relu(bn1.Forward(conv1.Forward(x)));
                h = bn2.Forward(conv2.Forward(h));
                return Relu(x + h);
            }
        }

        [Model(Loss = Loss.SoftmaxCrossEntropy)]
        public partial class FashionResNet
        {
            readonly Conv2d stem = new(1, 32, 3, padding: 1);
            readonly BatchNorm2d bn = new(32);
            readonly ResidualBlock block1 = new(32), block2 = new(32);
            readonly Linear head = new(32 * 7 * 7, 10);

            public Tensor Forward([Shape(1, 28, 28)] Tensor x)
            {
                var h = MaxPool2d(Relu(bn.Forward(stem.Forward(x))), 2);   // 32×14×14
                h = MaxPool2d(block2.Forward(block1.Forward(h)), 2);       // 32×7×7
                return head.Forward(h.Flatten());
            }
        }
        """;

    /// <summary>Trains a few steps on one fixed batch, then every entry point a user reaches for; prints what the test checks.</summary>
    private const string ModelProgram = """
        using System;
        using System.Globalization;
        using System.Linq;
        using StaticGrad;

        const int Batch = 16;
        var random = new Random(1);
        float[] x = Enumerable.Range(0, Batch * FashionResNet.InputSize).Select(_ => (float)random.NextDouble()).ToArray();
        int[] labels = Enumerable.Range(0, Batch).Select(_ => random.Next(10)).ToArray();

        var model = new FashionResNet(seed: 1, maxBatchSize: 16);
        model.UseSgd(0.05, momentum: 0.9);
        // SGD 0.05 with momentum 0.9 overshoots at first on this model (the head sees 1,568 non-negative features; PyTorch does
        // the same), then memorises the batch: twenty steps end well below the first loss.
        var losses = new float[20];
        for (int step = 0; step < losses.Length; step++)
        {
            losses[step] = model.TrainStep(x, labels);
        }

        Console.WriteLine("LOSSES " + string.Join(" ", losses.Select(l => l.ToString("R", CultureInfo.InvariantCulture))));

        var outputs = new float[Batch * FashionResNet.OutputSize];
        model.Forward(x, outputs);
        var predictions = new int[Batch];
        model.Predict(x, predictions);
        int first = model.Predict(x.AsSpan(0, FashionResNet.InputSize));
        double accuracy = model.Accuracy(x, labels);
        bool predictOk = first == predictions[0] && predictions.All(p => p is >= 0 and < 10)
            && Enumerable.Range(0, Batch).All(b => outputs[b * 10 + predictions[b]] == outputs.Skip(b * 10).Take(10).Max())
            && Math.Abs(accuracy - predictions.Zip(labels).Count(pair => pair.First == pair.Second) / (double)Batch) < 1e-12;
        Console.WriteLine($"PREDICT {(predictOk ? "OK" : "BAD")} accuracy {accuracy.ToString(CultureInfo.InvariantCulture)}");

        string file = System.IO.Path.Combine(System.IO.Path.GetTempPath(), Guid.NewGuid().ToString("N") + ".safetensors");
        model.SaveSafetensors(file);
        var copy = new FashionResNet(seed: 2, maxBatchSize: 16);
        copy.LoadSafetensors(file);
        System.IO.File.Delete(file);
        var copied = new float[outputs.Length];
        copy.Forward(x, copied);
        Console.WriteLine(copied.SequenceEqual(outputs) ? "SAFETENSORS OK" : "SAFETENSORS BAD");

        model.Eval();
        float[] eager = model.Forward(Tensor.FromSpan(x, 16, 1, 28, 28)).ToArray();
        // Within 1e-4, relative to the output once it exceeds 1: after the overshoot the running statistics lag the batch's and
        // the evaluation-mode scores reach thousands, where float rounding alone differs by more than 1e-4.
        bool finite = outputs.All(float.IsFinite) && eager.All(float.IsFinite);
        double difference = finite && eager.Length == outputs.Length
            ? eager.Zip(outputs).Max(pair => Math.Abs(pair.First - pair.Second) / Math.Max(1, Math.Abs(pair.Second)))
            : double.PositiveInfinity;
        Console.WriteLine($"EAGER {(difference <= 1e-4 ? "OK" : "BAD")} max scaled difference {difference.ToString("E2", CultureInfo.InvariantCulture)}, largest score {outputs.Max(Math.Abs).ToString(CultureInfo.InvariantCulture)}");

        // Two outputs, trained on a loss of one's own through ForwardTraining, Backward of both gradients and Step.
        var heads = new TwoHeads(seed: 3, maxBatchSize: Batch);
        heads.UseAdam(1e-2);
        float[] h = Enumerable.Range(0, Batch * TwoHeads.InputSize).Select(_ => (float)random.NextDouble()).ToArray();
        float[] targets = Enumerable.Range(0, Batch).Select(_ => (float)random.NextDouble()).ToArray();
        float[] scores = new float[Batch * TwoHeads.ScoresSize], value = new float[Batch * TwoHeads.ValueSize];
        float[] dScores = new float[scores.Length], dValue = new float[value.Length];
        double firstLoss = 0, lastLoss = 0;
        for (int step = 0; step < 150; step++)
        {
            heads.ForwardTraining(h, scores, value);
            double loss = StaticGrad.Kernels.Losses.SoftmaxCrossEntropy<float>(scores, labels.Select(l => l % 3).ToArray(), Batch, 3, dScores)
                + StaticGrad.Kernels.Losses.MeanSquaredError<float>(value, targets, Batch, 1, dValue);
            firstLoss = step == 0 ? loss : firstLoss;
            lastLoss = loss;
            heads.ZeroGradients();
            heads.Backward(dScores, dValue);
            heads.Step();
        }

        Console.WriteLine($"TWO OUTPUTS {(lastLoss < firstLoss / 2 ? "OK" : "BAD")} {firstLoss.ToString("R", CultureInfo.InvariantCulture)} -> {lastLoss.ToString("R", CultureInfo.InvariantCulture)}");

        // A model in double, trained with the multiclass SVM loss through its IClassifier<double>.
        IClassifier<double> svm = new DoubleSvm(seed: 4, maxBatchSize: Batch);
        svm.Optimizer = new StaticGrad.Training.Sgd(0.1, momentum: 0.9);
        double[] d = Enumerable.Range(0, Batch * DoubleSvm.InputSize).Select(_ => random.NextDouble()).ToArray();
        int[] classes = labels.Select(l => l % 3).ToArray();
        double svmFirst = svm.TrainStep(d, classes), svmLast = svmFirst;
        for (int step = 0; step < 200; step++)
        {
            svmLast = svm.TrainStep(d, classes);
        }

        Console.WriteLine($"DOUBLE SVM {(svmLast < svmFirst / 4 && svm.Accuracy(d, classes) == 1 ? "OK" : "BAD")} {svmFirst.ToString("R", CultureInfo.InvariantCulture)} -> {svmLast.ToString("R", CultureInfo.InvariantCulture)}");

        [Model<double>(Loss = Loss.MulticlassSvm)]
        public partial class DoubleSvm
        {
            readonly Linear hidden = new(6, 32), scores = new(32, 3);

            public Tensor Forward([Shape(6)] Tensor x) => scores.Forward(Functional.Tanh(hidden.Forward(x)));
        }

        [Model]
        public partial class TwoHeads
        {
            readonly Linear trunk = new(8, 16), classes = new(16, 3), value = new(16, 1);

            public (Tensor Scores, Tensor Value) Forward([Shape(8)] Tensor x)
            {
                var h = Functional.Relu(trunk.Forward(x));
                return (classes.Forward(h), value.Forward(h));
            }
        }
        """;

    [Fact]
    public void ModelsAsCode_TheIssueExamples_BuildWithoutWarnings_Train_SaveLoad_AndMatchTheEagerForward()
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        string root = package.NewWorkspace("models");
        WriteProject(root, "Exe", Array.Empty<string>(), ModelProgram);
        File.WriteAllText(Path.Combine(root, "Models.cs"), IssueModels);

        var build = package.Dotnet(root, "build -c Release --disable-build-servers");
        output.WriteLine(build.Output);
        Assert.True(build.ExitCode == 0, build.ToString());
        Assert.Matches(@"\b0 Warning\(s\)", build.Output);
        Assert.Matches(@"\b0 Error\(s\)", build.Output);

        var run = package.Dotnet(root, "run -c Release --no-build");
        output.WriteLine(run.Output);
        Assert.True(run.ExitCode == 0, run.ToString());

        Match losses = Regex.Match(run.Output, @"LOSSES (.+)");
        Assert.True(losses.Success, run.Output);
        float[] values = losses.Groups[1].Value.Trim().Split(' ').Select(v => float.Parse(v, CultureInfo.InvariantCulture)).ToArray();
        Assert.All(values, v => Assert.True(float.IsFinite(v), $"loss {v} is not finite"));
        Assert.True(values[^1] < values[0], $"the loss did not fall: {losses.Groups[1].Value}");
        Assert.Contains("PREDICT OK", run.Output);
        Assert.Contains("SAFETENSORS OK", run.Output);
        Assert.Contains("EAGER OK", run.Output);
        Assert.Contains("TWO OUTPUTS OK", run.Output);
        Assert.Contains("DOUBLE SVM OK", run.Output);
        output.WriteLine($"models test: {clock.Elapsed.TotalSeconds:F1} s");
    }

    [Fact]
    public void ModelsAsCode_ABlockThatHalvesItsChannels_FailsToBuild_WithSgr0021OnTheAddition()
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        string models = IssueModels
            .Replace("conv2 = new Conv2d(channels, channels, 3, padding: 1, bias: false);", "conv2 = new Conv2d(channels, channels / 2, 3, padding: 1, bias: false);")
            .Replace("bn2 = new BatchNorm2d(channels);", "bn2 = new BatchNorm2d(channels / 2);");
        Assert.NotEqual(IssueModels, models);

        string root = package.NewWorkspace("models-bad");
        WriteProject(root, "Exe", Array.Empty<string>(), ModelProgram);
        File.WriteAllText(Path.Combine(root, "Models.cs"), models);

        var build = package.Dotnet(root, "build -c Release --disable-build-servers");
        output.WriteLine(build.Output);
        Assert.NotEqual(0, build.ExitCode);

        // Where "x + h" is in the file, 1-based.
        string[] lines = models.Split('\n');
        int line = Array.FindIndex(lines, l => l.Contains("x + h")) + 1;
        int column = lines[line - 1].IndexOf("x + h", StringComparison.Ordinal) + 1;
        Assert.Matches(
            new Regex($@"Models\.cs\({line},{column}\): error SGR0021: cannot add 32×14×14 and 16×14×14: dimension 0 \(channels\) differs \(32 and 16\), and neither is 1 to broadcast"),
            build.Output);

        // Nothing else is wrong: no error in Models.cs but the addition, none in generated code. The generator writes nothing
        // for a model whose shapes do not fit, so Program.cs's uses of the generated members (InputSize, TrainStep, ...) are
        // the only other errors.
        var others = build.Output.Split('\n').Where(l => Regex.IsMatch(l, @": error ") && !l.Contains(": error SGR0021: ")).ToArray();
        Assert.All(others, l => Assert.Matches(@"/Program\.cs\(\d+,\d+\): error CS\d+: ", l));
        output.WriteLine($"bad models test: {clock.Elapsed.TotalSeconds:F1} s");
    }
}
