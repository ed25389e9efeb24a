using System;
using System.IO;
using System.Linq;
using Xunit;
using static StaticGrad.Tests.Interchange.SafetensorsFile;

namespace StaticGrad.Tests.Interchange;

/// <summary>
/// Malformed and mismatched safetensors files, written by hand: each gets an <see cref="InvalidDataException"/> that names
/// the tensor and what is wrong, and the network keeps its parameters.
/// </summary>
public sealed class SafetensorsBadFileTests
{
    private const string Tiny = "float: Linear(3, 2), ReLU, Linear(2, 2)";

    // TinyFloat's tensors: 0.weight [2, 3] (24 bytes), 0.bias [2] (8), 2.weight [2, 2] (16), 2.bias [2] (8).
    private static readonly string W0 = Entry("0.weight", "F32", "[2,3]", 0, 24);
    private static readonly string B0 = Entry("0.bias", "F32", "[2]", 24, 32);
    private static readonly string W2 = Entry("2.weight", "F32", "[2,2]", 32, 48);
    private static readonly string B2 = Entry("2.bias", "F32", "[2]", 48, 56);
    private static readonly byte[] Data = F32(Enumerable.Range(1, 14).Select(i => (float)i).ToArray());

    private static string Entry(string name, string dtype, string shape, long begin, long end) =>
        $"\"{name}\":{{\"dtype\":\"{dtype}\",\"shape\":{shape},\"data_offsets\":[{begin},{end}]}}";

    private static string Header(params string[] entries) => "{" + string.Join(",", entries) + "}";

    [Fact]
    public void HandWrittenFile_Loads_InAnyTensorOrder_WithMetadata()
    {
        // Data laid out 2.bias, 2.weight, 0.bias, 0.weight; JSON keys in yet another order; padding spaces after the JSON.
        string header = Header(
            "\"__metadata__\":{\"format\":\"pt\",\"note\":\"written by hand\"}",
            Entry("0.bias", "F32", "[2]", 24, 32),
            Entry("2.bias", "F32", "[2]", 0, 8),
            Entry("0.weight", "F32", "[2,3]", 32, 56),
            Entry("2.weight", "F32", "[2,2]", 8, 24)) + "   ";
        byte[] data = Concat(F32(13, 14), F32(9, 10, 11, 12), F32(7, 8), F32(1, 2, 3, 4, 5, 6));
        var net = new TinyFloat(seed: 1);
        net.LoadSafetensors(new MemoryStream(Build(header, data)));

        Assert.Equal(Enumerable.Range(1, 14).Select(i => (float)i), net.Parameters.ToArray());
        Assert.Equal(new float[] { 1, 2, 3, 4, 5, 6 }, net.Layer0Weight.ToArray());
        Assert.Equal(new float[] { 13, 14 }, net.Layer2Bias.ToArray());
    }

