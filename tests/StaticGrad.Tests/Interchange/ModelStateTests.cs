using System;
using System.Buffers.Binary;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.Json;
using StaticGrad.Interchange;
using StaticGrad.Training;
using Xunit;
using static StaticGrad.Tests.Interchange.SafetensorsFile;

namespace StaticGrad.Tests.Interchange;

/// <summary>
/// Layout-only network descriptions (named tensors, no layers) and non-trainable state (float buffers, I64 counters)
/// saved and loaded beside the parameters as PyTorch's <c>state_dict()</c> holds them.
/// </summary>
public sealed class ModelStateTests
{
    private const string Architecture = "graph: Conv2d(1, 2, 3) -> BatchNorm2d(2)";

    // nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2)): the model of Golden/make_state_golden.py.
    private static NetworkDescription BnParameters() => new(Architecture, 24, new[]
    {
        new ParameterSpec("0.weight", 0, IsWeight: true, new[] { 2, 1, 3, 3 }),
        new ParameterSpec("0.bias", 18, IsWeight: false, new[] { 2 }),
        new ParameterSpec("1.weight", 20, IsWeight: false, new[] { 2 }),
        new ParameterSpec("1.bias", 22, IsWeight: false, new[] { 2 }),
    });

    private static StateDescription BnState() => new(4, new[]
    {
        new BufferSpec("1.running_mean", 0, new[] { 2 }),
        new BufferSpec("1.running_var", 2, new[] { 2 }),
    }, new[] { new CounterSpec("1.num_batches_tracked", 0) });

    private static float[] Ramp(int count, float start) => Enumerable.Range(0, count).Select(i => start + (0.25f * i)).ToArray();

    [Fact]
    public void LayoutOnlyDescription_HasTheTensors_AndNoLayers()
    {
        NetworkDescription network = BnParameters();

        Assert.Equal(24, network.ParameterCount);
        Assert.Empty(network.Layers);
        Assert.Equal(new[] { "0.weight", "0.bias", "1.weight", "1.bias" }, network.Tensors.Select(t => t.Name));
        Assert.Equal(new[] { 0, 18, 20, 22 }, network.Tensors.Select(t => t.Offset));
        Assert.Equal(new[] { 18, 2, 2, 2 }, network.Tensors.Select(t => t.Count));
        Assert.Equal(new[] { true, false, false, false }, network.Tensors.Select(t => t.IsWeight));
        Assert.Equal("[2, 1, 3, 3]", network.Tensors[0].ShapeText);
        Assert.Contains("has no layer list", Assert.Throws<InvalidOperationException>(() => network.InputSize).Message);
        Assert.Contains("has no layer list", Assert.Throws<InvalidOperationException>(() => network.OutputSize).Message);
    }

    [Fact]
    public void LayoutOnlyDescription_KeepsItsOwnCopyOfTheShapes()
    {
        int[] shape = { 2, 3 };
        var network = new NetworkDescription("a", 6, new[] { new ParameterSpec("w", 0, true, shape) });
        shape[0] = 5;

        Assert.Equal("[2, 3]", network.Tensors[0].ShapeText);
    }

    [Fact]
    public void LayoutOnlyDescription_ScalarsAndNoTensors_AreFine()
    {
        var scalar = new NetworkDescription("scalar", 1, new[] { new ParameterSpec("temperature", 0, false, Array.Empty<int>()) });
        Assert.Equal("[]", scalar.Tensors[0].ShapeText);
        Assert.Equal(1, scalar.Tensors[0].Count);

        Assert.Empty(new NetworkDescription("nothing", 0, Array.Empty<ParameterSpec>()).Tensors);
    }

