// Forecast: a GRU written as C# (Models.cs) that predicts next month's sea surface temperatures of the Niño 3 and Niño 3.4
// regions from the last 24 months of both (NOAA's monthly series 1950–1999, samples/Data/nino.csv). It trains on the first
// 80% of the months, is tested on the last 20% against two baselines, and draws its forecasts against the truth.
// Run: dotnet run --project samples/Forecast -c Release [-- [plot.png] [epochs]]
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using Spectre.Console;
using StaticGrad.Samples.Forecast;
using StaticGrad.Training;

const int DefaultEpochs = 60, BatchSize = 32, Seed = 1;
const double TrainFraction = 0.8, LearningRate = 3e-3;
const string Usage = "Usage: dotnet run --project samples/Forecast -c Release [-- [plot.png] [epochs]]\n" +
                     "  plot.png  where to write the plot (default: forecast.png in the current directory)\n" +
                     "  epochs    passes over the training months, 1 to 10000 (default: 60)";

if (args is ["-h"] or ["--help"] or ["-?"])
{
    Console.WriteLine(Usage);
    return 0;
}

if (args.Length > 2)
{
    return Fail($"expected at most two arguments, but got {args.Length}: {string.Join(' ', args)}");
}

string plotPath = Path.GetFullPath(args.Length > 0 ? args[0] : "forecast.png");
if (!plotPath.EndsWith(".png", StringComparison.OrdinalIgnoreCase))
{
    return Fail($"the plot is written as a PNG, so its file name should end in .png, but it is '{args[0]}'");
}

int epochs = DefaultEpochs;
if (args.Length > 1 && (!int.TryParse(args[1], NumberStyles.None, CultureInfo.InvariantCulture, out epochs) || epochs < 1 || epochs > 10000))
{
    return Fail($"epochs must be a whole number from 1 to 10000, but it is '{args[1]}'");
}

try
{
    Directory.CreateDirectory(Path.GetDirectoryName(plotPath)!);   // before training: a bad folder fails at once
}
catch (Exception e) when (e is IOException or UnauthorizedAccessException)
{
    return Fail($"cannot create the folder of {plotPath}: {e.Message.TrimEnd('.')}");
}

string dataPath = Path.Combine(AppContext.BaseDirectory, "nino.csv");
if (!File.Exists(dataPath))
{
    return Fail($"{dataPath} is missing: the build copies it from samples/Data/nino.csv", usage: false);
}

SeriesData series;
try
{
    series = SeriesData.Load(dataPath);
}
catch (InvalidDataException e)
{
    return Fail(e.Message.TrimEnd('.'), usage: false);
}

const int W = NinoForecaster.Window, D = NinoForecaster.Variables;
if (series.Variables != D || series.Length < 2 * W)
{
    return Fail($"{dataPath} should hold {D} variables over at least {2 * W} months, but holds {series.Variables} over {series.Length}", usage: false);
}

// The file's columns nino3 and nino3.4, as the tables and the plot name them.
string[] names = series.Names.Select(n => n.Replace("nino", "Niño ", StringComparison.Ordinal)).ToArray();
if (Console.IsOutputRedirected)
{
    AnsiConsole.Profile.Width = 120;
}

// A time-ordered split: the first 80% of the months train, the rest test. Each variable is normalised with the mean and
// standard deviation of the training months only, so nothing of the test part leaks into the inputs' scale.
int months = series.Length, trainMonths = (int)(months * TrainFraction);
var mean = new double[D];
var std = new double[D];
for (int d = 0; d < D; d++)
{
    double[] v = Enumerable.Range(0, trainMonths).Select(t => (double)series[t, d]).ToArray();
    mean[d] = v.Average();
    std[d] = Math.Sqrt(v.Sum(x => (x - mean[d]) * (x - mean[d])) / v.Length);
}

float Z(int t, int d) => (float)((series[t, d] - mean[d]) / std[d]);

