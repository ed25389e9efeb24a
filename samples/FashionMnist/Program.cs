// Fashion-MNIST with StaticGrad: 60,000 training and 10,000 test images of clothing (28×28 grey levels, 10 classes),
// an MLP trained with generated backprop and Adam, batch 128, on one thread.
// Run: dotnet run --project samples/FashionMnist -c Release [-- <folder with the idx.gz files> [epochs] [mlp|deep|cnn]]
using System;
using System.IO;
using Spectre.Console;
using StaticGrad;
using StaticGrad.Samples.FashionMnist;
using StaticGrad.Training;

const string DebianFolder = "/usr/share/datasets/fashion-mnist";
string folder = args.Length > 0 ? args[0] : DebianFolder;
int epochs = args.Length > 1 ? int.Parse(args[1]) : 3;
string modelName = args.Length > 2 ? args[2] : "mlp";
string[] files = { "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz" };
foreach (string file in files)
{
    if (!File.Exists(Path.Combine(folder, file)))
    {
        Console.Error.WriteLine($"Fashion-MNIST's {file} is not in {Path.GetFullPath(folder)}.");
        Console.Error.WriteLine("On Debian or Ubuntu:  sudo apt-get install dataset-fashion-mnist   (installs the four files under " + DebianFolder + ")");
        Console.Error.WriteLine("Elsewhere: download the four *-ubyte.gz files of https://github.com/zalandoresearch/fashion-mnist into a folder and pass it:");
        Console.Error.WriteLine("  dotnet run --project samples/FashionMnist -c Release -- <folder> [epochs] [mlp|deep|cnn]");
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
if (pixels != FashionMlp.InputSize || trainY.Length != trainCount || testY.Length != testCount)
{
    Console.Error.WriteLine($"Unexpected files: {trainCount} training images of {pixels} pixels with {trainY.Length} labels.");
    return 2;
}

const int BatchSize = 128;
IClassifier<float> model = modelName switch
{
    "deep" => new FashionDeepMlp(seed: 1, maxBatchSize: BatchSize),
    "cnn" => new FashionCnn(seed: 1, maxBatchSize: BatchSize),
    _ => new FashionMlp(seed: 1, maxBatchSize: BatchSize),
};
string architecture = model.Architecture;
model.Optimizer = new Adam(learningRate: 1e-3);
AnsiConsole.MarkupLine($"[bold]StaticGrad Fashion-MNIST[/]: {trainCount:N0} training and {testCount:N0} test images, {Markup.Escape(architecture)}");
AnsiConsole.MarkupLine($"Adam 1e-3, batch {BatchSize}, {epochs} epochs, one thread, {(System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated ? "AVX-512" : System.Runtime.Intrinsics.Vector256.IsHardwareAccelerated ? "AVX2" : "no AVX")} kernels");

var table = new Table().Border(TableBorder.Rounded).Title("[bold]Training[/]");
foreach (string column in new[] { "epoch", "train loss", "test accuracy", "epoch time", "bytes/step" })
{
    table.AddColumn(column);
}

// Shuffled per epoch from its seed; each batch is gathered once into the iterator's buffer and TrainStep reads it there.
var batches = new MiniBatches<float, byte>(trainX, trainY, pixels, BatchSize, seed: 1, dropLast: true);
double lastAccuracy = 0;
AnsiConsole.Progress()
    .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
    .Start(progress =>
    {
        var task = progress.AddTask("training", maxValue: epochs);
        for (int epoch = 1; epoch <= epochs; epoch++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            EpochResult result = model.TrainEpoch(batches);
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            task.Increment(1);
            lastAccuracy = model.Accuracy(testX, testY);
            table.AddRow(result.Epoch.ToString(), $"{result.MeanLoss:F4}", $"[bold]{lastAccuracy:P2}[/]", $"{result.Elapsed.TotalSeconds:F2} s", $"{(double)allocated / result.Batches:F0}");
        }
    });

table.Caption("epoch time: the training steps and the batch gathering, without the test pass. bytes/step: allocated per TrainStep " +
    "(epoch 1 includes this thread's packing buffers, allocated once on its first large product).");
AnsiConsole.Write(table);
if (lastAccuracy < 0.80)
{
    AnsiConsole.MarkupLine("[red]✗ test accuracy below 80%[/]");
    return 1;
}

AnsiConsole.MarkupLine($"[green]✓ {lastAccuracy:P2} on the 10,000 test images[/]");
return 0;
