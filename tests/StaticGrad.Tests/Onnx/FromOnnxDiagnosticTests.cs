using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Microsoft.CodeAnalysis;
using StaticGrad.Generators.Parsing.Onnx;
using Xunit;

namespace StaticGrad.Tests.Onnx;

/// <summary>
/// Every way a [FromOnnx] file can be wrong is an error on the attribute's path argument that names the file (and the node),
/// from the analyzer; the generator then writes nothing for the class and never throws (which would be CS8785).
/// </summary>
[Collection(nameof(OnnxReaderCacheTests))] // the generator reads through the process-wide cache, whose counters those tests check
public sealed class FromOnnxDiagnosticTests
{
    private const string Source = """
        using StaticGrad;

        [FromOnnx("models/m.onnx", Loss = Loss.SoftmaxCrossEntropy)]
        public partial class Imported;
        """;

    private static byte[] Mlp => System.IO.File.ReadAllBytes(FromOnnxHarness.GoldenPath("mlp.opset13.onnx"));

    /// <summary>The one diagnostic, on the path argument, with the id and every fragment; the generator writes nothing and does not throw.</summary>
    private static Diagnostic Expect(string id, AdditionalText[] files, params string[] fragments)
    {
        IReadOnlyList<Diagnostic> diagnostics = FromOnnxHarness.Analyze(Source, files);
        Diagnostic diagnostic = Assert.Single(diagnostics, d => d.Severity == DiagnosticSeverity.Error);
        Assert.Equal(id, diagnostic.Id);
        Assert.Equal("\"models/m.onnx\"", diagnostic.Location.SourceTree!.ToString().Substring(diagnostic.Location.SourceSpan.Start, diagnostic.Location.SourceSpan.Length));
        Assert.Equal(2, diagnostic.Location.GetLineSpan().StartLinePosition.Line);
        foreach (string fragment in fragments)
        {
            Assert.True(diagnostic.GetMessage().Contains(fragment, StringComparison.Ordinal), $"'{fragment}' is not in: {diagnostic.GetMessage()}");
        }

        var (_, result, generatorDiagnostics) = FromOnnxHarness.Generate(Source, files);
        Assert.Empty(generatorDiagnostics);
        Assert.Null(result.Results[0].Exception);
        Assert.Empty(result.GeneratedTrees);
        return diagnostic;
    }

    private static AdditionalText[] File(byte[] bytes) => new[] { FromOnnxHarness.Copy("models/m.onnx", bytes) };

    /// <summary>x[batch, 4] → <paramref name="nodes"/> → y, with w[3, 4] and b[3] as initializers.</summary>
    private static byte[] Model(OnnxWire nodes, object[]? inputDims = null, long opset = 13, string output = "y")
    {
        OnnxWire graph = nodes
            .String(2, "g")
            .Message(5, OnnxWire.FloatTensor("fc.weight", new long[] { 3, 4 }, new float[12]))
            .Message(5, OnnxWire.FloatTensor("fc.bias", new long[] { 3 }, new float[3]))
            .Message(11, OnnxWire.ValueInfo("x", inputDims ?? new object[] { "batch", 4 }))
            .Message(12, OnnxWire.ValueInfo(output, "batch", 3));
        return OnnxWire.Model(graph, opset).ToArray();
    }

    private static OnnxWire Gemm(string input, string output, string weight = "fc.weight") =>
        OnnxWire.Node("/fc/Gemm", "Gemm", new[] { input, weight, "fc.bias" }, new[] { output }, new OnnxWire().String(1, "transB").Varint(20, 2).Varint(3, 1));

    [Fact]
    public void Valid_SmallModel_HasNoDiagnostic_AndGeneratesTheModel()
    {
        byte[] bytes = Model(new OnnxWire().Message(1, Gemm("x", "h")).Message(1, OnnxWire.Node("/Relu", "Relu", new[] { "h" }, new[] { "y" })));
        Assert.Empty(FromOnnxHarness.Analyze(Source, File(bytes)));
        var (_, result, _) = FromOnnxHarness.Generate(Source, File(bytes));
        Assert.Equal(2, result.GeneratedTrees.Length);
    }

