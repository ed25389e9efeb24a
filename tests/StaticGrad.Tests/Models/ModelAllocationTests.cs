using System;
using System.Linq;
using StaticGrad.Tests.Infrastructure;
using Xunit;

namespace StaticGrad.Tests.Models;

/// <summary>The generated members of a model allocate nothing once warm (the first calls may: JIT, the kernels' per-thread buffers).</summary>
public sealed class ModelAllocationTests
{
    [Fact]
    public void TrainStepForwardBackwardAndEvaluation_AllocateNothing()
    {
        const int Batch = 8;
        var random = new Random(1);
        float[] x = Enumerable.Range(0, Batch * TinyResNet.InputSize).Select(_ => (float)random.NextDouble()).ToArray();
        int[] labels = Enumerable.Range(0, Batch).Select(i => i % 3).ToArray();
        byte[] byteLabels = labels.Select(l => (byte)l).ToArray();
        var outputs = new float[Batch * TinyResNet.OutputSize];
        var predictions = new int[Batch];
        var model = new TinyResNet(seed: 2, maxBatchSize: Batch);
        model.UseAdam(1e-3);

        void All()
        {
            model.TrainStep(x, labels);
            model.TrainStep(x, byteLabels);
            model.Forward(x, outputs);
            model.Backward(outputs);
            model.EvaluateLoss(x, labels);
            model.Predict(x, predictions);
            model.Accuracy(x, byteLabels);
        }

        for (int warm = 0; warm < 3; warm++)
        {
            All();
        }

        Allocations.AssertSteadyStateAllocatesNothing(All, stepsPerWindow: 2);
    }

    [Fact]
    public void TwoInputs_AndEveryOp_TrainWithoutAllocating()
    {
        const int Batch = 4;
        var random = new Random(2);
        float[] R(int n) => Enumerable.Range(0, n).Select(_ => (float)random.NextDouble()).ToArray();
        float[] x = R(Batch * EveryOpNet.XSize), side = R(Batch * EveryOpNet.SideSize), targets = R(Batch * EveryOpNet.OutputSize);
        var model = new EveryOpNet(seed: 2, maxBatchSize: Batch);
        model.UseSgd(0.01, momentum: 0.9);
        for (int warm = 0; warm < 3; warm++)
        {
            model.TrainStep(x, side, targets);
        }

        Allocations.AssertSteadyStateAllocatesNothing(() =>
        {
            model.TrainStep(x, side, targets);
            model.EvaluateLoss(x, side, targets);
        }, stepsPerWindow: 2);
    }
}
