// Moving a StaticGrad model to the rest of the ML world: train the digits MLP, export it to ONNX and run the file in
// ONNX Runtime, save it as safetensors (PyTorch's format) and load that into a fresh model, and compare all three;
// then train a small double CNN and export it with float tensors, which ONNX Runtime's CPU provider runs (it has no double Conv).
// Run: dotnet run --project samples/Interchange -c Release [-- output-folder]
// Then, with Debian's python3-torch and python3-onnx: /usr/bin/python3 samples/Interchange/check_in_pytorch.py [output-folder]
using System;
using System.IO;
using System.Linq;
using System.Text.Json;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Spectre.Console;
using StaticGrad;
using StaticGrad.Interchange;
using StaticGrad.Training;
using StaticGrad.Samples.Digits;

if (Console.IsOutputRedirected)
{
    AnsiConsole.Profile.Width = 120;
}

string output = Path.GetFullPath(args.Length > 0 ? args[0] : "interchange-output");
Directory.CreateDirectory(output);
var data = DigitsData.Load(Path.Combine(AppContext.BaseDirectory, "digits.csv.gz"));
int testCount = data.TestCount;

// 1. Train with StaticGrad.
const int BatchSize = 32;
var model = new DigitMlp(seed: 1, maxBatchSize: BatchSize);
model.UseAdam(learningRate: 0.01f, weightDecay: 1e-3f);
var order = Enumerable.Range(0, data.TrainCount).ToArray();
var shuffle = new Random(1);
var batchX = new float[BatchSize * DigitMlp.InputSize];
var batchY = new int[BatchSize];
for (int epoch = 0; epoch < 40; epoch++)
{
    shuffle.Shuffle(order);
    for (int start = 0; start + BatchSize <= order.Length; start += BatchSize)
    {
        for (int b = 0; b < BatchSize; b++)
        {
            data.TrainX.AsSpan(order[start + b] * DigitMlp.InputSize, DigitMlp.InputSize).CopyTo(batchX.AsSpan(b * DigitMlp.InputSize));
            batchY[b] = data.TrainY[order[start + b]];
        }

        model.TrainStep(batchX, batchY);
    }
}

var ours = new int[testCount];
model.Predict(data.TestX, ours);

// 2. ONNX: export, then let ONNX Runtime run the whole test split as one batch (the batch dimension is symbolic).
string onnxPath = Path.Combine(output, "digits-mlp.onnx");
model.ExportOnnx(onnxPath);
var onnxScores = new float[testCount * DigitMlp.OutputSize];
using (var session = new InferenceSession(onnxPath))
{
    var input = new DenseTensor<float>(data.TestX, new[] { testCount, DigitMlp.InputSize });
    using var results = session.Run(new[] { NamedOnnxValue.CreateFromTensor("input", input) });
    results.Single(r => r.Name == "output").AsEnumerable<float>().ToArray().CopyTo(onnxScores, 0);
}

int[] onnx = Enumerable.Range(0, testCount).Select(i => ArgMax<float>(onnxScores.AsSpan(i * DigitMlp.OutputSize, DigitMlp.OutputSize))).ToArray();

// 3. safetensors: save, then load into a fresh model with other initial weights.
string safetensorsPath = Path.Combine(output, "digits-mlp.safetensors");
model.SaveSafetensors(safetensorsPath);
var reloaded = new DigitMlp(seed: 2);
reloaded.LoadSafetensors(safetensorsPath);
var reloadedPredictions = new int[testCount];
reloaded.Predict(data.TestX, reloadedPredictions);

// For check_in_pytorch.py: the test inputs and StaticGrad's scores for them. Forward takes at most maxBatchSize (32)
// rows; Predict with a span of scores takes the whole test split and runs it in chunks of 32, allocating nothing.
var scores = new float[testCount * DigitMlp.OutputSize];
model.Predict(data.TestX, scores);

File.WriteAllText(Path.Combine(output, "digits-test.json"), JsonSerializer.Serialize(new TestRecord(
    DigitMlp.Architecture, testCount, DigitMlp.InputSize, DigitMlp.OutputSize, data.TestX, scores, data.TestY), TestRecordContext.Default.TestRecord));

// 4. A double CNN for ONNX Runtime: its CPU provider has no double Conv, so the network is exported with float tensors
// (ExportOnnx(path, ElementType.Float) rounds the parameters) and its float scores compared with StaticGrad's double ones.
double[] trainX = Array.ConvertAll(data.TrainX, v => (double)v), testX = Array.ConvertAll(data.TestX, v => (double)v);
var cnn = new DigitCnn(seed: 1, maxBatchSize: BatchSize) { Optimizer = new Adam(learningRate: 0.005) };
var cnnBatches = new MiniBatches<double, int>(trainX, data.TrainY, DigitCnn.InputSize, BatchSize, seed: 1);
for (int epoch = 0; epoch < 15; epoch++)
{
    cnn.TrainEpoch(cnnBatches);
}

var cnnScores = new double[testCount * DigitCnn.OutputSize];
cnn.Predict(testX, cnnScores);
var cnnProbabilities = new double[testCount * DigitCnn.OutputSize];
cnn.PredictProbabilities(testX, cnnProbabilities);
string cnnPath = Path.Combine(output, "digits-cnn-float.onnx");
cnn.ExportOnnx(cnnPath, ElementType.Float);
float[] cnnOnnxScores;
using (var session = new InferenceSession(cnnPath))
{
    var input = new DenseTensor<float>(data.TestX, new[] { testCount, DigitCnn.InputSize });
    using var results = session.Run(new[] { NamedOnnxValue.CreateFromTensor("input", input) });
    cnnOnnxScores = results.Single(r => r.Name == "output").AsEnumerable<float>().ToArray();
}