    [Fact]
    public void NotAnAdditionalFile_SaysHowToAddIt() =>
        Expect("SGR0025", Array.Empty<AdditionalText>(), "'models/m.onnx' is not an AdditionalFiles item", "<AdditionalFiles Include=\"models/m.onnx\" />");

    [Fact]
    public void BinaryAdditionalFileWithoutTheTargets_SaysTheTargetsConvertIt() =>
        Expect("SGR0025", new AdditionalText[] { new FromOnnxHarness.MemoryText("/project/models/m.onnx", "\u0008\u0007") }, "build/StaticGrad.targets");

    [Fact]
    public void AnotherFile_DoesNotMatch() =>
        Expect("SGR0025", new[] { FromOnnxHarness.Copy("models/other.onnx", Mlp) }, "not an AdditionalFiles item");

    [Fact]
    public void NotOnnx_IsSgr0026() =>
        Expect("SGR0026", File(System.Text.Encoding.UTF8.GetBytes("<html>not a model</html>")), "'models/m.onnx' cannot be read as ONNX");

    [Fact]
    public void Truncated_IsSgr0026_WithTheByteOffset() =>
        Expect("SGR0026", File(Mlp.Take(Mlp.Length / 2).ToArray()), "'models/m.onnx' cannot be read as ONNX", "the file is truncated", "(at byte ");

    [Fact]
    public void DamagedTextCopy_IsSgr0026() =>
        Expect("SGR0026", new AdditionalText[] { new FromOnnxHarness.MemoryText("/project/obj/m.0.onnx.b64", "StaticGrad ONNX as base64, version 1\npath: models/m.onnx\nfull: /project/models/m.onnx\n@@@@\n") }, "not valid base64");

    [Fact]
    public void TooLargeTensor_IsSgr0026() =>
        Expect("SGR0026", File(OnnxWire.Model(new OnnxWire()
            .Message(1, OnnxWire.Node("n", "Relu", new[] { "x" }, new[] { "y" }))
            .Message(5, OnnxWire.FloatTensor("fc1.weight", new long[] { 1 << 20, 1 << 20 }, new float[] { 1 }))
            .Message(11, OnnxWire.ValueInfo("x", "batch", 3))
            .Message(12, OnnxWire.ValueInfo("y", "batch", 3))).ToArray()), "tensor 'fc1.weight' has 2^40 elements");

    [Fact]
    public void UnsupportedOperator_NamesNodeOpTypeOpset_AndTheSupportedOnes()
    {
        Diagnostic d = Expect("SGR0027", File(Model(new OnnxWire().Message(1, Gemm("x", "h")).Message(1, OnnxWire.Node("/act/Erf", "Erf", new[] { "h" }, new[] { "y" })), opset: 17)),
            "'models/m.onnx'", "node '/act/Erf' (Erf)", "the operator Erf (opset 17) is not supported", "Gemm", "Conv", "BatchNormalization", "Relu", "Reshape");
        Assert.Contains(OnnxImporter.SupportedOperators, d.GetMessage());
    }

    [Fact]
    public void UnsupportedAttribute_NamesTheNodeAndWhy() =>
        Expect("SGR0027", File(Model(new OnnxWire().Message(1, OnnxWire.Node("/fc/Gemm", "Gemm", new[] { "x", "fc.weight", "fc.bias" }, new[] { "y" },
            new OnnxWire().String(1, "transB").Varint(20, 2).Varint(3, 1), new OnnxWire().String(1, "transA").Varint(20, 2).Varint(3, 1))))), "node '/fc/Gemm' (Gemm)", "transA = 1");

