using System;
using System.Linq;
using StaticGrad;
using StaticGrad.Training;
using Xunit;
using static StaticGrad.Functional;

namespace StaticGrad.Tests.Models;

/// <summary>A ResNet's stem on rows 16 wide: the shape where BatchNorm's backward folds in the pool's and the convolution's weight gradient.</summary>
[Model(Loss = Loss.SoftmaxCrossEntropy)]
public partial class WideStemNet
{
    readonly Conv2d stem = new(1, 4, 3, padding: 1);
    readonly BatchNorm2d bn = new(4);
    readonly Linear head = new(4 * 8 * 8, 3);

    public Tensor Forward([Shape(1, 16, 16)] Tensor x) => head.Forward(MaxPool2d(Relu(bn.Forward(stem.Forward(x))), 2).Flatten());
}

/// <summary>
/// The stem's weight gradient folded into BatchNorm's backward (<c>BatchNormOp.FoldsWeightGradient</c>): in training
/// RunBackward computes the convolution's ∂W plane by plane inside BatchNorm's pass (on AVX-512 machines, where the
/// single-channel path runs, its output gradient is never stored), while the pass on to the model's input
/// (<c>Backward(outputGradients, inputGradients)</c>) writes that gradient and runs the convolution's own backward. Both
/// must give the same parameter gradients, and TrainStep, which replaces the gradients, the same again.
/// </summary>
public class StemFoldTests
{
    private const int Batch = 5;

    [Fact]
    public void TheFoldedBackward_GivesTheGradientsOfTheUnfoldedOne()
    {
        var random = new Random(31);
        float[] x = Enumerable.Range(0, Batch * WideStemNet.InputSize).Select(_ => (float)((random.NextDouble() * 2) - 1)).ToArray();
        int[] labels = { 0, 2, 1, 1, 0 };

        // Unfolded: the pass on to the input writes the stem's output gradient and runs the stem's backward.
        var unfolded = new WideStemNet(seed: 3, maxBatchSize: Batch);
        var outputs = new float[Batch * WideStemNet.OutputSize];
        unfolded.ForwardTraining(x, outputs);
        var outputGradients = new float[outputs.Length];
        float expectedLoss = unfolded.ComputeLoss(outputs, labels, outputGradients);
        unfolded.ZeroGradients();
        unfolded.Backward(outputGradients, new float[x.Length]);
        float[] expected = unfolded.Gradients.ToArray();

        // Folded: RunBackward after the same training forward pass, from zero, and TrainStep over stale gradients.
        var folded = new WideStemNet(seed: 3, maxBatchSize: Batch);
        folded.ForwardTraining(x, outputs);
        folded.ZeroGradients();
        folded.Backward(outputGradients);
        AssertSame(expected, folded.Gradients.ToArray(), "Backward");

        var stepped = new WideStemNet(seed: 3, maxBatchSize: Batch) { Optimizer = new Sgd(0.1) }; // the step moves the parameters; the gradients stay
        stepped.Gradients.Fill(1e6f);
        Assert.Equal(expectedLoss, stepped.TrainStep(x, labels));
        AssertSame(expected, stepped.Gradients.ToArray(), "TrainStep");

        int stem = WideStemNet.Description.Tensors.Single(t => t.Name == "stem.weight").Offset;
        Assert.Contains(expected.Skip(stem).Take(36), g => g != 0);
    }

    private static void AssertSame(float[] expected, float[] actual, string what)
    {
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-6f * Math.Max(1, Math.Abs(expected[i])), $"{what}: gradient {i} ({WideStemNet.Description.Tensors.Last(t => t.Offset <= i).Name}) is {actual[i]}, the unfolded pass gives {expected[i]}");
        }
    }
}
