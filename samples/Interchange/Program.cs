// Moving a StaticGrad model to the rest of the ML world: train the digits MLP, export it to ONNX and run the file in
// ONNX Runtime, save it as safetensors (PyTorch's format) and load that into a fresh model, and compare all three.
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

int[] onnx = Enumerable.Range(0, testCount).Select(i => ArgMax(onnxScores.AsSpan(i * DigitMlp.OutputSize, DigitMlp.OutputSize))).ToArray();

// 3. safetensors: save, then load into a fresh model with other initial weights.
string safetensorsPath = Path.Combine(output, "digits-mlp.safetensors");
model.SaveSafetensors(safetensorsPath);
var reloaded = new DigitMlp(seed: 2);
reloaded.LoadSafetensors(safetensorsPath);
var reloadedPredictions = new int[testCount];
reloaded.Predict(data.TestX, reloadedPredictions);

// For check_in_pytorch.py: the test inputs and StaticGrad's scores for them.
// Forward takes at most maxBatchSize rows (Predict has no such limit), so the scores come in batches.
var scores = new float[testCount * DigitMlp.OutputSize];
for (int start = 0; start < testCount; start += BatchSize)
{
    int rows = Math.Min(BatchSize, testCount - start);
    model.Forward(data.TestX.AsSpan(start * DigitMlp.InputSize, rows * DigitMlp.InputSize), scores.AsSpan(start * DigitMlp.OutputSize, rows * DigitMlp.OutputSize));
}

File.WriteAllText(Path.Combine(output, "digits-test.json"), JsonSerializer.Serialize(new TestRecord(
    DigitMlp.Architecture, testCount, DigitMlp.InputSize, DigitMlp.OutputSize, data.TestX, scores, data.TestY), TestRecordContext.Default.TestRecord));

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
AnsiConsole.MarkupLine($"Files: [link]{Markup.Escape(onnxPath)}[/], [link]{Markup.Escape(safetensorsPath)}[/]");
AnsiConsole.MarkupLine("Check them in PyTorch: [grey]/usr/bin/python3 samples/Interchange/check_in_pytorch.py " + Markup.Escape(output) + "[/]");

if (Agreement(onnx) != testCount || Agreement(reloadedPredictions) != testCount)
{
    AnsiConsole.MarkupLine("[red]✗ the exported or reloaded model predicts differently[/]");
    return 1;
}

AnsiConsole.MarkupLine("[green]✓ ONNX Runtime and the reloaded model predict exactly what StaticGrad predicts[/]");
return 0;

static int ArgMax(ReadOnlySpan<float> values)
{
    int best = 0;
    for (int i = 1; i < values.Length; i++)
    {
        if (values[i] > values[best])
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
