// FashionResNet: the "Models as C# code" example trained on Fashion-MNIST. The model is written as a C# forward pass
// (Models.cs); StaticGrad checks its shapes at compile time and generates Forward, Backward (BatchNorm included) and TrainStep.
// Run: dotnet run --project samples/FashionResNet -c Release [-- <folder with the idx.gz files> [epochs] [training examples]]
using System;
using System.Diagnostics;
using System.IO;
using Spectre.Console;
using StaticGrad;
using StaticGrad.Samples.FashionMnist;
using StaticGrad.Samples.FashionResNet;
using StaticGrad.Training;

const string DebianFolder = "/usr/share/datasets/fashion-mnist";
string folder = args.Length > 0 ? args[0] : DebianFolder;
int epochs = args.Length > 1 ? int.Parse(args[1]) : 5;
int limit = args.Length > 2 ? int.Parse(args[2]) : int.MaxValue;
string[] files = { "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz" };
foreach (string file in files)
{
    if (!File.Exists(Path.Combine(folder, file)))
    {
        Console.Error.WriteLine($"Fashion-MNIST's {file} is not in {Path.GetFullPath(folder)}.");
        Console.Error.WriteLine("On Debian or Ubuntu:  sudo apt-get install dataset-fashion-mnist   (installs the four files under " + DebianFolder + ")");
        Console.Error.WriteLine("  dotnet run --project samples/FashionResNet -c Release -- <folder> [epochs] [training examples]");
        return 2;
    }
}

if (Console.IsOutputRedirected)
{
    AnsiConsole.Profile.Width = 120;
}

float[] trainX = IdxFile.ReadImages(Path.Combine(folder, files[0]), out int trainCount, out int pixels);
byte[] trainY = IdxFile.ReadLabels(Path.Combine(folder, files[1]));
float[] testX = IdxFile.ReadImages(Path.Combine(folder, files[2]), out int testCount, out _);
byte[] testY = IdxFile.ReadLabels(Path.Combine(folder, files[3]));
if (pixels != FashionResNet.InputSize)
{
    Console.Error.WriteLine($"Unexpected files: images of {pixels} pixels.");
    return 2;
}

trainCount = Math.Min(trainCount, limit);
const int BatchSize = 64;
var batches = new MiniBatches<float, byte>(trainX[..(trainCount * pixels)], trainY[..trainCount], pixels, BatchSize, seed: 1, dropLast: true);
var model = new FashionResNet(seed: 1, maxBatchSize: BatchSize);
// Adam with the rate annealed to 0 along a cosine over the whole run (torch.optim.lr_scheduler.CosineAnnealingLR).
model.Optimizer = new Adam(learningRate: 2e-3) { Schedule = new CosineAnnealing(totalSteps: epochs * batches.BatchesPerEpoch) };
AnsiConsole.MarkupLine($"[bold]StaticGrad FashionResNet[/]: {trainCount:N0} training and {testCount:N0} test images, {FashionResNet.ParameterCount:N0} parameters");
AnsiConsole.MarkupLine($"Adam 2e-3 with cosine annealing, batch {BatchSize}, {epochs} epochs, one thread, {(System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated ? "AVX-512" : System.Runtime.Intrinsics.Vector256.IsHardwareAccelerated ? "AVX2" : "no AVX")} kernels");

var table = new Table().Border(TableBorder.Rounded).Title("[bold]Training[/]");
foreach (string column in new[] { "epoch", "train loss", "test accuracy", "epoch time", "bytes/step" })
{
    table.AddColumn(column);
}

double lastAccuracy = 0;
AnsiConsole.Progress()
    .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
    .Start(progress =>
    {
        var task = progress.AddTask("training", maxValue: epochs * (double)batches.BatchesPerEpoch);
        for (int epoch = 1; epoch <= epochs; epoch++)
        {
            double lossSum = 0;
            int steps = 0;
            var clock = Stopwatch.StartNew();
            long allocated = 0;
            foreach (MiniBatch<float, byte> batch in batches)
            {
                long before = GC.GetAllocatedBytesForCurrentThread();
                lossSum += model.TrainStep(batch.Features, batch.Labels);
                allocated += GC.GetAllocatedBytesForCurrentThread() - before;
                steps++;
                task.Increment(1);
            }

            clock.Stop();
            lastAccuracy = model.Accuracy(testX, testY);
            // The first epoch's figure includes one-time allocations (JIT, the kernels' per-thread buffers); later epochs are steady state.
            table.AddRow(epoch.ToString(), $"{lossSum / steps:F4}", $"[bold]{lastAccuracy:P2}[/]", $"{clock.Elapsed.TotalSeconds:F1} s", $"{(double)allocated / steps:F0}");
        }
    });

table.Caption("bytes/step: allocated by TrainStep per step on this thread; epoch 1 includes one-time warm-up (JIT, kernel buffers).");
AnsiConsole.Write(table);
double required = trainCount >= 60000 && epochs >= 5 ? 0.92 : 0.70;
if (lastAccuracy < required)
{
    AnsiConsole.MarkupLine($"[red]✗ test accuracy below {required:P0}[/]");
    return 1;
}

AnsiConsole.MarkupLine($"[green]✓ {lastAccuracy:P2} on the 10,000 test images[/]");
return 0;
