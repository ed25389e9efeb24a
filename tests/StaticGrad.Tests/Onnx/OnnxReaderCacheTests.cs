using System.Collections.Immutable;
using System.Linq;
using StaticGrad.Generators.Onnx;
using Xunit;

namespace StaticGrad.Tests.Onnx;

/// <summary>The content cache: unchanged content is read once, changed content again, and the checksum overload does not even ask for the bytes.</summary>
[Collection(nameof(OnnxReaderCacheTests))] // the cache is process-wide: its tests do not run beside each other
public sealed class OnnxReaderCacheTests
{
    [Fact]
    public void SameContent_IsReadOnce_ChangedContent_Again()
    {
        OnnxModelCache.Clear();
        byte[] bytes = OnnxWire.Model(OnnxWire.SmallGraph()).ToArray();
        OnnxModel first = OnnxModelCache.Read("/models/small.onnx", bytes).Value!;
        OnnxModel second = OnnxModelCache.Read("/models/small.onnx", bytes.ToArray()).Value!; // equal bytes, another array
        Assert.Same(first, second);
        Assert.Equal((1, 1), (OnnxModelCache.Hits, OnnxModelCache.Misses));

        byte[] edited = OnnxWire.Model(OnnxWire.SmallGraph(), opset: 17).ToArray();
        OnnxModel third = OnnxModelCache.Read("/models/small.onnx", edited).Value!;
        Assert.NotSame(first, third);
        Assert.Equal(1, OnnxModelCache.Count); // the old content of that path is dropped

        // Another path with the same content is read on its own, and errors are cached like models.
        Assert.NotSame(third, OnnxModelCache.Read("/other/small.onnx", edited).Value);
        OnnxError error = OnnxModelCache.Read("/bad.onnx", new byte[] { 0x0F }).Error!;
        Assert.Same(error, OnnxModelCache.Read("/bad.onnx", new byte[] { 0x0F }).Error);
        Assert.Equal(OnnxErrorKind.NotOnnx, error.Kind);
    }

    [Fact]
    public void Checksum_HitsWithoutTheBytes()
    {
        OnnxModelCache.Clear();
        byte[] bytes = OnnxWire.Model(OnnxWire.SmallGraph()).ToArray();
        ImmutableArray<byte> checksum = ImmutableArray.Create<byte>(1, 2, 3, 4);
        int asked = 0;
        OnnxModel first = OnnxModelCache.Read("m.onnx", checksum, () => { asked++; return bytes; }).Value!;
        OnnxModel second = OnnxModelCache.Read("m.onnx", checksum, () => { asked++; return bytes; }).Value!;
        Assert.Same(first, second);
        Assert.Equal(1, asked);
        OnnxModelCache.Read("m.onnx", ImmutableArray.Create<byte>(9), () => { asked++; return bytes; });
        Assert.Equal(2, asked);
    }

    [Fact]
    public void KeepsAtMostMaxEntries()
    {
        OnnxModelCache.Clear();
        byte[] bytes = OnnxWire.Model(OnnxWire.SmallGraph()).ToArray();
        for (int i = 0; i < OnnxModelCache.MaxEntries + 5; i++)
        {
            OnnxModelCache.Read($"m{i}.onnx", bytes);
        }

        Assert.Equal(OnnxModelCache.MaxEntries, OnnxModelCache.Count);
    }

    [Fact]
    public void LargeModel_ReadsAndDecodes()
    {
        byte[] bytes = OnnxWire.LargeModel(10);
        Assert.InRange(bytes.Length, 10 << 20, 11 << 20);
        OnnxModel model = OnnxReaderFuzzTests.ReadBounded(bytes).Value!;
        Assert.Equal(10, model.Graph.Nodes.Length);
        Assert.Equal(512 * 512, model.Graph.Initializers[0].DecodeFloats().Value!.Length);
        Assert.True(OnnxGraphCheck.TopologicalOrder(model.Graph).IsSuccess);
    }
}
