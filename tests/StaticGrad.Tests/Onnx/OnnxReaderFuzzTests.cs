using System;
using System.IO;
using System.Linq;
using CsCheck;
using StaticGrad.Generators.Onnx;
using Xunit;
using Xunit.Abstractions;

namespace StaticGrad.Tests.Onnx;

/// <summary>
/// Property tests of the reader on hostile input: random bytes, and PyTorch fixtures with random bytes overwritten,
/// inserted, removed or made into huge varints. For each: no exception, and the read, the graph checks and decoding every
/// tensor together allocate less than 64 × the input's length + 64 KB (GC.GetAllocatedBytesForCurrentThread).
/// </summary>
/// <remarks>
/// <c>STATICGRAD_FUZZ_CASES</c> scales the number of cases (default 3,000 random and 3,000 mutated);
/// <c>STATICGRAD_FUZZ_SEED</c> replays the seed a failure prints.
/// </remarks>
public sealed class OnnxReaderFuzzTests(ITestOutputHelper output)
{
    private static readonly byte[][] Fixtures = OnnxReaderGoldenTests.FixtureNames
        .Select(name => File.ReadAllBytes(OnnxReaderGoldenTests.GoldenPath(name + ".onnx")))
        .Append(OnnxWire.Model(OnnxWire.SmallGraph()).ToArray())
        .ToArray();

    private static int Cases => int.TryParse(Environment.GetEnvironmentVariable("STATICGRAD_FUZZ_CASES"), out int n) ? Math.Max(100, n) : 3000;

    private static string? Seed => Environment.GetEnvironmentVariable("STATICGRAD_FUZZ_SEED") is { Length: > 0 } s ? s : null;

    /// <summary>Reads, checks and decodes everything in <paramref name="bytes"/>, asserting the allocation bound.</summary>
    internal static OnnxResult<OnnxModel> ReadBounded(byte[] bytes)
    {
        long before = GC.GetAllocatedBytesForCurrentThread();
        OnnxResult<OnnxModel> result = OnnxReader.Read(bytes);
        if (result.Value is OnnxModel model)
        {
            OnnxGraphCheck.DefaultOpset(model);
            OnnxGraphCheck.TopologicalOrder(model.Graph);
            foreach (OnnxTensor tensor in model.Graph.Initializers.Concat(model.Graph.Nodes.SelectMany(n => n.Attributes).Where(a => a.T is not null).Select(a => a.T!)))
            {
                _ = tensor.DataType switch
                {
                    OnnxDataType.Float => tensor.DecodeFloats().Error,
                    OnnxDataType.Double => tensor.DecodeDoubles().Error,
                    OnnxDataType.Int32 => tensor.DecodeInt32s().Error,
                    _ => tensor.DecodeInt64s().Error,
                };
            }
        }

        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        long bound = (64L * bytes.Length) + (64 << 10);
        Assert.True(allocated < bound, $"{allocated:N0} bytes allocated for {bytes.Length:N0} bytes of input (bound {bound:N0}); {result}");
        return result;
    }

    [Fact]
    public void RandomBytes_NeverThrow_AndAllocateBoundedly()
    {
        Gen.Byte.Array[0, 4096].Sample(
            bytes => { ReadBounded(bytes); },
            writeLine: output.WriteLine,
            seed: Seed,
            iter: Cases,
            threads: 1,
            print: bytes => Convert.ToHexString(bytes));
    }

    /// <summary>Random bytes that start like a model (ir_version, then a graph field), so that the reader gets past the first tag.</summary>
    [Fact]
    public void RandomGraphs_NeverThrow_AndAllocateBoundedly()
    {
        Gen.Byte.Array[0, 2048].Select(body => new OnnxWire().Varint(1, 8).Bytes(7, body).ToArray()).Sample(
            bytes => { ReadBounded(bytes); },
            writeLine: output.WriteLine,
            seed: Seed,
            iter: Cases,
            threads: 1,
            print: bytes => Convert.ToHexString(bytes));
    }

    [Fact]
    public void MutatedFixtures_NeverThrow_AndAllocateBoundedly()
    {
        var mutation = Gen.Select(Gen.Int[0, 3], Gen.Double[0, 1], Gen.Byte, Gen.Int[1, 12]);
        Gen.Select(Gen.Int[0, Fixtures.Length - 1], mutation.Array[1, 6]).Select(c => Mutate(Fixtures[c.Item1], c.Item2)).Sample(
            bytes => { ReadBounded(bytes); },
            writeLine: output.WriteLine,
            seed: Seed,
            iter: Cases,
            threads: 1,
            print: bytes => bytes.Length + " bytes: " + Convert.ToHexString(bytes.AsSpan(0, Math.Min(bytes.Length, 256))));
    }

    /// <summary>A test of the test: mutations leave the reader with work to do (some still read, most fail).</summary>
    [Fact]
    public void MutatedFixtures_MixSuccessesAndErrors()
    {
        var random = new Random(7);
        int successes = 0, errors = 0;
        for (int i = 0; i < 500; i++)
        {
            byte[] fixture = Fixtures[random.Next(Fixtures.Length)];
            var mutations = Enumerable.Range(0, 1 + random.Next(3)).Select(_ => (random.Next(4), random.NextDouble(), (byte)random.Next(256), 1 + random.Next(12))).ToArray();
            if (ReadBounded(Mutate(fixture, mutations)).IsSuccess)
            {
                successes++;
            }
            else
            {
                errors++;
            }
        }

        output.WriteLine($"{successes} read, {errors} errors");
        Assert.True(successes > 10 && errors > 10, $"{successes} read, {errors} errors");
    }

    /// <summary>Kind 0 overwrites a byte, 1 inserts one, 2 removes a run, 3 writes a varint of 2^56 or more (a huge length) at the place.</summary>
    private static byte[] Mutate(byte[] source, (int Kind, double Where, byte Value, int Count)[] mutations)
    {
        var bytes = source.ToList();
        foreach ((int kind, double where, byte value, int count) in mutations)
        {
            int at = Math.Min(bytes.Count - 1, (int)(where * bytes.Count));
            if (at < 0)
            {
                break;
            }

            switch (kind)
            {
                case 0:
                    bytes[at] = value;
                    break;
                case 1:
                    bytes.Insert(at, value);
                    break;
                case 2:
                    bytes.RemoveRange(at, Math.Min(count, bytes.Count - at));
                    break;
                default:
                    bytes.InsertRange(at, Enumerable.Repeat((byte)0xFF, 8).Append((byte)(value & 0x7F)));
                    break;
            }
        }

        return bytes.ToArray();
    }
}
