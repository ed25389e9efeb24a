using System;
using System.Collections.Generic;
using System.Linq;
using Xunit;
using static StaticGrad.Functional;

namespace StaticGrad.Tests.Eager;

/// <summary>
/// <see cref="Module"/>: PyTorch's dotted names and order for a module tree whose <c>Visit</c> is written by hand as the generator
/// will write it, Train/Eval recursion, seeding, and <see cref="Parameter.Bind"/> sharing storage.
/// </summary>
public class EagerModuleTests
{
    /// <summary>The README's ResidualBlock with the Visit the generator writes (fields in declaration order).</summary>
    private sealed class Block : Module
    {
        public readonly Conv2d conv1, conv2;
        public readonly BatchNorm2d bn1, bn2;

        public Block(int channels)
        {
            conv1 = new Conv2d(channels, channels, 3, padding: 1, bias: false);
            bn1 = new BatchNorm2d(channels);
            conv2 = new Conv2d(channels, channels, 3, padding: 1, bias: false);
            bn2 = new BatchNorm2d(channels);
        }

        public Tensor Forward(Tensor x)
        {
            var h = Relu(bn1.Forward(conv1.Forward(x)));
            h = bn2.Forward(conv2.Forward(h));
            return Relu(x + h);
        }

        protected override void Visit(ModuleVisitor visitor)
        {
            visitor.Module("conv1", conv1);
            visitor.Module("conv2", conv2);
            visitor.Module("bn1", bn1);
            visitor.Module("bn2", bn2);
        }
    }

    private sealed class Net : Module
    {
        public readonly Conv2d stem = new(1, 4, 3, padding: 1);
        public readonly BatchNorm2d bn = new(4);
        public readonly Block[] blocks = { new(4), new(4) };
        public readonly Dropout dropout = new(0.5);
        public readonly Linear head = new(4 * 7 * 7, 10);

        public Tensor Forward(Tensor x)
        {
            var h = MaxPool2d(Relu(bn.Forward(stem.Forward(x))), 2);
            h = MaxPool2d(blocks[1].Forward(blocks[0].Forward(h)), 2);
            return head.Forward(dropout.Forward(h.Flatten()));
        }

        protected override void Visit(ModuleVisitor visitor)
        {
            visitor.Module("stem", stem);
            visitor.Module("bn", bn);
            visitor.Module("blocks.0", blocks[0]);
            visitor.Module("blocks.1", blocks[1]);
            visitor.Module("dropout", dropout);
            visitor.Module("head", head);
        }
    }

    /// <summary>A module with a parameter of its own listed after a child: PyTorch lists a module's own parameters first.</summary>
    private sealed class Scaled : Module
    {
        public readonly Linear inner = new(2, 2);
        public readonly Parameter scale = new(2);

        protected override void Visit(ModuleVisitor visitor)
        {
            visitor.Module("inner", inner);
            visitor.Parameter("scale", scale);
        }
    }

    private static string[] Names<T>(IReadOnlyList<KeyValuePair<string, T>> named) => named.Select(p => p.Key).ToArray();

    [Fact]
    public void NamedParameters_PyTorchNamesAndOrder()
    {
        var net = new Net();
        string[] block(string p) => new[] { $"{p}.conv1.weight", $"{p}.conv2.weight", $"{p}.bn1.weight", $"{p}.bn1.bias", $"{p}.bn2.weight", $"{p}.bn2.bias" };
        string[] expected = new[] { "stem.weight", "stem.bias", "bn.weight", "bn.bias" }
            .Concat(block("blocks.0")).Concat(block("blocks.1"))
            .Concat(new[] { "head.weight", "head.bias" }).ToArray();
        Assert.Equal(expected, Names(net.NamedParameters()));
        Assert.Same(net.blocks[1].bn2.Bias, net.NamedParameters().Single(p => p.Key == "blocks.1.bn2.bias").Value);
        Assert.Same(net.head.Weight, net.NamedParameters()[^2].Value);
    }

    [Fact]
    public void NamedBuffersAndCounters_PyTorchNames()
    {
        var net = new Net();
        Assert.Equal(
            new[]
            {
                "bn.running_mean", "bn.running_var",
                "blocks.0.bn1.running_mean", "blocks.0.bn1.running_var", "blocks.0.bn2.running_mean", "blocks.0.bn2.running_var",
                "blocks.1.bn1.running_mean", "blocks.1.bn1.running_var", "blocks.1.bn2.running_mean", "blocks.1.bn2.running_var",
            },
            Names(net.NamedBuffers()));
        Assert.Equal(
            new[] { "bn.num_batches_tracked", "blocks.0.bn1.num_batches_tracked", "blocks.0.bn2.num_batches_tracked", "blocks.1.bn1.num_batches_tracked", "blocks.1.bn2.num_batches_tracked" },
            Names(net.NamedCounters()));
    }

    [Fact]
    public void NamedParameters_OwnParametersFirst_SharedModulesOnce()
    {
        Assert.Equal(new[] { "scale", "inner.weight", "inner.bias" }, Names(new Scaled().NamedParameters()));

        var shared = new Linear(2, 2);
        var twice = new Pair(shared, shared);
        Assert.Equal(new[] { "a.weight", "a.bias" }, Names(twice.NamedParameters()));
    }