    public static TheoryData<string, ParameterSpec[], int, string> BadLayouts => new()
    {
        { "gap", new[] { new ParameterSpec("a", 0, true, new[] { 2, 2 }), new ParameterSpec("b", 5, false, new[] { 2 }) }, 7, "The parameter 'b' starts at 5, but the previous parameter ends at 4: the layout must be contiguous, in list order." },
        { "overlap", new[] { new ParameterSpec("a", 0, true, new[] { 2, 2 }), new ParameterSpec("b", 3, false, new[] { 2 }) }, 5, "The parameter 'b' starts at 3, but the previous parameter ends at 4" },
        { "out of order", new[] { new ParameterSpec("b", 4, false, new[] { 2 }), new ParameterSpec("a", 0, true, new[] { 2, 2 }) }, 6, "The parameter 'b' starts at 4, but the first must start at 0" },
        { "not starting at 0", new[] { new ParameterSpec("a", 1, true, new[] { 2 }) }, 3, "The parameter 'a' starts at 1, but the first must start at 0" },
        { "short of the count", new[] { new ParameterSpec("a", 0, true, new[] { 2, 2 }) }, 5, "The tensors take 4 elements, but the network declares 5." },
        { "past the count", new[] { new ParameterSpec("a", 0, true, new[] { 2, 2 }) }, 3, "The tensors take 4 elements, but the network declares 3." },
        { "duplicate name", new[] { new ParameterSpec("a", 0, true, new[] { 2 }), new ParameterSpec("a", 2, false, new[] { 2 }) }, 4, "The name 'a' appears twice." },
        { "no name", new[] { new ParameterSpec("", 0, true, new[] { 2 }) }, 2, "The parameter at position 0 has no name." },
        { "metadata name", new[] { new ParameterSpec("__metadata__", 0, true, new[] { 2 }) }, 2, "cannot be called '__metadata__'" },
        { "no shape", new[] { new ParameterSpec("a", 0, true, null!) }, 2, "The parameter 'a' has no shape" },
        { "negative dimension", new[] { new ParameterSpec("a", 0, true, new[] { 2, -1 }) }, 2, "The parameter 'a' has a negative dimension in its shape [2, -1]." },
        { "too large", new[] { new ParameterSpec("a", 0, true, new[] { 65536, 65536 }) }, 0, "The parameter 'a' ends past element 2147483647" },
    };

    [Theory]
    [MemberData(nameof(BadLayouts))]
    public void LayoutConstructor_RejectsBadLayouts(string why, ParameterSpec[] tensors, int count, string message)
    {
        var error = Assert.Throws<ArgumentException>(() => new NetworkDescription("bad", count, tensors));
        Assert.True(error.Message.Contains(message, StringComparison.Ordinal), $"{why}: {error.Message}");
    }

    [Fact]
    public void StateConstructor_RejectsBadLayouts()
    {
        BufferSpec[] none = Array.Empty<BufferSpec>();
        CounterSpec[] noCounters = Array.Empty<CounterSpec>();
        Assert.Contains("The buffer 'v' starts at 3, but the previous buffer ends at 2", Assert.Throws<ArgumentException>(() => new StateDescription(5, new[] { new BufferSpec("m", 0, new[] { 2 }), new BufferSpec("v", 3, new[] { 2 }) }, noCounters)).Message);
        Assert.Contains("The buffer 'v' starts at 1, but the previous buffer ends at 2", Assert.Throws<ArgumentException>(() => new StateDescription(3, new[] { new BufferSpec("m", 0, new[] { 2 }), new BufferSpec("v", 1, new[] { 2 }) }, noCounters)).Message);
        Assert.Contains("The buffers take 4 elements, but the state declares 5.", Assert.Throws<ArgumentException>(() => new StateDescription(5, new[] { new BufferSpec("m", 0, new[] { 2 }), new BufferSpec("v", 2, new[] { 2 }) }, noCounters)).Message);
        Assert.Contains("The counter 'n' has index 1, but the first must have index 0", Assert.Throws<ArgumentException>(() => new StateDescription(0, none, new[] { new CounterSpec("n", 1) })).Message);
        Assert.Contains("The counter 'k' has index 0, but the previous counter has index 0", Assert.Throws<ArgumentException>(() => new StateDescription(0, none, new[] { new CounterSpec("n", 0), new CounterSpec("k", 0) })).Message);
        Assert.Contains("The name 'm' appears twice.", Assert.Throws<ArgumentException>(() => new StateDescription(2, new[] { new BufferSpec("m", 0, new[] { 2 }) }, new[] { new CounterSpec("m", 0) })).Message);

        StateDescription state = BnState();
        Assert.Equal(4, state.BufferCount);
        Assert.Equal(1, state.CounterCount);
        Assert.Equal(new[] { "1.running_mean", "1.running_var" }, state.Buffers.Select(b => b.Name));
        Assert.All(state.Buffers, b => Assert.False(b.IsWeight));
        Assert.Equal(new CounterSpec("1.num_batches_tracked", 0), Assert.Single(state.Counters));
        Assert.Equal(0, StateDescription.Empty.BufferCount + StateDescription.Empty.CounterCount);
    }

