using System;
using System.Linq;
using StaticGrad;
using StaticGrad.Tests.Numerics;
using StaticGrad.Training;
using Xunit;
using static StaticGrad.Functional;

namespace StaticGrad.Tests.Models;

/// <summary>
/// Every way a parameter's gradient can come about in a training step: written by its op (Conv2d on both of its paths,
/// Linear), added by an op that only adds (BatchNorm2d), added over two calls of one module, and never computed (a module
/// the forward pass does not call).
/// </summary>
[Model<double>(Loss = Loss.SoftmaxCrossEntropy)]
public partial class GradientSourcesModel
{
    readonly Conv2d conv = new(1, 2, 3, padding: 1);   // stride 1: the padded-plane kernels
    readonly Conv2d strided = new(2, 2, 3, stride: 2); // stride 2: im2row and products
    readonly BatchNorm2d bn = new(2);
    readonly Linear shared = new(8, 8);                // called twice
    readonly Linear unused = new(8, 8);                // never called
    readonly Linear head = new(8, 3);

    public Tensor Forward([Shape(1, 6, 6)] Tensor x)
    {
        var h = Relu(bn.Forward(strided.Forward(Relu(conv.Forward(x))))); // 2×2×2
        var f = shared.Forward(Tanh(shared.Forward(h.Flatten())));
        return head.Forward(f);
    }
}

/// <summary>
/// A <c>[Model]</c>'s TrainStep writes this batch's gradients instead of clearing Gradients and adding to them: the ops
/// that can write theirs do, the rest are cleared first. Whatever Gradients held before, the step must give the gradients
/// of Forward, ComputeLoss and Backward from zero, and the same step.
/// </summary>
public class GradientReplacementTests
{
    private const int Batch = 3;

    [Theory]
    [InlineData(0.0)]
    [InlineData(1e6)]
    [InlineData(-1e6)]
    public void TrainStep_GivesTheGradientsOfABackwardFromZero_WhateverGradientsHeld(double stale)
    {
        var random = new Random(21);
        double[] x = Reference.Randn(random, Batch * GradientSourcesModel.InputSize);
        int[] labels = { 2, 0, 1 };

        // The reference: training-mode forward, the loss's gradient and Backward, from cleared gradients.
        var reference = new GradientSourcesModel(seed: 5, maxBatchSize: Batch);
        reference.ZeroGradients();
        var outputs = new double[Batch * GradientSourcesModel.OutputSize];
        reference.ForwardTraining(x, outputs);
        var outputGradients = new double[outputs.Length];
        double expectedLoss = reference.ComputeLoss(outputs, labels, outputGradients);
        reference.Backward(outputGradients);
        double[] expected = reference.Gradients.ToArray();

        var model = new GradientSourcesModel(seed: 5, maxBatchSize: Batch) { Optimizer = new Sgd(0.1) };
        model.Gradients.Fill(stale);
        double loss = model.TrainStep(x, labels);

        Assert.Equal(expectedLoss, loss, 12);
        double[] actual = model.Gradients.ToArray();
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-12 * Math.Max(1, Math.Abs(expected[i])), $"gradient {i}: {actual[i]}, expected {expected[i]}");
        }

        // Every source is there: the unused module's gradients are zero, the others are not.
        Assert.All(Slice(model, "unused."), g => Assert.Equal(0.0, g));
        foreach (string module in new[] { "conv.", "strided.", "bn.", "shared.", "head." })
        {
            Assert.Contains(Slice(model, module), g => g != 0);
        }
    }

    [Fact]
    public void Backward_AfterTrainStep_StillAdds()
    {
        var random = new Random(22);
        double[] x = Reference.Randn(random, Batch * GradientSourcesModel.InputSize);
        var model = new GradientSourcesModel(seed: 6, maxBatchSize: Batch) { Optimizer = new Sgd(0.1) };
        model.TrainStep(x, new[] { 1, 1, 0 });
        double[] afterStep = model.Gradients.ToArray();

        var outputs = new double[Batch * GradientSourcesModel.OutputSize];
        model.Forward(x, outputs);
        double[] outputGradients = Reference.Randn(random, outputs.Length);
        model.Backward(outputGradients);
        double[] added = model.Gradients.ToArray();
        model.ZeroGradients();
        model.Backward(outputGradients);
        double[] alone = model.Gradients.ToArray();
        for (int i = 0; i < added.Length; i++)
        {
            Assert.Equal(afterStep[i] + alone[i], added[i], 12);
        }
    }

    private static double[] Slice(GradientSourcesModel model, string prefix)
    {
        double[] gradients = model.Gradients.ToArray();
        return GradientSourcesModel.Description.Tensors.Where(t => t.Name.StartsWith(prefix, StringComparison.Ordinal))
            .SelectMany(t => gradients.Skip(t.Offset).Take(t.Count)).ToArray();
    }
}