int[] cnnOurs = Enumerable.Range(0, testCount).Select(i => ArgMax<double>(cnnScores.AsSpan(i * DigitCnn.OutputSize, DigitCnn.OutputSize))).ToArray();
int[] cnnOnnx = Enumerable.Range(0, testCount).Select(i => ArgMax<float>(cnnOnnxScores.AsSpan(i * DigitCnn.OutputSize, DigitCnn.OutputSize))).ToArray();
double cnnMaxDifference = cnnOnnxScores.Zip(cnnScores).Max(p => Math.Abs(p.First - p.Second));
double cnnConfidence = Enumerable.Range(0, testCount).Average(i => cnnProbabilities[(i * DigitCnn.OutputSize) + cnnOurs[i]]);

double Accuracy(int[] predictions) => predictions.Zip(data.TestY).Count(p => p.First == p.Second) / (double)testCount;
int Agreement(int[] predictions) => predictions.Zip(ours).Count(p => p.First == p.Second);
float maxDifference = onnxScores.Zip(scores).Max(p => Math.Abs(p.First - p.Second));

var table = new Table().Border(TableBorder.Rounded).Title($"[bold]{Markup.Escape(DigitMlp.Architecture)}[/], {testCount} test digits");
table.AddColumn("model");
table.AddColumn("test accuracy");
table.AddColumn("same prediction as StaticGrad");
table.AddRow("StaticGrad (trained)", $"{Accuracy(ours):P2}", $"{testCount}/{testCount}");
table.AddRow("ONNX Runtime (exported .onnx)", $"{Accuracy(onnx):P2}", $"{Agreement(onnx)}/{testCount}");
table.AddRow("StaticGrad (reloaded .safetensors)", $"{Accuracy(reloadedPredictions):P2}", $"{Agreement(reloadedPredictions)}/{testCount}");
table.Caption($"largest |score difference| StaticGrad vs ONNX Runtime: {maxDifference:G3}");
AnsiConsole.Write(table);

var cnnTable = new Table().Border(TableBorder.Rounded).Title($"[bold]{Markup.Escape(DigitCnn.Architecture)}[/], {testCount} test digits");
cnnTable.AddColumn("model");
cnnTable.AddColumn("test accuracy");
cnnTable.AddColumn("same prediction as StaticGrad");
cnnTable.AddRow("StaticGrad (double, trained)", $"{Accuracy(cnnOurs):P2}", $"{testCount}/{testCount}");
cnnTable.AddRow("ONNX Runtime (exported with ElementType.Float)", $"{Accuracy(cnnOnnx):P2}", $"{cnnOnnx.Zip(cnnOurs).Count(p => p.First == p.Second)}/{testCount}");
cnnTable.Caption($"largest |score difference| (double vs float): {cnnMaxDifference:G3}; mean probability of the predicted class (PredictProbabilities): {cnnConfidence:P1}");
AnsiConsole.Write(cnnTable);
AnsiConsole.MarkupLine($"Files: [link]{Markup.Escape(onnxPath)}[/], [link]{Markup.Escape(cnnPath)}[/], [link]{Markup.Escape(safetensorsPath)}[/]");
AnsiConsole.MarkupLine("Check them in PyTorch: [grey]/usr/bin/python3 samples/Interchange/check_in_pytorch.py " + Markup.Escape(output) + "[/]");

if (Agreement(onnx) != testCount || Agreement(reloadedPredictions) != testCount)
{
    AnsiConsole.MarkupLine("[red]✗ the exported or reloaded model predicts differently[/]");
    return 1;
}

if (!(cnnMaxDifference < 1e-3))
{
    AnsiConsole.MarkupLine("[red]✗ ONNX Runtime's float scores of the double CNN differ from StaticGrad's by more than 1e-3[/]");
    return 1;
}

AnsiConsole.MarkupLine("[green]✓ ONNX Runtime and the reloaded model predict exactly what StaticGrad predicts[/]");
return 0;

static int ArgMax<T>(ReadOnlySpan<T> values)
    where T : IComparable<T>
{
    int best = 0;
    for (int i = 1; i < values.Length; i++)
    {
        if (values[i].CompareTo(values[best]) > 0)
        {
            best = i;
        }
    }

    return best;
}

/// <summary>The test split and StaticGrad's scores for it, for check_in_pytorch.py.</summary>
internal sealed record TestRecord(string Architecture, int Rows, int InputSize, int OutputSize, float[] Inputs, float[] Scores, int[] Labels);

[System.Text.Json.Serialization.JsonSerializable(typeof(TestRecord))]
internal sealed partial class TestRecordContext : System.Text.Json.Serialization.JsonSerializerContext;

/// <summary>The digits MLP: 64 pixels → 32 ReLU units → 10 scores. PyTorch: nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10)).</summary>
[Linear(64, 32), ReLU, Linear(32, 10), SoftmaxCrossEntropy]
internal partial class DigitMlp;

/// <summary>A small CNN in double on the 8×8 digits: 1×8×8 → 8×8×8 (3×3 convolution, padding 1) → 8×4×4 (max-pool) → 10 scores.</summary>
[Input<double>(1, 8, 8), Conv2d(1, 8, 3, Padding = 1), ReLU, MaxPool2d(2), Flatten, Linear<double>(8 * 4 * 4, 10), SoftmaxCrossEntropy]
internal partial class DigitCnn;
