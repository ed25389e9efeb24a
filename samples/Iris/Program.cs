// The smallest StaticGrad network: classify iris flowers from four measurements.
// Run: dotnet run --project samples/Iris
using System;
using System.Globalization;
using System.IO;
using System.Linq;
using StaticGrad;

// 150 rows: sepal length, sepal width, petal length, petal width (cm), then the class 0–2.
string[][] rows = File.ReadAllLines(Path.Combine(AppContext.BaseDirectory, "iris.csv"))
    .Skip(1).Where(line => line.Length > 0).Select(line => line.Split(',')).ToArray();
float[] x = rows.SelectMany(r => r.Take(4).Select(v => float.Parse(v, CultureInfo.InvariantCulture))).ToArray();
int[] y = rows.Select(r => int.Parse(r[4], CultureInfo.InvariantCulture)).ToArray();

var net = new IrisNet(seed: 0, maxBatchSize: rows.Length);
net.UseAdam(learningRate: 0.05f);
for (int epoch = 1; epoch <= 200; epoch++)
{
    float loss = net.TrainStep(x, y);   // forward, loss, backward, Adam: no allocation
    if (epoch % 50 == 0)
    {
        Console.WriteLine($"epoch {epoch,3}: loss {loss:F4}, accuracy on the 150 training flowers {net.Accuracy(x, y):P1}");
    }
}

var flower = new IrisNet.InputVector([6.3f, 3.3f, 6.0f, 2.5f]);
Console.WriteLine($"a flower of 6.3, 3.3, 6.0, 2.5 cm is class {net.Predict(flower)} (virginica is 2)");

/// <summary>4 measurements → 8 tanh units → 3 class scores, trained with softmax cross-entropy.</summary>
[Linear(4, 8), Tanh, Linear(8, 3), SoftmaxCrossEntropy]
public partial class IrisNet;