// Example for month t: the window of months t − 24 … t − 1, the target month t. Training targets lie in the training part;
// test targets are every month of the test part (their windows may start in the training part: those months are observed).
(float[] X, float[] Y) Examples(int firstTarget, int endTarget)
{
    int count = endTarget - firstTarget;
    var x = new float[count * W * D];
    var y = new float[count * D];
    for (int i = 0; i < count; i++)
    {
        int t = firstTarget + i;
        for (int s = 0; s < W; s++)
        {
            for (int d = 0; d < D; d++)
            {
                x[(((i * W) + s) * D) + d] = Z(t - W + s, d);
            }
        }

        for (int d = 0; d < D; d++)
        {
            y[(i * D) + d] = Z(t, d);
        }
    }

    return (x, y);
}

var (trainX, trainY) = Examples(W, trainMonths);
var (testX, testY) = Examples(trainMonths, months);
int trainCount = trainY.Length / D, testCount = testY.Length / D;

var batches = new MiniBatches<float, float>(trainX, trainY, W * D, BatchSize, seed: Seed, labelsPerExample: D);
var model = new NinoForecaster(seed: Seed, maxBatchSize: BatchSize);
model.Optimizer = new Adam(LearningRate) { Schedule = new CosineAnnealing(totalSteps: (long)epochs * batches.BatchesPerEpoch) };

AnsiConsole.MarkupLine($"[bold]StaticGrad Forecast[/]: {Markup.Escape(string.Join(" and ", names))} sea surface temperatures, {series.Months[0]:MMM yyyy} to {series.Months[^1]:MMM yyyy} ({months} months)");
AnsiConsole.MarkupLine($"train: {trainCount} windows with targets {series.Months[W]:MMM yyyy} – {series.Months[trainMonths - 1]:MMM yyyy}; " +
                       $"test: {testCount} months, {series.Months[trainMonths]:MMM yyyy} – {series.Months[^1]:MMM yyyy}");
AnsiConsole.MarkupLine($"GRU(2, 32, 2 layers) → Linear(32, 2) on windows of {W} months, {NinoForecaster.ParameterCount:N0} parameters; " +
                       $"Adam {LearningRate} with cosine annealing, batch {BatchSize}, {epochs} epochs, one thread");

var trainLosses = new List<double>();
var testLosses = new List<double>();
long allocated = 0, steadySteps = 0;
double steadySeconds = 0;
var total = Stopwatch.StartNew();
AnsiConsole.Progress()
    .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
    .Start(progress =>
    {
        var task = progress.AddTask("training", maxValue: epochs);
        for (int epoch = 1; epoch <= epochs; epoch++)
        {
            double sum = 0;
            int steps = 0;
            long before = GC.GetAllocatedBytesForCurrentThread(), start = Stopwatch.GetTimestamp();
            foreach (MiniBatch<float, float> batch in batches)
            {
                sum += model.TrainStep(batch.Features, batch.Labels) * batch.Count;
                steps++;
            }

            TimeSpan elapsed = Stopwatch.GetElapsedTime(start);
            long after = GC.GetAllocatedBytesForCurrentThread();
            if (epoch > 1)
            {
                // Epoch 1 includes the JIT and the kernels' one-time buffers; later epochs are steady state.
                allocated += after - before;
                steadySteps += steps;
                steadySeconds += elapsed.TotalSeconds;
            }

            trainLosses.Add(sum / trainCount);
            testLosses.Add(model.EvaluateLoss(testX, testY));
            task.Increment(1);
        }
    });
total.Stop();

// Every epoch when there are few, otherwise about fifteen rows (the first, every k-th and the last).
int every = Math.Max(1, (int)Math.Ceiling(epochs / 15.0));
var epochTable = new Table().Border(TableBorder.Rounded).Title("[bold]Training[/]");
foreach (string column in new[] { "epoch", "train MSE", "test MSE" })
{
    epochTable.AddColumn(new TableColumn(column).RightAligned());
}

for (int e = 1; e <= epochs; e++)
{
    if (e == 1 || e % every == 0 || e == epochs)
    {
        epochTable.AddRow(e.ToString(CultureInfo.InvariantCulture), $"{trainLosses[e - 1]:F4}", $"{testLosses[e - 1]:F4}");
    }
}

epochTable.Caption($"MSE in standard deviations²; {(every == 1 ? "every epoch" : $"epoch 1, every {every}th and the last")}");
AnsiConsole.Write(epochTable);