    private sealed class Pair : Module
    {
        private readonly Module a, b;

        public Pair(Module a, Module b) => (this.a, this.b) = (a, b);

        protected override void Visit(ModuleVisitor visitor)
        {
            visitor.Module("a", a);
            visitor.Module("b", b);
        }
    }

    [Fact]
    public void TrainAndEval_Recurse()
    {
        var net = new Net();
        Assert.True(net.Training);
        Assert.True(net.blocks[1].bn2.Training);
        net.Eval();
        Assert.False(net.Training);
        Assert.False(net.blocks[0].bn1.Training);
        Assert.False(net.blocks[1].conv2.Training);
        Assert.False(net.dropout.Training);
        net.blocks[0].Train();
        Assert.True(net.blocks[0].bn1.Training);
        Assert.False(net.blocks[1].bn1.Training);
        net.Train(true);
        Assert.True(net.blocks[1].bn1.Training);
        Assert.True(net.head.Training);
    }

    [Fact]
    public void Net_ForwardsABatch_AndUpdatesEveryBatchNorm()
    {
        Module.ManualSeed(1);
        var net = new Net();
        var x = new Tensor(3, 1, 28, 28);
        var random = new Random(5);
        Span<float> values = x.AsSpan();
        for (int i = 0; i < values.Length; i++) values[i] = (float)random.NextDouble();

        Tensor y = net.Forward(x);
        Assert.Equal(3, y.Batch);
        Assert.Equal(new[] { 10 }, y.Shape.ToArray());
        Assert.All(y.ToArray(), v => Assert.True(float.IsFinite(v)));
        Assert.All(net.NamedCounters(), c => Assert.Equal(1, c.Value.Value));

        // Evaluation is deterministic and leaves the statistics alone.
        net.Eval();
        float[] first = net.Forward(x).ToArray();
        Assert.Equal(first, net.Forward(x).ToArray());
        Assert.All(net.NamedCounters(), c => Assert.Equal(1, c.Value.Value));
    }

    [Fact]
    public void ManualSeed_SameSeedSameParameters()
    {
        Module.ManualSeed(42);
        float[] a = new Net().NamedParameters().SelectMany(p => p.Value.Data.ToArray()).ToArray();
        Module.ManualSeed(42);
        float[] b = new Net().NamedParameters().SelectMany(p => p.Value.Data.ToArray()).ToArray();
        Module.ManualSeed(43);
        float[] c = new Net().NamedParameters().SelectMany(p => p.Value.Data.ToArray()).ToArray();
        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
    }

    [Fact]
    public void Bind_SharesStorage_WithoutCopying()
    {
        var linear = new Linear(2, 2);
        var parameters = linear.NamedParameters();
        int total = parameters.Sum(p => p.Value.Count);
        Assert.Equal(6, total);

        float[] flat = new float[1 + total];
        int offset = 1;
        foreach (var (_, p) in parameters)
        {
            p.Data.CopyTo(flat.AsSpan(offset)); // a generated model copies first, then binds
            p.Bind(flat, offset);
            offset += p.Count;
        }

        // The flat array is the storage: writing it changes the layer, and the layer's writes land in it.
        flat[1 + 0] = 1; flat[1 + 1] = 0; flat[1 + 2] = 0; flat[1 + 3] = 1; flat[1 + 4] = 10; flat[1 + 5] = 20;
        Assert.Equal(new float[] { 1, 0, 0, 1 }, linear.Weight.Data.ToArray());
        Assert.Equal(new float[] { 13, 24 }, linear.Forward(Tensor.FromSpan(new float[] { 3, 4 }, 1, 2)).ToArray());
        linear.Bias!.Data[1] = -5;
        Assert.Equal(-5f, flat[6]);

        // Bind does not copy: the parameter now shows whatever the new slice holds.
        var p2 = new Parameter(2, 2);
        p2.Data.Fill(9f);
        p2.Bind(new float[] { 1, 2, 3, 4, 5 }, 1);
        Assert.Equal(new float[] { 2, 3, 4, 5 }, p2.Data.ToArray());
        Assert.Throws<ArgumentOutOfRangeException>(() => p2.Bind(new float[4], 1));

        var counter = new Counter { Value = 3 };
        long[] counters = new long[2];
        counter.Bind(counters, 1);
        counter.Value++;
        Assert.Equal(1, counters[1]);
        Assert.Throws<ArgumentOutOfRangeException>(() => counter.Bind(counters, 2));
    }

    [Fact]
    public void BatchNorm_RunningStatsAndCounter_FollowBoundStorage()
    {
        var bn = new BatchNorm1d(1);
        float[] buffers = { 0f, 1f };
        long[] counts = new long[1];
        bn.RunningMean.Bind(buffers, 0);
        bn.RunningVar.Bind(buffers, 1);
        bn.NumBatchesTracked.Bind(counts, 0);
        bn.Forward(Tensor.FromSpan(new float[] { 1, 3 }, 2, 1));
        Assert.Equal(0.2f, buffers[0], 6);
        Assert.Equal(1.1f, buffers[1], 6);
        Assert.Equal(1, counts[0]);
    }
}
