// Handwritten digits with StaticGrad: CS231n's linear softmax classifier and linear SVM (64 → 10), and a small MLP
// (64 → 32 → 10), trained with generated backprop on 1,437 images and tested on 360 others.
// Run: dotnet run --project samples/Digits -c Release [-- output-folder]
using System;
using System.Collections.Generic;
using System.IO;
using Spectre.Console;
using StaticGrad;
using StaticGrad.Samples.Digits;
using StaticGrad.Training;

string output = Path.GetFullPath(args.Length > 0 ? args[0] : "digits-output");
Directory.CreateDirectory(output);
if (Console.IsOutputRedirected)
{
    AnsiConsole.Profile.Width = 120;
}

var data = DigitsData.Load(Path.Combine(AppContext.BaseDirectory, "digits.csv.gz"));
AnsiConsole.MarkupLine($"[bold]StaticGrad digits[/]: {data.TrainCount} training and {data.TestCount} test images of 8×8 pixels, 10 classes");

const int BatchSize = 32;
var runs = new List<Run>
{
    new("Linear softmax (64 → 10)", CreateSoftmax, Epochs: 60),
    new("Linear SVM (64 → 10)", CreateSvm, Epochs: 60),
    new("MLP (64 → 32 → 10)", CreateMlp, Epochs: 60),
};

var results = new List<Result>();
AnsiConsole.Progress()
    .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
    .Start(progress =>
    {
        foreach (var run in runs)
        {
            var task = progress.AddTask(run.Name, maxValue: run.Epochs);
            results.Add(Train(run, data, epoch => task.Increment(1)));
        }
    });

var table = new Table().Border(TableBorder.Rounded).Title("[bold]Test accuracy[/]");
foreach (string column in new[] { "model", "epochs", "train loss", "train acc.", "test acc.", "per epoch", "bytes/step", "reloaded" })
{
    table.AddColumn(column);
}

foreach (var r in results)
{
    table.AddRow(r.Name, r.Epochs.ToString(), $"{r.Losses[^1]:F4}", $"{r.TrainAccuracy:P1}", $"[bold]{r.TestAccuracy:P1}[/]",
        $"{r.SecondsPerEpoch * 1000:F1} ms", r.BytesPerStep == 0 ? "0" : r.BytesPerStep.ToString("G3") /* 0 only when nothing at all was allocated */, $"{r.ReloadedTestAccuracy:P1}");
}

table.Caption("test acc.: on the 20% held out. per epoch, bytes/step: measured in steady state, over epochs 2 to the last (epoch 1 includes the JIT's warm-up); " +
              "bytes/step is what this thread allocated per TrainStep. reloaded: test acc. after Save and Load into a fresh model.");

AnsiConsole.Write(table);

string plotPath = Path.Combine(output, "digits-loss.png");
LossPlot.Save(plotPath, results);
AnsiConsole.MarkupLine($"Loss curves: [link]{Markup.Escape(plotPath)}[/]");
AnsiConsole.MarkupLine($"Trained weights: [link]{Markup.Escape(output)}[/] (*.sgrd, reloaded into fresh models above)");

bool reloadOk = results.TrueForAll(r => r.ReloadedTestAccuracy == r.TestAccuracy);
bool accurate = results.TrueForAll(r => r.TestAccuracy >= 0.9);
if (!reloadOk || !accurate)
{
    AnsiConsole.MarkupLine("[red]✗ a model is below 90% test accuracy or did not reload to the same accuracy[/]");
    return 1;
}

AnsiConsole.MarkupLine("[green]✓ every model is above 90% on the test set, and reloads from disk to the same accuracy[/]");
return 0;

Result Train(Run run, DigitsData d, Action<int> onEpoch)
{
    // Any generated classifier is an IClassifier<float>: one loop for the three models. The iterator reshuffles each
    // epoch from its seed and hands TrainStep each batch where it lies; the schedule lowers the rate along a cosine.
    IClassifier<float> model = run.Create();
    model.Optimizer!.Schedule = new CosineAnnealing(totalSteps: run.Epochs * (d.TrainCount / BatchSize), minLearningRate: model.Optimizer.LearningRate / 20);
    var batches = new MiniBatches<float, int>(d.TrainX, d.TrainY, DigitsData.Features, BatchSize, seed: 1, dropLast: true);
    var losses = new List<double>();
    // Time and allocations are measured in steady state, after the first epoch: that one includes the JIT compiling the
    // generated code and the kernels for these shapes (and whatever the runtime allocates for that), which later epochs never repeat.
    double seconds = 0;
    long allocated = 0, steps = 0;
    for (int epoch = 1; epoch <= run.Epochs; epoch++)
    {
        long before = GC.GetAllocatedBytesForCurrentThread();
        EpochResult result = model.TrainEpoch(batches);
        long after = GC.GetAllocatedBytesForCurrentThread();
        losses.Add(result.MeanLoss);
        if (epoch > 1)
        {
            allocated += after - before;
            seconds += result.Elapsed.TotalSeconds;
            steps += result.Batches;
        }

        onEpoch(epoch);
    }

    double bytesPerStep = steps == 0 ? double.NaN : (double)allocated / steps;
    string path = Path.Combine(output, run.FileName);
    model.Save(path);
    IClassifier<float> reloaded = run.Create();
    reloaded.Load(path);

    return new Result(run.Name, run.Epochs, losses, model.Accuracy(d.TrainX, d.TrainY), model.Accuracy(d.TestX, d.TestY),
        seconds / Math.Max(1, run.Epochs - 1), bytesPerStep, reloaded.Accuracy(d.TestX, d.TestY));
}

static IClassifier<float> CreateSoftmax() => new SoftmaxClassifier(seed: 1, maxBatchSize: BatchSize)
{
    Optimizer = new Sgd(learningRate: 0.1, momentum: 0.9, weightDecay: 1e-4),
};

static IClassifier<float> CreateSvm() => new SvmClassifier(seed: 1, maxBatchSize: BatchSize)
{
    Optimizer = new Sgd(learningRate: 0.01, momentum: 0.9, weightDecay: 1e-3),
};

static IClassifier<float> CreateMlp() => new DigitMlp(seed: 1, maxBatchSize: BatchSize)
{
    Optimizer = new Adam(learningRate: 0.01, weightDecay: 1e-3),
};

internal sealed record Run(string Name, Func<IClassifier<float>> Create, int Epochs)
{
    public string FileName => new string(Array.FindAll(Name.ToLowerInvariant().ToCharArray(), char.IsLetterOrDigit)) + ".sgrd";
}

internal sealed record Result(string Name, int Epochs, List<double> Losses, double TrainAccuracy, double TestAccuracy,
    double SecondsPerEpoch, double BytesPerStep, double ReloadedTestAccuracy);