    public static TheoryData<string, byte[], string> BadFiles => new()
    {
        { "missing tensor", Build(Header(W0, B0, W2), Data[..48]), $"the stream has no tensor '2.bias' (F32 [2]), which this network ({Tiny}) needs; it has 0.bias, 0.weight, 2.weight." },
        { "extra tensor", Build(Header(W0, B0, W2, B2, Entry("4.weight", "F32", "[1]", 56, 60)), Concat(Data, F32(15))), $"the stream has a tensor '4.weight' (F32 [1]) that this network ({Tiny}) does not have; its tensors are 0.bias, 0.weight, 2.bias, 2.weight." },
        { "wrong shape", Build(Header(Entry("0.weight", "F32", "[3,2]", 0, 24), B0, W2, B2), Data), $"the stream: tensor '0.weight' has shape [3, 2], but this network ({Tiny}) needs [2, 3]." },
        { "wrong rank", Build(Header(Entry("0.weight", "F32", "[6]", 0, 24), B0, W2, B2), Data), "tensor '0.weight' has shape [6], but" },
        { "wrong dtype", Build(Header(W0, B0, W2, Entry("2.bias", "F16", "[4]", 48, 56)), Data), $"the stream: tensor '2.bias' is F16, but this network ({Tiny}) holds F32 parameters. StaticGrad reads F32 and F64 tensors." },
        { "double without opt-in", Build(Header(W0, B0, W2, Entry("2.bias", "F64", "[1]", 48, 56)), Data), "tensor '2.bias' is F64, but this network" },
        { "unknown dtype", Build(Header(W0, B0, W2, Entry("2.bias", "F33", "[2]", 48, 56)), Data), "the stream: tensor '2.bias' has dtype 'F33', which is not a safetensors dtype." },
        { "truncated data", Build(Header(W0, B0, W2, B2), Data[..52]), "the stream is truncated: tensor '2.bias' ends at byte 56 of the data, but the file holds 52 bytes of data after its header." },
        { "header past the end", Build(Header(W0, B0, W2, B2), Data, declaredHeaderLength: 5000), "the stream is truncated: its JSON header is 5000 bytes long, but only" },
        { "header over the limit", Build(Header(W0, B0, W2, B2), Data, declaredHeaderLength: 200_000_000), "declares a JSON header of 200000000 bytes; safetensors headers are limited to 100000000 bytes." },
        { "shorter than the length field", new byte[] { 1, 2, 3 }, "it has 3 bytes, fewer than the 8 of the header length." },
        { "not JSON", Build("[1,2,3]", Data), "its header does not start with '{'." },
        { "malformed JSON", Build("{\"0.weight\":{\"dtype\":\"F32\",\"shape\":[2,3],", Data), "the stream has a malformed JSON header:" },
        { "text after the JSON", Build(Header(W0, B0, W2, B2) + " x", Data), "the stream has a malformed JSON header:" },
        { "string where a number goes", Build(Header(Entry("0.weight", "F32", "[\"2\",3]", 0, 24), B0, W2, B2), Data), "the shape of tensor '0.weight' holds something other than a non-negative integer." },
        { "negative dimension", Build(Header(Entry("0.weight", "F32", "[-2,3]", 0, 24), B0, W2, B2), Data), "the shape of tensor '0.weight' holds something other than a non-negative integer." },
        { "three offsets", Build(Header(W0, B0, W2, "\"2.bias\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[48,56,64]}"), Data), "the data_offsets of tensor '2.bias' hold 3 numbers instead of two ([begin, end])." },
        { "no dtype", Build(Header(W0, B0, W2, "\"2.bias\":{\"shape\":[2],\"data_offsets\":[48,56]}"), Data), "tensor '2.bias' has no 'dtype'." },
        { "unknown key", Build(Header(W0, B0, W2, "\"2.bias\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[48,56],\"stride\":[1]}"), Data), "tensor '2.bias' has an unknown key 'stride'" },
        { "duplicate tensor", Build(Header(W0, B0, W2, B2, B2), Data), "tensor '2.bias' appears twice." },
        { "non-string metadata", Build(Header("\"__metadata__\":{\"format\":1}", W0, B0, W2, B2), Data), "'__metadata__.format' (metadata values are strings) should be a string, but it is Number." },
        { "size does not match the shape", Build(Header(Entry("0.weight", "F32", "[2,3]", 0, 20), Entry("0.bias", "F32", "[2]", 20, 28), Entry("2.weight", "F32", "[2,2]", 28, 44), Entry("2.bias", "F32", "[3]", 44, 56)), Data), "tensor '0.weight' is F32 [2, 3], which takes 24 bytes, but its data_offsets [0, 20] span 20." },
        { "end before start", Build(Header(W0, Entry("0.bias", "F32", "[2]", 32, 24), W2, B2), Data), "the stream: tensor '0.bias' has data_offsets [32, 24], whose end comes before its start." },
        { "overlapping tensors", Build(Header(W0, Entry("0.bias", "F32", "[2]", 20, 28), Entry("2.weight", "F32", "[2,2]", 28, 44), Entry("2.bias", "F32", "[3]", 44, 56)), Data), "the stream: tensors overlap: '0.bias' starts at byte 20 of the data, before tensor '0.weight' ends at byte 24." },
        { "gap between tensors", Build(Header(W0, Entry("0.bias", "F32", "[2]", 28, 36), Entry("2.weight", "F32", "[2,2]", 36, 52), Entry("2.bias", "F32", "[1]", 52, 56)), Data), "there are 4 unused bytes between tensor '0.weight' and tensor '0.bias'" },
        { "bytes after the last tensor", Build(Header(W0, B0, W2, B2), Concat(Data, F32(0))), "the stream has 4 bytes after its last tensor that no tensor accounts for." },
    };

    [Theory]
    [MemberData(nameof(BadFiles))]
    public void BadFile_ThrowsWithTheReason_AndChangesNothing(string why, byte[] file, string message)
    {
        var net = new TinyFloat(seed: 3);
        float[] before = net.Parameters.ToArray();

        var error = Assert.Throws<InvalidDataException>(() => net.LoadSafetensors(new MemoryStream(file)));

        Assert.True(error.Message.Contains(message, StringComparison.Ordinal), $"{why}: expected the message to contain{Environment.NewLine}{message}{Environment.NewLine}but it was{Environment.NewLine}{error.Message}");
        Assert.Equal(before, net.Parameters.ToArray());
    }

    [Fact]
    public void BadFile_FromAPath_NamesThePath()
    {
        string path = Path.Combine(Path.GetTempPath(), "staticgrad-bad-" + Guid.NewGuid().ToString("N")[..8] + ".safetensors");
        File.WriteAllBytes(path, Build(Header(W0, B0, W2), Data[..48]));
        try
        {
            var error = Assert.Throws<InvalidDataException>(() => new TinyFloat(seed: 1).LoadSafetensors(path));
            Assert.StartsWith($"'{path}' has no tensor '2.bias'", error.Message);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void NullArguments_AreNamed()
    {
        var net = new TinyFloat(seed: 1);
        Assert.Equal("path", Assert.Throws<ArgumentNullException>(() => net.LoadSafetensors((string)null!)).ParamName);
        Assert.Equal("stream", Assert.Throws<ArgumentNullException>(() => net.LoadSafetensors((Stream)null!)).ParamName);
        Assert.Equal("path", Assert.Throws<ArgumentNullException>(() => net.SaveSafetensors((string)null!)).ParamName);
        Assert.Equal("stream", Assert.Throws<ArgumentNullException>(() => net.SaveSafetensors((Stream)null!)).ParamName);
    }
}
