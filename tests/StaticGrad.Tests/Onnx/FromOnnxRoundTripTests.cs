using System;
using System.IO;
using System.Linq;
using System.Reflection;
using StaticGrad.Tests.Models;
using Xunit;

namespace StaticGrad.Tests.Onnx;

/// <summary>
/// A model's own ExportOnnx, imported by [FromOnnx] (generated, compiled and loaded in memory): the same outputs (to float
/// rounding) and the same state names, so SaveSafetensors of the imported model writes what the original wrote. After a few
/// training steps, so BatchNorm's running statistics are not their initial 0 and 1.
/// </summary>
[Collection(nameof(OnnxReaderCacheTests))] // the generator reads through the process-wide cache, whose counters those tests check
public sealed class FromOnnxRoundTripTests
{
    private static float[] Floats(Random random, int count) => Enumerable.Range(0, count).Select(_ => (float)((random.NextDouble() * 2) - 1)).ToArray();

    /// <summary>Compiles [FromOnnx] over <paramref name="onnx"/> with a runner that calls Forward on arrays; returns the runner's methods.</summary>
    private static (Func<float[][], int, float[]> Forward, string[] Names) Import(byte[] onnx, string forwardArguments, int inputs)
    {
        string parameters = string.Join(", ", Enumerable.Range(0, inputs).Select(i => $"x[{i}]"));
        string source = $$"""
            using System.Linq;
            using StaticGrad;

            [FromOnnx("exported.onnx")]
            public partial class Imported;

            public static class Runner
            {
                public static float[] Forward(float[][] x, int batch)
                {
                    var model = new Imported(maxBatchSize: batch);
                    var y = new float[batch * Imported.OutputSize];
                    model.Forward({{parameters}}, y);
                    return y;
                }

                public static string[] Names() => Imported.Description.Tensors.Select(p => p.Name).Concat(Imported.State.Buffers.Select(b => b.Name)).ToArray();
            }
            """;
        Assembly assembly = FromOnnxHarness.Load(source, FromOnnxHarness.Copy("exported.onnx", onnx));
        Type runner = assembly.GetType("Runner")!;
        return ((x, batch) => (float[])runner.GetMethod("Forward")!.Invoke(null, new object[] { x, batch })!,
                (string[])runner.GetMethod("Names")!.Invoke(null, null)!);
    }

    private static void AssertSame(float[] expected, float[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-6 * Math.Max(1, Math.Abs(expected[i])), $"output {i}: original {expected[i]:R}, imported {actual[i]:R}");
        }
    }

    [Fact]
    public void TinyResNet_ExportedAndImported_GivesTheSameOutputs_AndNames()
    {
        var random = new Random(3);
        var model = new TinyResNet(seed: 5, maxBatchSize: 8);
        model.UseAdam(1e-2);
        for (int step = 0; step < 3; step++)
        {
            model.TrainStep(Floats(random, 8 * TinyResNet.InputSize), Enumerable.Range(0, 8).Select(i => i % 3).ToArray());
        }

        var stream = new MemoryStream();
        model.ExportOnnx(stream);
        var (forward, names) = Import(stream.ToArray(), "x", 1);
        float[] x = Floats(random, 5 * TinyResNet.InputSize);
        float[] expected = new float[5 * TinyResNet.OutputSize];
        model.Forward(x, expected);
        AssertSame(expected, forward(new[] { x }, 5));
        Assert.Equal(TinyResNet.Description.Tensors.Select(p => p.Name).Concat(TinyResNet.State.Buffers.Select(b => b.Name)), names);
    }

    [Fact]
    public void TwoInputNet_ExportedAndImported_GivesTheSameOutputs()
    {
        var random = new Random(4);
        var model = new TwoInputNet(seed: 2, maxBatchSize: 4);
        var stream = new MemoryStream();
        model.ExportOnnx(stream, opset: 13);
        var (forward, names) = Import(stream.ToArray(), "x, y", 2);
        float[] x = Floats(random, 4 * TwoInputNet.XSize), y = Floats(random, 4 * TwoInputNet.YSize);
        float[] expected = new float[4 * TwoInputNet.OutputSize];
        model.Forward(x, y, expected);
        AssertSame(expected, forward(new[] { x, y }, 4));
        Assert.Equal(TwoInputNet.Description.Tensors.Select(p => p.Name), names);
    }

    [Fact]
    public void EveryOpNet_ExportedAndImported_GivesTheSameOutputs()
    {
        // Strided Conv2d, BatchNorm2d and 1d, SiLU (Sigmoid·x), Sub, Tanh, Transpose, LayerNorm, Linear on a 3-D value (MatMul+Add),
        // AvgPool with stride 1, MaxPool, GlobalAveragePool, Mul, the exact GELU (our export's Mul, Erf, Add, Mul, Mul chain),
        // Reshape, Flatten, Dropout (Identity) and Concat; two inputs.
        var random = new Random(6);
        var model = new EveryOpNet(seed: 4, maxBatchSize: 4);
        model.UseAdam(1e-2);
        for (int step = 0; step < 3; step++)
        {
            model.TrainStep(Floats(random, 4 * EveryOpNet.XSize), Floats(random, 4 * EveryOpNet.SideSize), Floats(random, 4 * EveryOpNet.OutputSize));
        }

        var stream = new MemoryStream();
        model.ExportOnnx(stream);
        var (forward, names) = Import(stream.ToArray(), "x, side", 2);
        float[] x = Floats(random, 3 * EveryOpNet.XSize), side = Floats(random, 3 * EveryOpNet.SideSize);
        float[] expected = new float[3 * EveryOpNet.OutputSize];
        model.Forward(x, side, expected);
        AssertSame(expected, forward(new[] { x, side }, 3));

        // The same names; in the order the graph uses them (bn before same), not the fields' order.
        Assert.Equal(EveryOpNet.Description.Tensors.Select(p => p.Name).Concat(EveryOpNet.State.Buffers.Select(b => b.Name)).Order(), names.Order());
    }

    [Fact]
    public void OnnxCornerNet_ExportedAndImported_GivesTheSameOutputs()
    {
        // Operands of different rank (our export reshapes the lower-rank one), BatchNorm1d on 4×25, a Linear without bias on a
        // 3-D value, the tanh GELU written out with constants (Mul, Add, Tanh: constant operands import as buffers), a
        // Transpose of dimensions 0 and 2, Dropout as the last op.
        var random = new Random(8);
        var model = new OnnxCornerNet(seed: 2, maxBatchSize: 4);
        var stream = new MemoryStream();
        model.ExportOnnx(stream);
        var (forward, _) = Import(stream.ToArray(), "x, w", 2);
        float[] x = Floats(random, 3 * OnnxCornerNet.XSize), w = Floats(random, 3 * OnnxCornerNet.WSize);
        float[] expected = new float[3 * OnnxCornerNet.OutputSize];
        model.Forward(x, w, expected);
        AssertSame(expected, forward(new[] { x, w }, 3));
    }

}
