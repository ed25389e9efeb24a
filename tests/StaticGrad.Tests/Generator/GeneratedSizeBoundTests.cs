using System.Linq;
using System.Text;
using Microsoft.CodeAnalysis;
using StaticGrad.Tests.Infrastructure;
using Xunit;
using Xunit.Abstractions;

namespace StaticGrad.Tests.Generator;

/// <summary>
/// The generated text is bounded whatever the attributes say, so no shape can make a build crawl:
/// straight-line code only up to <c>M·K·N = 4096</c> (<see cref="UnrolledBound"/>), loops above it whatever the dimensions
/// (<see cref="LoopedBound"/>), and networks grow with their layer count and their distinct Linear shapes (product
/// shapes are shared between layers of one shape). Which shape gets which code is decided by the parser from the attribute's numbers,
/// before any text is written.
/// </summary>
public class GeneratedSizeBoundTests
{
    /// <summary>Largest file for an unrolled MatMul (M·K·N ≤ 4096 multiply-adds forward, twice that backward). Measured: 514 K.</summary>
    public const int UnrolledBound = 600 * 1024;

    /// <summary>
    /// Largest file for a looped MatMul, whatever its dimensions. Measured: 19 K (70 K while every class carried its own copy
    /// of the SIMD kernels; they now live once in StaticGrad.Runtime).
    /// </summary>
    public const int LoopedBound = 24 * 1024;

    /// <summary>A network file is at most this, plus <see cref="NetworkPerShape"/> per distinct Linear shape, plus <see cref="NetworkPerLayer"/> per layer attribute.</summary>
    /// <remarks>Measured: 54 K for 6 layer attributes and 3 shapes, 345 K for 132 (about 2.3 K per attribute: its forward and backward methods and docs).</remarks>
    public const int NetworkBase = 44 * 1024;

    /// <summary>Three product-shape structs per distinct Linear shape (the kernels themselves are in StaticGrad.Runtime).</summary>
    public const int NetworkPerShape = 4 * 1024;

    public const int NetworkPerLayer = 2560;

    private readonly ITestOutputHelper _output;

    public GeneratedSizeBoundTests(ITestOutputHelper output) => _output = output;

    /// <summary>
    /// Shapes at the unroll limit. Each case compiles about half a megabyte of generated code, so the quick tier checks
    /// three (square, one long dimension, double) and the full tier (<see cref="TestTier"/>) all nine.
    /// </summary>
    public static TheoryData<string, int, int, int> UnrolledShapes()
    {
        var shapes = new TheoryData<string, int, int, int>
        {
            { "MatMul", 16, 16, 16 },
            { "MatMul", 4096, 1, 1 },
            { "MatMul<double>", 2, 2048, 1 },
        };
        if (TestTier.Full)
        {
            shapes.Add("MatMul", 1, 4096, 1);
            shapes.Add("MatMul", 1, 1, 4096);
            shapes.Add("MatMul", 64, 64, 1);
            shapes.Add("MatMul", 1, 64, 64);
            shapes.Add("MatMul", 64, 1, 64);
            shapes.Add("MatMul<double>", 1, 2, 2048);
        }

        return shapes;
    }

    [Theory]
    [MemberData(nameof(UnrolledShapes))]
    public void UnrolledAtTheLimit_StaysUnderTheBound(string attribute, int m, int k, int n)
    {
        string text = GenerateOne($"[{attribute}({m}, {k}, {n}, Unroll = UnrollMode.Always)] public partial class C;");
        _output.WriteLine($"{attribute}({m}, {k}, {n}) unrolled: {text.Length:N0} chars");
        Assert.DoesNotContain("for (", text);
        Assert.InRange(text.Length, 1, UnrolledBound);
    }

    [Theory]
    [InlineData("MatMul", 16, 16, 17, "Always")]                 // past the Always limit: SGR0008 warning, loops
    [InlineData("MatMul", 4096, 4096, 4096, "Always")]           // the fully unrolled 4096³ of the issue: loops
    [InlineData("MatMul", 46340, 46340, 1, "Auto")]              // W holds 2,147,395,600 elements, just under Array.MaxLength
    [InlineData("MatMul", 1, 2147483591, 1, "Never")]
    [InlineData("MatMul<double>", 2147483591, 1, 1, "Auto")]
    [InlineData("MatMul<double>", 1000, 1000, 1000, "Auto")]
    public void LargeShapes_AreLooped_AndStayUnderTheBound(string attribute, int m, int k, int n, string mode)
    {
        string text = GenerateOne($"[{attribute}({m}, {k}, {n}, Unroll = UnrollMode.{mode})] public partial class C;");
        _output.WriteLine($"{attribute}({m}, {k}, {n}) {mode}: {text.Length:N0} chars");
        Assert.Contains("for (", text);
        Assert.InRange(text.Length, 1, LoopedBound);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(8)]
    [InlineData(64)]
    public void Networks_GrowLinearlyInTheirLayers(int hiddenLayers)
    {
        var layers = new StringBuilder("[Linear(784, 256)");
        for (int i = 0; i < hiddenLayers; i++)
        {
            layers.Append(", ReLU, Linear(256, 256)");
        }

        layers.Append(", ReLU, Linear(256, 10), SoftmaxCrossEntropy]");
        int attributes = 4 + (2 * hiddenLayers);
        int shapes = 3; // 784→256, 256→256, 256→10
        string text = GenerateOne(layers + " public partial class Net;");
        _output.WriteLine($"{attributes} layer attributes: {text.Length:N0} chars");
        Assert.InRange(text.Length, 1, NetworkBase + (NetworkPerShape * shapes) + (NetworkPerLayer * attributes));

        // One set of product shapes per layer shape, however many layers share it; the kernels themselves live in StaticGrad.Runtime.
        Assert.Equal(1, CountOf(text, "private readonly struct Linear256To256ForwardProduct "));
        Assert.Equal(hiddenLayers, CountOf(text, "Gemm.MultiplyAddBias<Linear256To256ForwardProduct, float>("));
        Assert.DoesNotContain("Vector256", text);
    }

    private static int CountOf(string text, string part)
    {
        int count = 0;
        for (int at = text.IndexOf(part, System.StringComparison.Ordinal); at >= 0; at = text.IndexOf(part, at + 1, System.StringComparison.Ordinal))
        {
            count++;
        }

        return count;
    }

    private static string GenerateOne(string declaration)
    {
        var (output, result) = TestCompilation.Generate(TestCompilation.Create("using StaticGrad;\n" + declaration));
        Assert.Empty(output.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error));
        return result.Results.Single().GeneratedSources.Single().SourceText.ToString();
    }
}