    [Fact]
    public void NonStaticDimension_IsSgr0027() =>
        Expect("SGR0027", File(Model(new OnnxWire().Message(1, Gemm("x", "y")), inputDims: new object[] { "batch", "features" })), "dimension 1 of the graph input 'x' is 'features', not a number");

    [Fact]
    public void MissingInitializer_NamesTheValue() =>
        Expect("SGR0026", File(Model(new OnnxWire().Message(1, Gemm("x", "y", weight: "fc.missing")))), "'fc.missing'");

    [Fact]
    public void Cycle_IsSgr0026() =>
        Expect("SGR0026", File(Model(new OnnxWire()
            .Message(1, OnnxWire.Node("a", "Relu", new[] { "y" }, new[] { "h" }))
            .Message(1, OnnxWire.Node("b", "Relu", new[] { "h" }, new[] { "y" })))), "cycle");

    [Fact]
    public void ShapeMismatch_NamesTheNode() =>
        Expect("SGR0027", File(Model(new OnnxWire().Message(1, Gemm("x", "y")), inputDims: new object[] { "batch", 5 })), "node '/fc/Gemm' (Gemm)", "Linear(4, 3) expects 4 features, but receives 5");

    [Fact]
    public void OutputThatNamesNothing_ListsTheNodes()
    {
        const string source = """
            using StaticGrad;

            [FromOnnx("models/m.onnx", Output = "/fc9/Gemm")]
            public partial class Imported;
            """;
        Diagnostic d = Assert.Single(FromOnnxHarness.Analyze(source, File(Mlp)));
        Assert.Equal("SGR0027", d.Id);
        Assert.Contains("Output = \"/fc9/Gemm\" names no value or node of the graph; its nodes are /fc1/Gemm, /Relu, /fc2/Gemm", d.GetMessage());
    }

    [Fact]
    public void Output_LeavesOutWhatComesAfter_EvenAnOperatorThatDoesNotImport()
    {
        const string source = """
            using StaticGrad;

            [FromOnnx("models/m.onnx", Output = "h")]
            public partial class Imported;
            """;
        byte[] bytes = Model(new OnnxWire().Message(1, Gemm("x", "h")).Message(1, OnnxWire.Node("/act/Erf", "Erf", new[] { "h" }, new[] { "y" })));
        Assert.Empty(FromOnnxHarness.Analyze(source, File(bytes)));
    }

    [Fact]
    public void FreezeWithoutAHead_IsSgr0024_OnFreeze()
    {
        const string source = """
            using StaticGrad;

            [FromOnnx("models/m.onnx", Freeze = true)]
            public partial class Imported;
            """;
        Diagnostic d = Assert.Single(FromOnnxHarness.Analyze(source, File(Mlp)));
        Assert.Equal("SGR0024", d.Id);
        Assert.Equal("Freeze = true", d.Location.SourceTree!.ToString().Substring(d.Location.SourceSpan.Start, d.Location.SourceSpan.Length));
        Assert.Contains("add Head = <outputs>", d.GetMessage());
    }

    [Fact]
    public void TokenIdsReadAsNumbers_IsSgr0027()
    {
        var ids = new OnnxWire().String(1, "ids").Message(2, new OnnxWire().Message(1, new OnnxWire().Varint(1, 7)
            .Message(2, new OnnxWire().Message(1, new OnnxWire().String(2, "batch")).Message(1, new OnnxWire().Varint(1, 4)))));
        byte[] bytes = OnnxWire.Model(new OnnxWire()
            .Message(1, OnnxWire.Node("/Relu", "Relu", new[] { "ids" }, new[] { "y" }))
            .Message(11, ids)
            .Message(12, OnnxWire.ValueInfo("y", "batch", 4))).ToArray();
        Expect("SGR0027", File(bytes), "node '/Relu' (Relu)", "reads the token ids 'ids' as numbers");
    }