// The test part in °C: the GRU's one-month-ahead forecasts and the two baselines.
var predicted = new float[testCount * D];
model.Predict(testX, predicted);
var truth = new float[testCount, D];
var gru = new float[testCount, D];
var persistence = new float[testCount, D];
var trainingMean = new float[testCount, D];
for (int i = 0; i < testCount; i++)
{
    int t = trainMonths + i;
    for (int d = 0; d < D; d++)
    {
        truth[i, d] = series[t, d];
        gru[i, d] = (float)((predicted[(i * D) + d] * std[d]) + mean[d]);
        persistence[i, d] = series[t - 1, d];
        trainingMean[i, d] = (float)mean[d];
    }
}

// MSE in standard deviations² over both variables (the training loss's units) and RMSE in °C per variable.
double Mse(float[,] forecast) => Enumerable.Range(0, testCount).Sum(i => Enumerable.Range(0, D).Sum(d => Math.Pow((forecast[i, d] - truth[i, d]) / std[d], 2))) / (testCount * D);
double Rmse(float[,] forecast, int d) => Math.Sqrt(Enumerable.Range(0, testCount).Average(i => Math.Pow(forecast[i, d] - truth[i, d], 2)));
double gruMse = Mse(gru), persistenceMse = Mse(persistence), meanMse = Mse(trainingMean);

var results = new Table().Border(TableBorder.Rounded).Title($"[bold]Test part: {testCount} months, one month ahead[/]");
results.AddColumn("forecast");
results.AddColumn(new TableColumn("MSE (std²)").RightAligned());
foreach (string name in names)
{
    results.AddColumn(new TableColumn($"RMSE {Markup.Escape(name)}").RightAligned());
}

void Row(string name, float[,] forecast, double mse, bool bold)
{
    var cells = new List<string> { name, bold ? $"[bold]{mse:F4}[/]" : $"{mse:F4}" };
    cells.AddRange(Enumerable.Range(0, D).Select(d => $"{Rmse(forecast, d):F3} °C"));
    results.AddRow(cells.ToArray());
}

Row("GRU", gru, gruMse, bold: true);
Row("persistence (last month)", persistence, persistenceMse, bold: false);
Row("training mean", trainingMean, meanMse, bold: false);
results.Caption($"MSE over both variables in units of the training part's standard deviations ({string.Join(", ", Enumerable.Range(0, D).Select(d => $"{std[d]:F2} °C"))}); " +
                $"training {total.Elapsed.TotalSeconds:F1} s, {steadySeconds / Math.Max(1, epochs - 1) * 1000:F1} ms per epoch and " +
                $"{(steadySteps == 0 ? "–" : ((double)allocated / steadySteps).ToString("F0", CultureInfo.InvariantCulture))} bytes per TrainStep after epoch 1.");
AnsiConsole.Write(results);

try
{
    ForecastPlot.Save(plotPath, series.Months[trainMonths..], names, truth, gru, persistence,
        $"StaticGrad GRU: next month's sea surface temperature, test part {series.Months[trainMonths]:MMM yyyy} – {series.Months[^1]:MMM yyyy}");
}
catch (Exception e) when (e is IOException or UnauthorizedAccessException)
{
    return Fail($"cannot write the plot to {plotPath}: {e.Message.TrimEnd('.')}", usage: false);
}

AnsiConsole.MarkupLine($"Plot: [link]{Markup.Escape(plotPath)}[/]");
if (gruMse >= persistenceMse)
{
    AnsiConsole.MarkupLine($"[red]✗ the GRU's test MSE {gruMse:F4} does not beat persistence's {persistenceMse:F4}[/]");
    return 1;
}

AnsiConsole.MarkupLine($"[green]✓ the GRU's test MSE is {gruMse / persistenceMse:P0} of persistence's and {gruMse / meanMse:P0} of the training mean's[/]");
return 0;

static int Fail(string message, bool usage = true)
{
    Console.Error.WriteLine($"Forecast: {message}.");
    if (usage)
    {
        Console.Error.WriteLine(Usage);
    }

    return 2;
}
