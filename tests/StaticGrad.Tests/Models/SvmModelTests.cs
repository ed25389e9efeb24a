using System;
using System.Linq;
using StaticGrad;
using StaticGrad.Kernels;
using Xunit;
using static StaticGrad.Functional;

namespace StaticGrad.Tests.Models;

/// <summary>A classifier trained with CS231n's multiclass SVM loss instead of softmax cross-entropy.</summary>
[Model(Loss = Loss.MulticlassSvm)]
public partial class SvmNet
{
    readonly Linear hidden = new(4, 8), scores = new(8, 3);

    public Tensor Forward([Shape(4)] Tensor x) => scores.Forward(Tanh(hidden.Forward(x)));
}

/// <summary>
/// <c>Loss.MulticlassSvm</c> on a <c>[Model]</c>: the kernel against PyTorch's <c>multi_margin_loss</c> (times the class
/// count) and against a plain reference, its gradient against central differences, and a model that trains with it.
/// </summary>
public sealed class SvmModelTests
{
    /// <summary>CS231n's loss written out, one row at a time: Σ_{j≠y} max(0, z_j − z_y + Δ), mean over rows.</summary>
    private static double Reference(double[] scores, int[] labels, int classes, double margin)
    {
        double total = 0;
        for (int r = 0; r < labels.Length; r++)
        {
            for (int j = 0; j < classes; j++)
            {
                if (j != labels[r])
                {
                    total += Math.Max(0, scores[(r * classes) + j] - scores[(r * classes) + labels[r]] + margin);
                }
            }
        }

        return total / labels.Length;
    }

    [Fact]
    public void TheKernel_MatchesPyTorchsMultiMarginLossTimesTheClasses_WithAMarginOfExactlyZero()
    {
        // torch 1.13: s = [[0.5,-1.25,2],[1,1,0],[-0.5,0.25,0.75],[3,-2,2.5]] (float64), y = [2,0,1,0];
        // l = 3 * F.multi_margin_loss(s, y, margin=1.0) → 0.8125000000000001, s.grad as below. Row 1's third class sits
        // exactly on the margin (0 − 1 + 1 = 0): no loss and no gradient there, in both.
        double[] scores = { 0.5, -1.25, 2.0, 1.0, 1.0, 0.0, -0.5, 0.25, 0.75, 3.0, -2.0, 2.5 };
        int[] labels = { 2, 0, 1, 0 };
        var gradient = new double[scores.Length];
        double loss = Losses.MulticlassSvm<double>(scores, labels, 4, 3, 1.0, gradient);
        Assert.Equal(0.8125000000000001, loss, 15);
        Assert.Equal(new[] { 0.0, 0.0, 0.0, -0.25, 0.25, 0.0, 0.25, -0.5, 0.25, -0.25, 0.0, 0.25 }, gradient);
        Assert.Equal(Reference(scores, labels, 3, 1.0), Losses.MulticlassSvm<double>(scores, labels, 4, 3, 1.0, default), 15);
    }

    [Fact]
    public void TheKernel_MatchesTheReferenceAndCentralDifferences_OnRandomScores()
    {
        var random = new Random(3);
        const int Rows = 9, Classes = 5;
        double[] scores = Enumerable.Range(0, Rows * Classes).Select(_ => (random.NextDouble() * 4) - 2).ToArray();
        int[] labels = Enumerable.Range(0, Rows).Select(_ => random.Next(Classes)).ToArray();
        var gradient = new double[scores.Length];
        double loss = Losses.MulticlassSvm<double>(scores, labels, Rows, Classes, 0.7, gradient);
        Assert.Equal(Reference(scores, labels, Classes, 0.7), loss, 12);
        Assert.Contains(gradient, g => g != 0);
        for (int i = 0; i < scores.Length; i++)
        {
            double original = scores[i];
            scores[i] = original + 1e-7;
            double plus = Reference(scores, labels, Classes, 0.7);
            scores[i] = original - 1e-7;
            double minus = Reference(scores, labels, Classes, 0.7);
            scores[i] = original;
            Assert.Equal((plus - minus) / 2e-7, gradient[i], 6);
        }

        var floats = scores.Select(v => (float)v).ToArray();
        Assert.Equal(loss, Losses.MulticlassSvm<float>(floats, labels, Rows, Classes, 0.7, new float[floats.Length]), 5);
        Assert.Equal("labels", Assert.Throws<ArgumentOutOfRangeException>(() => Losses.MulticlassSvm<double>(scores, new int[Rows].Select((_, r) => r == 4 ? Classes : 0).ToArray(), Rows, Classes, 1, default)).ParamName);
    }

    [Fact]
    public void AModel_TrainsWithIt_AndItsLossesAreTheKernelsOnItsOutputs()
    {
        // Three separable blobs in four dimensions.
        const int Count = 60;
        var random = new Random(11);
        int[] labels = Enumerable.Range(0, Count).Select(i => i % 3).ToArray();
        float[] x = new float[Count * 4];
        for (int i = 0; i < Count; i++)
        {
            for (int f = 0; f < 4; f++)
            {
                x[(i * 4) + f] = (f == labels[i] ? 2f : 0f) + (float)((random.NextDouble() - 0.5) * 0.8);
            }
        }

        var model = new SvmNet(seed: 2, maxBatchSize: Count);
        IClassifier<float> classifier = model;
        Assert.StartsWith("float graph: ", SvmNet.Architecture, StringComparison.Ordinal);
        Assert.EndsWith("; loss MulticlassSvm", SvmNet.Architecture, StringComparison.Ordinal);

        // The loss TrainStep returns is the kernel's on the outputs before the step (no BatchNorm or Dropout here).
        var outputs = new float[Count * 3];
        model.Forward(x, outputs);
        double expected = Reference(outputs.Select(v => (double)v).ToArray(), labels, 3, 1.0);
        Assert.Equal(expected, model.ComputeLoss(outputs, labels, default), 5);
        Assert.Equal(expected, model.EvaluateLoss(x, labels), 5);
        model.UseSgd(0.1, momentum: 0.9);
        Assert.Equal(expected, classifier.TrainStep(x, labels), 5);
        for (int step = 0; step < 150; step++)
        {
            model.TrainStep(x, labels);
        }

        Assert.True(model.EvaluateLoss(x, labels) < 0.05 * expected, $"loss {model.EvaluateLoss(x, labels)} after 150 steps, {expected} before");
        Assert.Equal(1.0, model.Accuracy(x, labels));
    }
}
