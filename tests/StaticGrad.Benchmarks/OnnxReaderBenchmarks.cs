using System.Collections.Immutable;
using BenchmarkDotNet.Attributes;
using StaticGrad.Generators.Onnx;
using StaticGrad.Tests.Onnx;

namespace StaticGrad.Benchmarks;

/// <summary>
/// What reading an ONNX file costs the generator: a 10 MB model (ten Gemm layers of 512 × 512 float weights, written by
/// the runtime's ProtobufWriter) parsed, parsed and checked with every tensor decoded, and found again in the content cache
/// by checksum (an unchanged file on the next keystroke) or by comparing its bytes.
/// </summary>
[MemoryDiagnoser]
public class OnnxReaderBenchmarks
{
    private byte[] _bytes = null!;
    private byte[] _copy = null!;
    private readonly ImmutableArray<byte> _checksum = ImmutableArray.Create<byte>(1, 2, 3);

    [GlobalSetup]
    public void Setup()
    {
        _bytes = OnnxWire.LargeModel(10);
        _copy = (byte[])_bytes.Clone();
        OnnxModelCache.Clear();
        OnnxModelCache.Read("bench.onnx", _checksum, () => _bytes);
        OnnxModelCache.Read("bench-bytes.onnx", _bytes);
    }

    [Benchmark(Description = "Read 10 MB (parse)")]
    public object Read() => OnnxReader.Read(_bytes).Value!;

    [Benchmark(Description = "Read 10 MB + graph checks + decode all floats")]
    public int ReadCheckAndDecode()
    {
        OnnxModel model = OnnxReader.Read(_bytes).Value!;
        OnnxGraphCheck.DefaultOpset(model);
        OnnxGraphCheck.TopologicalOrder(model.Graph);
        int total = 0;
        foreach (OnnxTensor tensor in model.Graph.Initializers)
        {
            total += tensor.DecodeFloats().Value!.Length;
        }

        return total;
    }

    [Benchmark(Description = "Cache hit by checksum")]
    public object CachedByChecksum() => OnnxModelCache.Read("bench.onnx", _checksum, () => _bytes).Value!;

    [Benchmark(Description = "Cache hit by content (10 MB compare)")]
    public object CachedByContent() => OnnxModelCache.Read("bench-bytes.onnx", _copy).Value!;
}
