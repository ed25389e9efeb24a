using System;
using System.Linq;
using Xunit;

namespace StaticGrad.Tests.Models;

/// <summary>
/// The same C# source runs two ways: eagerly (StaticGrad's Tensor and modules, simple loops) and as the generated code. The
/// generated model binds the modules to its own arrays, so both read the same weights, and they must agree.
/// </summary>
public sealed class ModelEagerTests
{
    private static float[] Random(int count, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => (float)((random.NextDouble() * 2) - 1)).ToArray();
    }

    [Fact]
    public void GeneratedForward_MatchesTheEagerForward_InEvaluationMode()
    {
        const int Batch = 5;
        var model = new TinyResNet(seed: 7, maxBatchSize: Batch);
        float[] x = Random(Batch * TinyResNet.InputSize, 1);
        var generated = new float[Batch * TinyResNet.OutputSize];
        model.Forward(x, generated);

        model.Eval();
        Tensor eager = model.Forward(Tensor.FromSpan(x, Batch, 1, 8, 8));
        ModelGoldenTests.AssertClose(eager.ToArray(), generated, 1e-5, "outputs");
    }

    [Fact]
    public void EveryOp_GeneratedMatchesEager_AfterTrainingMovedTheRunningStatistics()
    {
        const int Batch = 6;
        var model = new EveryOpNet(seed: 3, maxBatchSize: Batch);
        float[] x = Random(Batch * EveryOpNet.XSize, 2), side = Random(Batch * EveryOpNet.SideSize, 3), targets = Random(Batch * EveryOpNet.OutputSize, 4);
        model.UseSgd(0.05, momentum: 0.9);
        for (int step = 0; step < 3; step++)
        {
            Assert.True(float.IsFinite(model.TrainStep(x, side, targets)));
        }

        var generated = new float[Batch * EveryOpNet.OutputSize];
        model.Forward(x, side, generated);
        model.Eval();
        Tensor eager = model.Forward(Tensor.FromSpan(x, Batch, 2, 9, 9), Tensor.FromSpan(side, Batch, 6));
        Assert.Equal(new[] { 3 }, eager.Shape.ToArray());
        ModelGoldenTests.AssertClose(eager.ToArray(), generated, 1e-5, "outputs");
    }

    [Fact]
    public void TrainStep_InTrainingMode_MatchesTheEagerTrainingForward()
    {
        const int Batch = 8;
        var eagerModel = new TinyResNet(seed: 11, maxBatchSize: Batch);
        var generatedModel = new TinyResNet(seed: 11, maxBatchSize: Batch);
        float[] x = Random(Batch * TinyResNet.InputSize, 5);
        int[] labels = Enumerable.Range(0, Batch).Select(i => i % 3).ToArray();

        eagerModel.Train();
        float[] scores = eagerModel.Forward(Tensor.FromSpan(x, Batch, 1, 8, 8)).ToArray();
        double expected = 0;
        for (int b = 0; b < Batch; b++)
        {
            double max = scores.Skip(b * 3).Take(3).Max();
            double sum = scores.Skip(b * 3).Take(3).Sum(s => Math.Exp(s - max));
            expected += -(scores[(b * 3) + labels[b]] - max - Math.Log(sum));
        }

        generatedModel.UseSgd(0.1);
        float loss = generatedModel.TrainStep(x, labels);
        ModelGoldenTests.AssertRelative(expected / Batch, loss, 1e-5, "loss");

        // Both updated their running statistics from the same batch (momentum 0.1, unbiased variance), and counted it.
        ModelGoldenTests.AssertClose(eagerModel.Buffers.ToArray(), generatedModel.Buffers.ToArray(), 1e-6, "running statistics");
        Assert.All(generatedModel.NamedCounters(), pair => Assert.Equal(1, pair.Value.Value));
        Assert.All(eagerModel.NamedCounters(), pair => Assert.Equal(1, pair.Value.Value));
    }

    [Fact]
    public void TheModuleTree_NamesEveryTensorAsTheGeneratedDescriptionDoes()
    {
        var model = new TinyResNet();
        Assert.Equal(TinyResNet.Description.Tensors.Select(t => t.Name).OrderBy(n => n), model.NamedParameters().Select(p => p.Key).OrderBy(n => n));
        Assert.Equal(TinyResNet.State.Buffers.Select(t => t.Name).OrderBy(n => n), model.NamedBuffers().Select(p => p.Key).OrderBy(n => n));

        // Bound, not copied: a change through the module tree is a change of the generated model's parameters.
        model.NamedParameters().Single(p => p.Key == "head.bias").Value.Data[1] = 42f;
        int offset = TinyResNet.Description.Tensors.Single(t => t.Name == "head.bias").Offset;
        Assert.Equal(42f, model.Parameters[offset + 1]);
    }
}