    [Fact]
    public void OnnxExport_OfALayoutOnlyDescription_IsNotSupportedYet()
    {
        var error = Assert.Throws<NotSupportedException>(() => OnnxExport.Save(new MemoryStream(), BnParameters(), new float[24]));
        Assert.StartsWith("ONNX export of graph models is not available yet", error.Message);
    }

    [Fact]
    public void RoundTrip_Float_WithBuffersAndCounters_AsAStateDict()
    {
        NetworkDescription network = BnParameters();
        StateDescription state = BnState();
        float[] parameters = Ramp(24, -3);
        float[] buffers = { 0.125f, -0.5f, 1.75f, 0.875f };
        long[] counters = { 1L << 40 | 7 };
        var stream = new MemoryStream();
        Safetensors.Save(stream, network, state, parameters, buffers, counters);
        byte[] file = stream.ToArray();

        // The header: parameters and buffers F32, the counter I64 of shape [] (8 bytes, aligned to 8 in the data).
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(file);
        Assert.Equal(0UL, headerLength % 8);
        using (var header = JsonDocument.Parse(Encoding.UTF8.GetString(file, 8, (int)headerLength).TrimEnd(' ')))
        {
            JsonElement counter = header.RootElement.GetProperty("1.num_batches_tracked");
            Assert.Equal("I64", counter.GetProperty("dtype").GetString());
            Assert.Equal(0, counter.GetProperty("shape").GetArrayLength());
            long begin = counter.GetProperty("data_offsets")[0].GetInt64(), end = counter.GetProperty("data_offsets")[1].GetInt64();
            Assert.Equal(8, end - begin);
            Assert.Equal(0, begin % 8);
            Assert.Equal(counters[0], BinaryPrimitives.ReadInt64LittleEndian(file.AsSpan(8 + (int)headerLength + (int)begin)));
            Assert.Equal("F32", header.RootElement.GetProperty("1.running_var").GetProperty("dtype").GetString());
            Assert.Equal("[2]", header.RootElement.GetProperty("1.running_var").GetProperty("shape").GetRawText());
            Assert.Equal("[2,1,3,3]", header.RootElement.GetProperty("0.weight").GetProperty("shape").GetRawText());
            Assert.Equal(8, header.RootElement.EnumerateObject().Count()); // __metadata__ and seven tensors
        }

        float[] loadedParameters = new float[24], loadedBuffers = new float[4];
        long[] loadedCounters = new long[1];
        Safetensors.Load(new MemoryStream(file), network, state, loadedParameters, loadedBuffers, loadedCounters);
        Assert.Equal(parameters, loadedParameters);
        Assert.Equal(buffers, loadedBuffers);
        Assert.Equal(counters, loadedCounters);
    }

