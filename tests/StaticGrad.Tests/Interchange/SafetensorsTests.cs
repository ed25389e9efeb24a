using System;
using System.Buffers.Binary;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.Json;
using StaticGrad.Tests.Networks;
using Xunit;

namespace StaticGrad.Tests.Interchange;

/// <summary>SaveSafetensors/LoadSafetensors: round trips, the file as the format defines it, conversion, and files written by PyTorch.</summary>
public sealed class SafetensorsTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "staticgrad-safetensors-" + Guid.NewGuid().ToString("N")[..8]);

    public SafetensorsTests() => Directory.CreateDirectory(_directory);

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    public static TheoryData<string> DoubleNetworks => new()
    {
        nameof(LinearOnly), nameof(LinearNoBias), nameof(ReLUOnly), nameof(SigmoidOnly), nameof(TanhOnly), nameof(SoftmaxOnly),
        nameof(SvmOnly), nameof(MseOnly), nameof(DeepSoftmax), nameof(ReLUSvm), nameof(TanhRegression), nameof(DigitNetDouble),
        nameof(EveryLayerDouble), nameof(TinyCnn), nameof(StridedCnn), nameof(PointwiseCnn), nameof(ConvOnly), nameof(PoolFirst),
    };

    private static INetwork CreateDouble(string name, int seed) => name switch
    {
        nameof(LinearOnly) => new LinearOnly(seed: seed),
        nameof(LinearNoBias) => new LinearNoBias(seed: seed),
        nameof(ReLUOnly) => new ReLUOnly(seed: seed),
        nameof(SigmoidOnly) => new SigmoidOnly(seed: seed),
        nameof(TanhOnly) => new TanhOnly(seed: seed),
        nameof(SoftmaxOnly) => new SoftmaxOnly(seed: seed),
        nameof(SvmOnly) => new SvmOnly(seed: seed),
        nameof(MseOnly) => new MseOnly(seed: seed),
        nameof(DeepSoftmax) => new DeepSoftmax(seed: seed),
        nameof(ReLUSvm) => new ReLUSvm(seed: seed),
        nameof(TanhRegression) => new TanhRegression(seed: seed),
        nameof(DigitNetDouble) => new DigitNetDouble(seed: seed),
        nameof(EveryLayerDouble) => new EveryLayerDouble(seed: seed),
        nameof(TinyCnn) => new TinyCnn(seed: seed),
        nameof(StridedCnn) => new StridedCnn(seed: seed),
        nameof(PointwiseCnn) => new PointwiseCnn(seed: seed),
        nameof(ConvOnly) => new ConvOnly(seed: seed),
        nameof(PoolFirst) => new PoolFirst(seed: seed),
        _ => throw new ArgumentException(name),
    };

    private static void Save(INetwork network, Stream stream) => network.GetType().GetMethod("SaveSafetensors", new[] { typeof(Stream) })!.Invoke(network, new object[] { stream });

    private static void Load(INetwork network, Stream stream) => network.GetType().GetMethod("LoadSafetensors", new[] { typeof(Stream), typeof(bool) })!.Invoke(network, new object[] { stream, false });

    [Theory]
    [MemberData(nameof(DoubleNetworks))]
    public void RoundTrip_Double_IsBitwise(string name)
    {
        INetwork saved = CreateDouble(name, seed: 1);
        var stream = new MemoryStream();
        Save(saved, stream);

        INetwork loaded = CreateDouble(name, seed: 2);
        Assert.NotEqual(Bits(saved.Parameters), Bits(loaded.Parameters));
        stream.Position = 0;
        Load(loaded, stream);

        Assert.Equal(Bits(saved.Parameters), Bits(loaded.Parameters));
    }

    [Fact]
    public void RoundTrip_Float_IsBitwise_ThroughAFile()
    {
        string path = Path.Combine(_directory, "every.safetensors");
        var saved = new EveryLayerFloat(seed: 1);
        saved.Parameters[3] = float.Epsilon; // a subnormal survives too
        saved.Parameters[4] = -0f;
        saved.SaveSafetensors(path);

        var loaded = new EveryLayerFloat(seed: 2);
        loaded.LoadSafetensors(path);

        Assert.Equal(saved.Parameters.ToArray().Select(BitConverter.SingleToInt32Bits), loaded.Parameters.ToArray().Select(BitConverter.SingleToInt32Bits));
        Assert.Single(Directory.GetFiles(_directory)); // no temporary file left behind
    }

    [Fact]
    public void SaveSafetensors_WritesTheFormat_NamesShapesOffsetsAndData()
    {
        var net = new EveryLayerFloat(seed: 3);
        var stream = new MemoryStream();
        net.SaveSafetensors(stream);
        byte[] file = stream.ToArray();

        // Read as the format's definition says, with a general JSON parser rather than StaticGrad's reader.
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(file);
        Assert.Equal(0UL, (8 + headerLength) % 8); // the data starts 8-aligned, as safetensors writes it
        using var header = JsonDocument.Parse(Encoding.UTF8.GetString(file, 8, (int)headerLength).TrimEnd(' '));
        JsonElement metadata = header.RootElement.GetProperty("__metadata__");
        Assert.Equal("pt", metadata.GetProperty("format").GetString());
        Assert.Equal(EveryLayerFloat.Architecture, metadata.GetProperty("architecture").GetString());

        var expected = new (string Name, int[] Shape, float[] Values)[]
        {
            ("0.weight", new[] { 9, 7 }, net.Layer0Weight.ToArray()),
            ("0.bias", new[] { 9 }, net.Layer0Bias.ToArray()),
            ("2.weight", new[] { 6, 9 }, net.Layer2Weight.ToArray()),
            ("2.bias", new[] { 6 }, net.Layer2Bias.ToArray()),
            ("4.weight", new[] { 5, 6 }, net.Layer4Weight.ToArray()),
            ("6.weight", new[] { 3, 5 }, net.Layer6Weight.ToArray()),
            ("6.bias", new[] { 3 }, net.Layer6Bias.ToArray()),
        };
        Assert.Equal(expected.Length + 1, header.RootElement.EnumerateObject().Count());
        int dataStart = 8 + (int)headerLength;
        foreach (var (name, shape, values) in expected)
        {
            JsonElement tensor = header.RootElement.GetProperty(name);
            Assert.Equal("F32", tensor.GetProperty("dtype").GetString());
            Assert.Equal(shape, tensor.GetProperty("shape").EnumerateArray().Select(e => e.GetInt32()));
            long[] offsets = tensor.GetProperty("data_offsets").EnumerateArray().Select(e => e.GetInt64()).ToArray();
            Assert.Equal(values.Length * 4, offsets[1] - offsets[0]);
            float[] stored = Enumerable.Range(0, values.Length)
                .Select(i => BinaryPrimitives.ReadSingleLittleEndian(file.AsSpan(dataStart + (int)offsets[0] + (i * 4))))
                .ToArray();
            Assert.Equal(values, stored);
        }

        Assert.Equal(file.Length - dataStart, expected.Sum(e => e.Values.Length * 4));
    }

    [Fact]
    public void LoadSafetensors_DoubleFileIntoFloatNetwork_NeedsTheOptIn()
    {
        var source = new DigitNetDouble(seed: 4);
        var stream = new MemoryStream();
        source.SaveSafetensors(stream);

        var target = new DigitNetFloat(seed: 5);
        float[] before = target.Parameters.ToArray();
        stream.Position = 0;
        var error = Assert.Throws<InvalidDataException>(() => target.LoadSafetensors(stream));
        Assert.Contains("tensor '0.weight' is F64", error.Message);
        Assert.Contains("holds F32 parameters", error.Message);
        Assert.Contains("allowConversion: true", error.Message);
        Assert.Equal(before, target.Parameters.ToArray());

        stream.Position = 0;
        target.LoadSafetensors(stream, allowConversion: true);
        Assert.Equal(source.Parameters.ToArray().Select(v => (float)v), target.Parameters.ToArray());
    }

    [Fact]
    public void LoadSafetensors_FloatFileIntoDoubleNetwork_WidensExactlyWithTheOptIn()
    {
        var source = new DigitNetFloat(seed: 6);
        var stream = new MemoryStream();
        source.SaveSafetensors(stream);

        var target = new DigitNetDouble(seed: 7);
        stream.Position = 0;
        Assert.Throws<InvalidDataException>(() => target.LoadSafetensors(stream));
        stream.Position = 0;
        target.LoadSafetensors(stream, allowConversion: true);
        Assert.Equal(source.Parameters.ToArray().Select(v => (double)v), target.Parameters.ToArray());
    }

    [Fact]
    public void Golden_DeepFloat_WrittenByPyTorch_GivesPyTorchsOutputs()
    {
        var net = new GoldenDeepFloat();
        net.LoadSafetensors(GoldenPath("deep-float.safetensors"));
        var (inputs, outputs, rows) = ReadGolden("deep-float.json");
        float[] actual = new float[outputs.Length];
        net.Forward(inputs.Select(v => (float)v).ToArray(), actual);
        AssertClose(outputs, actual.Select(v => (double)v).ToArray(), relative: 1e-5, absolute: 1e-6, rows);
    }

    [Fact]
    public void Golden_ReluFloat_WrittenByPyTorch_GivesPyTorchsOutputs()
    {
        var net = new GoldenReluFloat();
        net.LoadSafetensors(GoldenPath("relu-float.safetensors"));
        var (inputs, outputs, rows) = ReadGolden("relu-float.json");
        float[] actual = new float[outputs.Length];
        net.Forward(inputs.Select(v => (float)v).ToArray(), actual);
        AssertClose(outputs, actual.Select(v => (double)v).ToArray(), relative: 1e-5, absolute: 1e-6, rows);
    }

    [Fact]
    public void Golden_Cnn_WrittenByPyTorch_GivesPyTorchsOutputs()
    {
        var net = new GoldenCnnFloat();
        net.LoadSafetensors(GoldenPath("cnn-float.safetensors")); // 0.weight [2, 1, 3, 3], 0.bias, 4.weight [3, 18], 4.bias
        var (inputs, outputs, rows) = ReadGolden("cnn-float.json");
        float[] actual = new float[outputs.Length];
        net.Forward(inputs.Select(v => (float)v).ToArray(), actual);
        AssertClose(outputs, actual.Select(v => (double)v).ToArray(), relative: 1e-5, absolute: 1e-6, rows);
    }

    [Fact]
    public void Golden_RegressionDouble_WrittenByPyTorch_GivesPyTorchsOutputs()
    {
        var net = new GoldenRegressionDouble();
        net.LoadSafetensors(GoldenPath("regression-double.safetensors"));
        var (inputs, outputs, rows) = ReadGolden("regression-double.json");
        double[] actual = new double[outputs.Length];
        net.Forward(inputs, actual);
        AssertClose(outputs, actual, relative: 1e-12, absolute: 1e-14, rows);
    }

    [Fact]
    public void Golden_FloatFile_IntoADoubleNetwork_NeedsTheOptIn_ThenGivesPyTorchsOutputs()
    {
        var net = new DeepSoftmax(seed: 1); // the same layers as deep-float, in double
        double[] before = net.Parameters.ToArray();
        var error = Assert.Throws<InvalidDataException>(() => net.LoadSafetensors(GoldenPath("deep-float.safetensors")));
        Assert.Contains("tensor '0.weight' is F32, but this network (double: Linear(6, 5), Tanh, Linear(5, 4), Sigmoid, Linear(4, 3), SoftmaxCrossEntropy) holds F64 parameters", error.Message);
        Assert.Equal(before, net.Parameters.ToArray());

        net.LoadSafetensors(GoldenPath("deep-float.safetensors"), allowConversion: true);
        var (inputs, outputs, rows) = ReadGolden("deep-float.json");
        double[] actual = new double[outputs.Length];
        net.Forward(inputs, actual);
        AssertClose(outputs, actual, relative: 1e-5, absolute: 1e-6, rows);
    }

    internal static string GoldenPath(string file) => Path.Combine(AppContext.BaseDirectory, "Interchange", "Golden", file);

    private static (double[] Inputs, double[] Outputs, int Rows) ReadGolden(string file)
    {
        using var json = JsonDocument.Parse(File.ReadAllText(GoldenPath(file)));
        double[][] inputs = json.RootElement.GetProperty("inputs").EnumerateArray().Select(r => r.EnumerateArray().Select(v => v.GetDouble()).ToArray()).ToArray();
        double[][] outputs = json.RootElement.GetProperty("outputs").EnumerateArray().Select(r => r.EnumerateArray().Select(v => v.GetDouble()).ToArray()).ToArray();
        return (inputs.SelectMany(r => r).ToArray(), outputs.SelectMany(r => r).ToArray(), inputs.Length);
    }

    private static void AssertClose(double[] expected, double[] actual, double relative, double absolute, int rows)
    {
        Assert.Equal(expected.Length, actual.Length);
        Assert.True(rows > 1);
        for (int i = 0; i < expected.Length; i++)
        {
            double tolerance = absolute + (relative * Math.Abs(expected[i]));
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tolerance, $"output {i}: PyTorch {expected[i]:R}, StaticGrad {actual[i]:R}");
        }
    }

    private static long[] Bits(Span<double> values) => values.ToArray().Select(BitConverter.DoubleToInt64Bits).ToArray();
}
