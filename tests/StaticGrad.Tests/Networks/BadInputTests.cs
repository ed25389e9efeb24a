using System;
using System.Linq;
using Xunit;

namespace StaticGrad.Tests.Networks;

/// <summary>
/// A generated network given bad input: empty batches and out-of-range labels are refused before anything changes;
/// NaN and infinity are not checked for (that would cost a pass over the data) and propagate as IEEE arithmetic says,
/// into the examples that carry them and into no other.
/// </summary>
public class BadInputTests
{
    [Fact]
    public void EmptyBatches_AreRefused_NamingTheArgument()
    {
        var net = new DigitNetFloat(seed: 1, maxBatchSize: 4);
        Assert.Equal("inputs", Assert.Throws<ArgumentException>(() => net.Forward(Array.Empty<float>(), Array.Empty<float>())).ParamName);
        Assert.Equal("inputs", Assert.Throws<ArgumentException>(() => net.TrainStep(Array.Empty<float>(), Array.Empty<int>())).ParamName);
        Assert.Equal("labels", Assert.Throws<ArgumentException>(() => net.Accuracy(Array.Empty<float>(), Array.Empty<int>())).ParamName);
        Assert.Equal("inputs", Assert.Throws<ArgumentException>(() => net.EvaluateLoss(Array.Empty<float>(), Array.Empty<int>())).ParamName);
        var ex = Assert.Throws<ArgumentException>(() => net.ComputeLoss(Array.Empty<float>(), Array.Empty<int>(), Array.Empty<float>()));
        Assert.Equal("labels", ex.ParamName);
        Assert.Contains("at least one label", ex.Message);
    }

    [Theory]
    [InlineData(10)]
    [InlineData(-1)]
    [InlineData(int.MaxValue)]
    public void TrainStep_LabelOutOfRange_ThrowsBeforeAnythingChanges(int badLabel)
    {
        var net = new DigitNetFloat(seed: 2, maxBatchSize: 4);
        net.UseAdam(0.01f);
        float[] inputs = Inputs(3, seed: 7);
        net.TrainStep(inputs, new[] { 1, 2, 3 }); // optimizer state, activations and gradients all non-trivial now

        float[] parameters = net.Parameters.ToArray();
        float[] gradients = net.Gradients.ToArray();
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => net.TrainStep(Inputs(3, seed: 8), new[] { 0, badLabel, 4 }));

        Assert.Equal("labels", ex.ParamName);
        Assert.Contains("labels[1] must be a class in [0, 10)", ex.Message);
        Assert.Equal(parameters, net.Parameters.ToArray());
        Assert.Equal(gradients, net.Gradients.ToArray());

        // The step after the refused one is the step that would have come anyway: Adam's moments and step count,
        // the parameters and the gradients are all as they were.
        var twin = new DigitNetFloat(seed: 2, maxBatchSize: 4);
        twin.UseAdam(0.01f);
        twin.TrainStep(inputs, new[] { 1, 2, 3 });
        twin.TrainStep(Inputs(3, seed: 9), new[] { 5, 6, 7 });
        net.TrainStep(Inputs(3, seed: 9), new[] { 5, 6, 7 });
        Assert.Equal(twin.Parameters.ToArray(), net.Parameters.ToArray());
    }

    [Fact]
    public void AccuracyAndEvaluateLoss_RefuseOutOfRangeLabels()
    {
        var net = new DigitNetFloat(seed: 3, maxBatchSize: 2);
        float[] inputs = Inputs(5, seed: 1);
        int[] labels = { 0, 1, 2, 3, 10 }; // the bad one is in the last of three batches
        Assert.Equal("labels", Assert.Throws<ArgumentOutOfRangeException>(() => net.Accuracy(inputs, labels)).ParamName);
        Assert.Equal("labels", Assert.Throws<ArgumentOutOfRangeException>(() => net.EvaluateLoss(inputs, labels)).ParamName);
    }

    [Fact]
    public void Forward_NaNInOneExample_PoisonsOnlyThatExample()
    {
        var net = new DigitNetFloat(seed: 4, maxBatchSize: 4);
        float[] inputs = Inputs(3, seed: 2);
        float[] clean = new float[3 * 10];
        net.Forward(inputs, clean);

        float[] poisoned = (float[])inputs.Clone();
        poisoned[64 + 17] = float.NaN; // example 1
        float[] outputs = new float[3 * 10];
        net.Forward(poisoned, outputs);

        Assert.All(outputs.Skip(10).Take(10), v => Assert.True(float.IsNaN(v)));
        Assert.Equal(clean.Take(10), outputs.Take(10));
        Assert.Equal(clean.Skip(20), outputs.Skip(20));

        // Predict's arg-max of an all-NaN row is class 0 (no comparison with NaN is true); it does not throw.
        Assert.Equal(0, net.Predict(poisoned.AsSpan(64, 64)));

        float[] again = new float[3 * 10];
        net.Forward(inputs, again);
        Assert.Equal(clean, again); // nothing lingers
    }

    [Fact]
    public void TrainStep_InfinityInTheInput_ReturnsANonFiniteLoss_WithoutThrowing()
    {
        var net = new DigitNetFloat(seed: 5, maxBatchSize: 4);
        net.UseSgd(0.1);
        float[] inputs = Inputs(2, seed: 3);
        inputs[5] = float.PositiveInfinity;

        float loss = net.TrainStep(inputs, new[] { 3, 4 });

        // The loss says so: check it (float.IsFinite) when data may hold such values. The step has already been
        // taken, as in PyTorch, so the parameters it touched are no longer finite either.
        Assert.False(float.IsFinite(loss));
        Assert.Contains(net.Parameters.ToArray(), v => !float.IsFinite(v));
    }

    private static float[] Inputs(int examples, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, examples * 64).Select(_ => (float)random.NextDouble()).ToArray();
    }
}