    [Fact]
    public void RoundTrip_Double_ThroughAPath_AndIntoFloatWithConversion()
    {
        string path = Path.Combine(Path.GetTempPath(), "staticgrad-state-" + Guid.NewGuid().ToString("N")[..8] + ".safetensors");
        try
        {
            double[] parameters = Ramp(24, 2).Select(v => v + 1e-12).ToArray();
            double[] buffers = { 0.1, 0.2, 0.3, 0.4 };
            Safetensors.Save(path, BnParameters(), BnState(), parameters, buffers, new long[] { 3 });

            double[] p = new double[24], b = new double[4];
            long[] c = new long[1];
            Safetensors.Load(path, BnParameters(), BnState(), p, b, c);
            Assert.Equal(parameters, p);
            Assert.Equal(buffers, b);
            Assert.Equal(3, c[0]);

            float[] pf = new float[24], bf = new float[4];
            var error = Assert.Throws<InvalidDataException>(() => Safetensors.Load(path, BnParameters(), BnState(), pf, bf, c));
            Assert.Contains("is F64, but this network", error.Message);
            Safetensors.Load(path, BnParameters(), BnState(), pf, bf, c, allowConversion: true);
            Assert.Equal(parameters.Select(v => (float)v), pf);
            Assert.Equal(buffers.Select(v => (float)v), bf);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Golden_BatchNormStateDict_WrittenByPyTorch_LoadsTheRightValues()
    {
        using var json = JsonDocument.Parse(File.ReadAllText(SafetensorsTests.GoldenPath("bn-state.json")));
        float[] Values(string key) => json.RootElement.GetProperty(key).EnumerateArray().Select(v => (float)v.GetDouble()).ToArray();

        float[] parameters = new float[24], buffers = new float[4];
        long[] counters = new long[1];
        Safetensors.Load(SafetensorsTests.GoldenPath("bn-state.safetensors"), BnParameters(), BnState(), parameters, buffers, counters);

        Assert.Equal(Values("parameters"), parameters);
        Assert.Equal(Values("buffers"), buffers);
        Assert.Equal(1, counters[0]);
        Assert.Equal(json.RootElement.GetProperty("counters")[0].GetInt64(), counters[0]);

        // Non-trivial running statistics: not BatchNorm's initial 0 (mean) and 1 (variance).
        Assert.All(buffers, v => Assert.True(v != 0 && v != 1));
    }

    // A file with the BN model's tensors, built by hand; each case replaces or drops some.
    private static byte[] StateFile(params (string Name, string DType, string Shape, byte[] Data)[] tensors)
    {
        var header = new StringBuilder("{\"__metadata__\":{\"format\":\"pt\"}");
        long at = 0;
        foreach (var t in tensors)
        {
            header.Append($",\"{t.Name}\":{{\"dtype\":\"{t.DType}\",\"shape\":{t.Shape},\"data_offsets\":[{at},{at + t.Data.Length}]}}");
            at += t.Data.Length;
        }

        return Build(header.Append('}').ToString(), Concat(tensors.Select(t => t.Data).ToArray()));
    }

    private static byte[] I64(long value)
    {
        byte[] bytes = new byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(bytes, value);
        return bytes;
    }

    private static readonly (string, string, string, byte[]) Weight0 = ("0.weight", "F32", "[2,1,3,3]", F32(Ramp(18, 1)));
    private static readonly (string, string, string, byte[]) Bias0 = ("0.bias", "F32", "[2]", F32(1, 2));
    private static readonly (string, string, string, byte[]) Weight1 = ("1.weight", "F32", "[2]", F32(3, 4));
    private static readonly (string, string, string, byte[]) Bias1 = ("1.bias", "F32", "[2]", F32(5, 6));
    private static readonly (string, string, string, byte[]) Mean = ("1.running_mean", "F32", "[2]", F32(0.5f, 0.25f));
    private static readonly (string, string, string, byte[]) Var = ("1.running_var", "F32", "[2]", F32(1.5f, 1.25f));
    private static readonly (string, string, string, byte[]) Tracked = ("1.num_batches_tracked", "I64", "[]", I64(9));

    public static TheoryData<string, byte[], bool, string> BadStateFiles => new()
    {
        { "missing buffer", StateFile(Weight0, Bias0, Weight1, Bias1, Mean, Tracked), false, $"the stream has no tensor '1.running_var' (F32 [2]), which this network ({Architecture}) needs; it has 0.bias, 0.weight, 1.bias, 1.num_batches_tracked, 1.running_mean, 1.weight." },
        { "missing counter", StateFile(Weight0, Bias0, Weight1, Bias1, Mean, Var), false, $"the stream has no tensor '1.num_batches_tracked' (I64 []), which this network ({Architecture}) needs;" },
        { "counter stored as F32", StateFile(Weight0, Bias0, Weight1, Bias1, Mean, Var, ("1.num_batches_tracked", "F32", "[]", F32(9))), false, $"the stream: tensor '1.num_batches_tracked' is F32, but this network ({Architecture}) keeps it as a counter, I64 of shape [] (PyTorch's int64 num_batches_tracked); counters are read only from I64 tensors." },
        { "counter stored as F64, even with conversion", StateFile(Weight0, Bias0, Weight1, Bias1, Mean, Var, ("1.num_batches_tracked", "F64", "[]", F64(9))), true, "tensor '1.num_batches_tracked' is F64, but this network" },
        { "counter of shape [1]", StateFile(Weight0, Bias0, Weight1, Bias1, Mean, Var, ("1.num_batches_tracked", "I64", "[1]", I64(9))), false, $"the stream: tensor '1.num_batches_tracked' has shape [1], but this network ({Architecture}) needs []." },
        { "buffer of the wrong shape", StateFile(Weight0, Bias0, Weight1, Bias1, Mean, ("1.running_var", "F32", "[1,2]", F32(1.5f, 1.25f)), Tracked), false, $"the stream: tensor '1.running_var' has shape [1, 2], but this network ({Architecture}) needs [2]." },
        { "buffer as F64 without opt-in", StateFile(Weight0, Bias0, Weight1, Bias1, ("1.running_mean", "F64", "[2]", F64(0.5, 0.25)), Var, Tracked), false, $"the stream: tensor '1.running_mean' is F64, but this network ({Architecture}) holds F32 buffers. Pass allowConversion: true to convert F64 to F32." },
        { "buffer as I64", StateFile(Weight0, Bias0, Weight1, Bias1, ("1.running_mean", "I64", "[2]", Concat(I64(0), I64(1))), Var, Tracked), true, "tensor '1.running_mean' is I64, but this network" },
        { "parameter of the wrong shape", StateFile(("0.weight", "F32", "[2,9]", F32(Ramp(18, 1))), Bias0, Weight1, Bias1, Mean, Var, Tracked), false, "tensor '0.weight' has shape [2, 9], but this network" },
        { "extra tensor", StateFile(Weight0, Bias0, Weight1, Bias1, Mean, Var, Tracked, ("2.running_mean", "F32", "[2]", F32(7, 8))), false, $"the stream has a tensor '2.running_mean' (F32 [2]) that this network ({Architecture}) does not have; its tensors are 0.bias, 0.weight, 1.bias, 1.num_batches_tracked, 1.running_mean, 1.running_var, 1.weight." },
        { "malformed after the good tensors", Build("{\"0.weight\":", Array.Empty<byte>()), false, "the stream has a malformed JSON header:" },
    };

    [Theory]
    [MemberData(nameof(BadStateFiles))]
    public void BadStateFile_ThrowsNamingTheTensor_AndChangesNothing(string why, byte[] file, bool allowConversion, string message)
    {
        float[] parameters = Ramp(24, -1), buffers = { 9, 8, 7, 6 };
        long[] counters = { 42 };
        float[] parametersBefore = parameters.ToArray(), buffersBefore = buffers.ToArray();

        var error = Assert.Throws<InvalidDataException>(() => Safetensors.Load(new MemoryStream(file), BnParameters(), BnState(), parameters, buffers, counters, allowConversion));

        Assert.True(error.Message.Contains(message, StringComparison.Ordinal), $"{why}: expected the message to contain{Environment.NewLine}{message}{Environment.NewLine}but it was{Environment.NewLine}{error.Message}");
        Assert.Equal(parametersBefore, parameters);
        Assert.Equal(buffersBefore, buffers);
        Assert.Equal(42, counters[0]);
    }

    [Fact]
    public void GoodHandWrittenStateFile_LoadsInAnyOrder()
    {
        float[] parameters = new float[24], buffers = new float[4];
        long[] counters = new long[1];
        Safetensors.Load(new MemoryStream(StateFile(Tracked, Var, Bias1, Weight0, Mean, Weight1, Bias0)), BnParameters(), BnState(), parameters, buffers, counters);

        Assert.Equal(Ramp(18, 1).Concat(new float[] { 1, 2, 3, 4, 5, 6 }), parameters);
        Assert.Equal(new float[] { 0.5f, 0.25f, 1.5f, 1.25f }, buffers);
        Assert.Equal(9, counters[0]);
    }

    [Fact]
    public void WrongSpanLengths_AndClashingNames_AreArgumentErrors()
    {
        var stream = new MemoryStream();
        Assert.Equal("parameterValues", Assert.Throws<ArgumentException>(() => Safetensors.Save(stream, BnParameters(), BnState(), new float[23], new float[4], new long[1])).ParamName);
        Assert.Equal("buffers", Assert.Throws<ArgumentException>(() => Safetensors.Save(stream, BnParameters(), BnState(), new float[24], new float[3], new long[1])).ParamName);
        Assert.Equal("counters", Assert.Throws<ArgumentException>(() => Safetensors.Save(stream, BnParameters(), BnState(), new float[24], new float[4], new long[2])).ParamName);
        Assert.Equal("counters", Assert.Throws<ArgumentException>(() => Safetensors.Load(new MemoryStream(), BnParameters(), BnState(), new float[24], new float[4], Span<long>.Empty)).ParamName);
        Assert.Throws<ArgumentNullException>(() => Safetensors.Save(stream, BnParameters(), null!, new float[24], new float[4], new long[1]));

        var clash = new StateDescription(2, new[] { new BufferSpec("1.bias", 0, new[] { 2 }) }, Array.Empty<CounterSpec>());
        var error = Assert.Throws<ArgumentException>(() => Safetensors.Save(stream, BnParameters(), clash, new float[24], new float[2], ReadOnlySpan<long>.Empty));
        Assert.Contains("'1.bias' names both a parameter", error.Message);
        Assert.Equal(0, stream.Length);
    }

    [Fact]
    public void OldOverloads_WithALayoutOnlyDescription_RoundTripTheParameters()
    {
        float[] parameters = Ramp(24, 0.5f);
        var stream = new MemoryStream();
        Safetensors.Save(stream, BnParameters(), parameters);
        float[] loaded = new float[24];
        Safetensors.Load(new MemoryStream(stream.ToArray()), BnParameters(), loaded);
        Assert.Equal(parameters, loaded);
    }

    [Fact]
    public void Sgd_WithMomentumAndWeightDecay_StepsALayoutOnlyDescription_DecayingOnlyWeights()
    {
        // w (IsWeight) and b (not) side by side: the same values and gradients, so only the weight decay tells them apart.
        var layout = new NetworkDescription("two tensors", 6, new[]
        {
            new ParameterSpec("w", 0, IsWeight: true, new[] { 3 }),
            new ParameterSpec("b", 3, IsWeight: false, new[] { 3 }),
        });
        const double Rate = 0.1, Momentum = 0.9, Decay = 0.5;
        var optimizer = new Sgd(Rate, Momentum, Decay);
        object owner = new();
        optimizer.Attach<double>(owner, layout);

        double[] start = { 1, -2, 0.5 };
        double[] parameters = start.Concat(start).ToArray();
        double[][] gradients = { new[] { 0.1, 0.2, -0.3 }, new[] { -0.05, 0.4, 0.25 } };

        // PyTorch's SGD by hand: g' = g + λθ (weights only), v = μv + g', θ −= ηv.
        double[] w = start.ToArray(), b = start.ToArray(), vw = new double[3], vb = new double[3];
        foreach (double[] g in gradients)
        {
            double[] both = g.Concat(g).ToArray();
            Assert.True(optimizer.Step<double>(owner, parameters, both));
            for (int i = 0; i < 3; i++)
            {
                vw[i] = (Momentum * vw[i]) + g[i] + (Decay * w[i]);
                w[i] -= Rate * vw[i];
                vb[i] = (Momentum * vb[i]) + g[i];
                b[i] -= Rate * vb[i];
            }
        }

        for (int i = 0; i < 3; i++)
        {
            Assert.Equal(w[i], parameters[i], 12);
            Assert.Equal(b[i], parameters[3 + i], 12);
            Assert.NotEqual(parameters[i], parameters[3 + i]);
        }

        Assert.Equal(2, optimizer.Steps);
    }
}
