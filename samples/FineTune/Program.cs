// Fine-tuning an imported ONNX model: PyTorch's MLP trained on the digits 0–5 (digits-0to5.onnx, written by
// make_pretrained.py) is imported at compile time by [FromOnnx] (Models.cs). Its head is replaced by one for all ten digits,
// then trained on the digits data: once with the imported layer frozen, once with everything trained.
//
//   dotnet run --project samples/FineTune -c Release
using System;
using System.Globalization;
using System.IO;
using System.IO.Compression;
using System.Linq;
using StaticGrad.Samples.FineTune;

const int Epochs = 20, Batch = 32;

// The 1,797 digits (samples/Data/README.md), pixels 0–16 scaled to 0–1; example i is a test example when i % 5 == 0,
// as make_pretrained.py splits them.
int[][] rows;
using (var reader = new StreamReader(new GZipStream(File.OpenRead(Path.Combine(AppContext.BaseDirectory, "digits.csv.gz")), CompressionMode.Decompress)))
{
    rows = reader.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries)
        .Select(line => line.Split(',').Select(v => int.Parse(v, CultureInfo.InvariantCulture)).ToArray()).ToArray();
}

int[][] train = rows.Where((_, i) => i % 5 != 0).ToArray(), test = rows.Where((_, i) => i % 5 == 0).ToArray();
float[] Pixels(int[][] set) => set.SelectMany(r => r.Take(64).Select(v => v / 16f)).ToArray();
int[] Labels(int[][] set) => set.Select(r => r[64]).ToArray();
float[] trainX = Pixels(train), testX = Pixels(test);
int[] trainY = Labels(train), testY = Labels(test);

// Accuracy from scores: the class with the highest score, against the labels (of the examples `which` keeps).
double Accuracy(float[] scores, int classes, Func<int, bool> which)
{
    int correct = 0, count = 0;
    for (int e = 0; e < testY.Length; e++)
    {
        if (!which(testY[e]))
        {
            continue;
        }

        var row = new ReadOnlySpan<float>(scores, e * classes, classes);
        int best = 0;
        for (int c = 1; c < classes; c++)
        {
            best = row[c] > row[best] ? c : best;
        }

        correct += best == testY[e] ? 1 : 0;
        count++;
    }

    return (double)correct / count;
}

var pretrained = new Pretrained();
var pretrainedScores = new float[testY.Length * Pretrained.OutputSize];
pretrained.Predict(testX, pretrainedScores);
Console.WriteLine($"Imported from digits-0to5.onnx: {Pretrained.Architecture}");
Console.WriteLine($"Pretrained (6 classes): test accuracy {Accuracy(pretrainedScores, 6, d => d < 6):P1} on the digits 0–5, {Accuracy(pretrainedScores, 6, _ => true):P1} on all ten");
Console.WriteLine();

var frozen = new FrozenFeatures(seed: 1, maxBatchSize: Batch);
frozen.UseAdam(1e-2);
double frozenAfter = Run("Frozen features, new head", (x, scores) => frozen.Predict(x, scores), (x, y) => frozen.TrainStep(x, y));

var fineTuned = new FineTuned(seed: 1, maxBatchSize: Batch);
fineTuned.UseAdam(1e-2);
double fullAfter = Run("Fine-tuned, new head", (x, scores) => fineTuned.Predict(x, scores), (x, y) => fineTuned.TrainStep(x, y));
return frozenAfter > 0.85 && fullAfter > 0.85 ? 0 : 1;

// Trains a model with a new ten-class head for Epochs epochs on the training digits; prints test accuracy before and after.
double Run(string title, Action<float[], float[]> predict, Func<float[], int[], float> trainStep)
{
    var scores = new float[testY.Length * 10];
    predict(testX, scores);
    double before = Accuracy(scores, 10, _ => true);
    var random = new Random(2);
    int[] order = Enumerable.Range(0, trainY.Length).ToArray();
    var x = new float[Batch * 64];
    var y = new int[Batch];
    for (int epoch = 0; epoch < Epochs; epoch++)
    {
        random.Shuffle(order);
        for (int start = 0; start + Batch <= order.Length; start += Batch)
        {
            for (int b = 0; b < Batch; b++)
            {
                Array.Copy(trainX, order[start + b] * 64, x, b * 64, 64);
                y[b] = trainY[order[start + b]];
            }

            trainStep(x, y);
        }
    }

    predict(testX, scores);
    double after = Accuracy(scores, 10, _ => true);
    Console.WriteLine($"{title}: test accuracy on all ten digits {before:P1} before, {after:P1} after {Epochs} epochs ({testY.Length} test digits)");
    return after;
}