    [Fact]
    public void LossThatDoesNotFit_IsOnThePath()
    {
        const string source = """
            using StaticGrad;

            [FromOnnx("models/m.onnx", Loss = Loss.SoftmaxCrossEntropy)]
            public partial class Imported;
            """;
        byte[] bytes = OnnxWire.Model(new OnnxWire()
            .Message(1, OnnxWire.Node("/fc/Gemm", "Gemm", new[] { "x", "w", "b" }, new[] { "y" }, new OnnxWire().String(1, "transB").Varint(20, 2).Varint(3, 1)))
            .Message(5, OnnxWire.FloatTensor("w", new long[] { 1, 4 }, new float[4]))
            .Message(5, OnnxWire.FloatTensor("b", new long[] { 1 }, new float[1]))
            .Message(11, OnnxWire.ValueInfo("x", "batch", 4))
            .Message(12, OnnxWire.ValueInfo("y", "batch", 1))).ToArray();
        Diagnostic d = Assert.Single(FromOnnxHarness.Analyze(source, File(bytes)));
        Assert.Equal("SGR0021", d.Id);
        Assert.Contains("SoftmaxCrossEntropy needs one score per class", d.GetMessage());
    }

    [Fact]
    public void ModelAndFromOnnx_OnOneClass_IsSgr0024()
    {
        const string source = """
            using StaticGrad;

            [Model, FromOnnx("models/m.onnx")]
            public partial class Imported { public Tensor Forward([Shape(4)] Tensor x) => x; }
            """;
        Assert.Contains(FromOnnxHarness.Analyze(source, File(Mlp)), d => d.Id == "SGR0024" && d.GetMessage().Contains("[FromOnnx] and [Model]"));
    }

    [Fact]
    public void NotPartial_IsSgr0002()
    {
        const string source = """
            using StaticGrad;

            [FromOnnx("models/m.onnx")]
            public class Imported { }
            """;
        Assert.Contains(FromOnnxHarness.Analyze(source, File(Mlp)), d => d.Id == "SGR0002");
    }

    /// <summary>
    /// Random damage to a real file (bytes changed, cut short, spliced) through the whole pipeline: the generator never throws,
    /// and the analyzer reports at most one [FromOnnx] error, on the path.
    /// </summary>
    [Fact]
    public void DamagedFiles_NeverThrow_AndReportOnThePath()
    {
        byte[] original = System.IO.File.ReadAllBytes(FromOnnxHarness.GoldenPath("cnn.opset13.onnx"));
        var random = new Random(20);
        for (int trial = 0; trial < 120; trial++)
        {
            byte[] bytes = (byte[])original.Clone();
            switch (trial % 3)
            {
                case 0:
                    for (int k = 0; k < 1 + random.Next(8); k++)
                    {
                        bytes[random.Next(bytes.Length)] = (byte)random.Next(256);
                    }

                    break;
                case 1:
                    bytes = bytes.Take(random.Next(bytes.Length)).ToArray();
                    break;
                default:
                    int at = random.Next(bytes.Length), length = random.Next(1, 64);
                    bytes = bytes.Take(at).Concat(bytes.Skip(Math.Min(bytes.Length, at + length))).ToArray();
                    break;
            }

            var (_, result, generatorDiagnostics) = FromOnnxHarness.Generate(Source, File(bytes));
            Assert.True(generatorDiagnostics.IsEmpty, $"trial {trial}: {string.Join(", ", generatorDiagnostics)}");
            Assert.Null(result.Results[0].Exception);
            IReadOnlyList<Diagnostic> diagnostics = FromOnnxHarness.Analyze(Source, File(bytes));
            Assert.True(diagnostics.Count <= 1, $"trial {trial}: {string.Join(", ", diagnostics)}");
            Assert.All(diagnostics, d => Assert.Equal(2, d.Location.GetLineSpan().StartLinePosition.Line));
            Assert.Equal(diagnostics.Count == 0 ? 2 : 0, result.GeneratedTrees.Length);
        }
    }
}
