// The smallest StaticGrad network: classify iris flowers from four measurements.
// Run: dotnet run --project samples/Iris
using System;
using System.Globalization;
using System.IO;
using System.Linq;
using StaticGrad;
using StaticGrad.Training;

// 150 rows: sepal length, sepal width, petal length, petal width (cm), then the class 0–2 (kept as bytes: labels come as they are stored).
string[][] rows = File.ReadAllLines(Path.Combine(AppContext.BaseDirectory, "iris.csv"))
    .Skip(1).Where(line => line.Length > 0).Select(line => line.Split(',')).ToArray();
float[] x = rows.SelectMany(r => r.Take(4).Select(v => float.Parse(v, CultureInfo.InvariantCulture))).ToArray();
byte[] y = rows.Select(r => byte.Parse(r[4], CultureInfo.InvariantCulture)).ToArray();

var batches = new MiniBatches<float, byte>(x, y, IrisNet.InputSize, batchSize: 30, seed: 1); // reshuffled every epoch
var net = new IrisNet(seed: 0, maxBatchSize: batches.BatchSize);
net.Optimizer = new Adam(learningRate: 0.05) { Schedule = new CosineAnnealing(totalSteps: 100 * batches.BatchesPerEpoch) };
for (int epoch = 1; epoch <= 100; epoch++)
{
    EpochResult result = net.TrainEpoch(batches); // forward, loss, backward, Adam on each batch: no allocation
    if (epoch % 25 == 0) Console.WriteLine($"epoch {epoch,3}: loss {result.MeanLoss:F4}, learning rate {result.LearningRate:F4}, accuracy on the 150 flowers {net.Accuracy(x, y):P1}");
}

Console.WriteLine($"a flower of 6.3, 3.3, 6.0, 2.5 cm is class {net.Predict(new IrisNet.InputVector([6.3f, 3.3f, 6.0f, 2.5f]))} (virginica is 2)");

/// <summary>4 measurements → 8 tanh units → 3 class scores, trained with softmax cross-entropy.</summary>
[Linear(4, 8), Tanh, Linear(8, 3), SoftmaxCrossEntropy]
public partial class IrisNet;
