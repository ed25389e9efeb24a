using System;
using System.IO;
using System.Linq;
using Xunit;

namespace StaticGrad.Tests.Networks;

/// <summary>The versioned binary format: round trip, wrong architecture, damaged files, and no half-written file.</summary>
public sealed class SaveLoadTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "staticgrad-saveload-" + Guid.NewGuid().ToString("N")[..8]);

    public SaveLoadTests() => Directory.CreateDirectory(_directory);

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void RoundTrip_RestoresParametersExactly()
    {
        string path = Path.Combine(_directory, "digits.sgrd");
        var trained = new DigitNetDouble(seed: 1);
        trained.Save(path);

        var fresh = new DigitNetDouble(seed: 2);
        Assert.NotEqual(trained.Parameters.ToArray(), fresh.Parameters.ToArray());
        fresh.Load(path);

        Assert.Equal(trained.Parameters.ToArray(), fresh.Parameters.ToArray());
        Assert.Single(Directory.GetFiles(_directory)); // no temporary file left behind
    }

    [Fact]
    public void Save_ReplacesAnExistingFile()
    {
        string path = Path.Combine(_directory, "net.sgrd");
        new DigitNetFloat(seed: 1).Save(path);
        var second = new DigitNetFloat(seed: 2);
        second.Save(path);

        var loaded = new DigitNetFloat(seed: 3);
        loaded.Load(path);
        Assert.Equal(second.Parameters.ToArray(), loaded.Parameters.ToArray());
        Assert.Single(Directory.GetFiles(_directory));
    }

    [Fact]
    public void Load_OtherArchitecture_ThrowsAndLeavesModelUnchanged()
    {
        string path = Path.Combine(_directory, "svm.sgrd");
        new DigitSvmDouble(seed: 1).Save(path);

        var net = new DigitNetDouble(seed: 2);
        double[] before = net.Parameters.ToArray();
        var ex = Assert.Throws<InvalidDataException>(() => net.Load(path));

        Assert.Contains("architecture 'double: Linear(64, 32), ReLU, Linear(32, 10), MulticlassSvm(Margin = 1)'", ex.Message);
        Assert.Contains("this network is 'double: Linear(64, 32), ReLU, Linear(32, 10), SoftmaxCrossEntropy'", ex.Message);
        Assert.Equal(before, net.Parameters.ToArray());
    }

    [Fact]
    public void Load_OtherElementType_Throws()
    {
        string path = Path.Combine(_directory, "float.sgrd");
        new DigitNetFloat(seed: 1).Save(path);
        var ex = Assert.Throws<InvalidDataException>(() => new DigitNetDouble().Load(path));
        Assert.Contains("4-byte parameters", ex.Message);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(3)]
    [InlineData(40)]
    [InlineData(5000)]
    public void Load_TruncatedFile_ThrowsAndLeavesModelUnchanged(int keep)
    {
        var stream = new MemoryStream();
        new DigitNetFloat(seed: 1).Save(stream);
        byte[] bytes = stream.ToArray();
        Assert.True(keep < bytes.Length);

        var net = new DigitNetFloat(seed: 2);
        float[] before = net.Parameters.ToArray();
        Assert.Throws<InvalidDataException>(() => net.Load(new MemoryStream(bytes[..keep])));
        Assert.Equal(before, net.Parameters.ToArray());
    }

    [Fact]
    public void Load_FlippedByte_FailsTheChecksum()
    {
        var stream = new MemoryStream();
        new DigitNetFloat(seed: 1).Save(stream);
        byte[] bytes = stream.ToArray();
        bytes[bytes.Length / 2] ^= 0x10; // inside the parameters

        var net = new DigitNetFloat(seed: 2);
        float[] before = net.Parameters.ToArray();
        var ex = Assert.Throws<InvalidDataException>(() => net.Load(new MemoryStream(bytes)));
        Assert.Contains("checksum", ex.Message);
        Assert.Equal(before, net.Parameters.ToArray());
    }

    [Fact]
    public void Load_NotANetworkFile_SaysSo()
    {
        var ex = Assert.Throws<InvalidDataException>(() => new DigitNetFloat().Load(new MemoryStream("hello, world"u8.ToArray())));
        Assert.Contains("not a StaticGrad network file", ex.Message);
    }

    [Fact]
    public void Format_HeaderIsAsDocumented()
    {
        // Independent of the generated reader: magic "SGRD", version 1, element size 4, then the architecture text.
        var stream = new MemoryStream();
        new DigitNetFloat().Save(stream);
        byte[] b = stream.ToArray();
        Assert.Equal("SGRD"u8.ToArray(), b[..4]);
        Assert.Equal(1, BitConverter.ToUInt16(b, 4));
        Assert.Equal(4, b[6]);
        int length = BitConverter.ToInt32(b, 8);
        Assert.Equal(DigitNetFloat.Architecture, System.Text.Encoding.UTF8.GetString(b, 12, length));
        Assert.Equal(DigitNetFloat.ParameterCount, BitConverter.ToInt32(b, 12 + length));
        Assert.Equal(12 + length + 4 + (DigitNetFloat.ParameterCount * 4) + 8, b.Length);
    }
}
