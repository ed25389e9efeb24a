using System;
using System.IO;
using System.Linq;
using Xunit;

namespace StaticGrad.Tests.Models;

/// <summary>Bad input to a generated model throws before anything changes, naming the argument and the shape.</summary>
public sealed class ModelContractTests
{
    [Fact]
    public void Forward_RejectsPartialExamples_AndBatchesAboveTheMaximum()
    {
        var model = new TinyResNet(maxBatchSize: 4);
        var outputs = new float[4 * TinyResNet.OutputSize];
        var error = Assert.Throws<ArgumentException>(() => model.Forward(new float[TinyResNet.InputSize + 1], outputs));
        Assert.Equal("inputs", error.ParamName);
        Assert.Contains("1×8×8", error.Message, StringComparison.Ordinal);
        Assert.Contains("65", error.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => model.Forward(new float[5 * TinyResNet.InputSize], new float[5 * TinyResNet.OutputSize]));
        Assert.Equal("outputs", Assert.Throws<ArgumentException>(() => model.Forward(new float[2 * TinyResNet.InputSize], new float[5])).ParamName);
    }

    [Fact]
    public void TwoInputs_MustAgreeOnTheBatch()
    {
        var model = new TwoInputNet(maxBatchSize: 4);
        var error = Assert.Throws<ArgumentException>(() => model.Forward(new float[2 * TwoInputNet.XSize], new float[3 * TwoInputNet.YSize], new float[2 * TwoInputNet.OutputSize]));
        Assert.Equal("y", error.ParamName);
    }

    [Fact]
    public void TrainStep_WithALabelOutOfRange_ChangesNothing()
    {
        var model = new TinyResNet(seed: 1, maxBatchSize: 2);
        model.UseSgd(0.1);
        float[] before = model.Parameters.ToArray(), buffers = model.Buffers.ToArray();
        Assert.Throws<ArgumentOutOfRangeException>(() => model.TrainStep(new float[2 * TinyResNet.InputSize], new[] { 0, 3 }));
        Assert.Equal(before, model.Parameters.ToArray());
        Assert.Equal(buffers, model.Buffers.ToArray());
        Assert.All(model.NamedCounters(), c => Assert.Equal(0, c.Value.Value));
        Assert.Equal("labels", Assert.Throws<ArgumentException>(() => model.TrainStep(new float[2 * TinyResNet.InputSize], new[] { 0 })).ParamName);
        Assert.Throws<InvalidOperationException>(() => new TinyResNet().TrainStep(new float[TinyResNet.InputSize], new[] { 0 }));
    }

    [Fact]
    public void Backward_BeforeAnyForward_Throws() =>
        Assert.Throws<InvalidOperationException>(() => new TinyResNet().Backward(new float[TinyResNet.OutputSize]));

    [Fact]
    public void Safetensors_RoundTripsParametersAndState_AndRefusesAnotherModelsFile()
    {
        var trained = new TinyResNet(seed: 3, maxBatchSize: 2);
        trained.UseSgd(0.1);
        trained.TrainStep(Enumerable.Range(0, 2 * TinyResNet.InputSize).Select(i => (float)Math.Sin(i)).ToArray(), new[] { 1, 2 });
        using var stream = new MemoryStream();
        trained.SaveSafetensors(stream);

        var copy = new TinyResNet(seed: 9);
        stream.Position = 0;
        copy.LoadSafetensors(stream);
        Assert.Equal(trained.Parameters.ToArray(), copy.Parameters.ToArray());
        Assert.Equal(trained.Buffers.ToArray(), copy.Buffers.ToArray());
        Assert.All(copy.NamedCounters(), c => Assert.Equal(1, c.Value.Value));

        var other = new SkipMlp(seed: 4);
        float[] untouched = other.Parameters.ToArray();
        stream.Position = 0;
        Assert.Throws<InvalidDataException>(() => other.LoadSafetensors(stream));
        Assert.Equal(untouched, other.Parameters.ToArray());
    }
}
