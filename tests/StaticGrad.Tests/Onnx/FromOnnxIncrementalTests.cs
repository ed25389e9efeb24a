using System.Collections.Immutable;
using System.IO;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using StaticGrad.Generators;
using StaticGrad.Tests.Infrastructure;
using Xunit;

namespace StaticGrad.Tests.Onnx;

/// <summary>
/// The [FromOnnx] pipeline caches: an unrelated edit leaves the request, the files and the import Cached or Unchanged (the
/// import step does not run, so the file is neither read nor imported again) and the output Cached; another file's content
/// is Modified.
/// </summary>
[Collection(nameof(OnnxReaderCacheTests))] // the generator reads through the process-wide cache, whose counters those tests check
public sealed class FromOnnxIncrementalTests
{
    private const string Source = """
        using StaticGrad;

        [FromOnnx("models/m.onnx", Loss = Loss.SoftmaxCrossEntropy)]
        public partial class Imported;
        """;

    private static AdditionalText File(string fixture) =>
        FromOnnxHarness.Copy("models/m.onnx", System.IO.File.ReadAllBytes(FromOnnxHarness.GoldenPath(fixture)));

    [Fact]
    public void UnrelatedEdit_KeepsEveryStepCached()
    {
        CSharpCompilation compilation = TestCompilation.Create(Source, "class Plain { int value; }");
        GeneratorDriver driver = TestCompilation.CreateDriver().AddAdditionalTexts(ImmutableArray.Create(File("cnn.opset13.onnx"))).RunGenerators(compilation);
        Assert.Equal(2, driver.GetRunResult().GeneratedTrees.Length);

        var edited = compilation.ReplaceSyntaxTree(compilation.SyntaxTrees.Last(), CSharpSyntaxTree.ParseText("class Plain { int count; }", TestCompilation.ParseOptions, path: "Source1.cs"));
        GeneratorRunResult second = driver.RunGenerators(edited).GetRunResult().Results.Single();
        foreach (string step in new[] { TrackingNames.FromOnnx, TrackingNames.OnnxFiles, TrackingNames.OnnxImport })
        {
            var reasons = second.TrackedSteps[step].SelectMany(s => s.Outputs).Select(o => o.Reason).ToList();
            Assert.NotEmpty(reasons);
            Assert.All(reasons, r => Assert.True(r is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, $"{step}: {r}"));
        }

        var outputs = second.TrackedOutputSteps.SelectMany(s => s.Value).SelectMany(s => s.Outputs).Select(o => o.Reason).ToList();
        Assert.Equal(IncrementalStepRunReason.Cached, Assert.Single(outputs)); // one output step writes both files
    }

    [Fact]
    public void PipelineValues_HoldNoSymbolsSyntaxOrCompilations()
    {
        GeneratorRunResult result = TestCompilation.CreateDriver().AddAdditionalTexts(ImmutableArray.Create(File("cnn.opset13.onnx")))
            .RunGenerators(TestCompilation.Create(Source)).GetRunResult().Results.Single();
        int inspected = 0;
        foreach (string step in new[] { TrackingNames.FromOnnx, TrackingNames.OnnxImport })
        {
            foreach (var output in result.TrackedSteps[step].SelectMany(s => s.Outputs))
            {
                Generator.IncrementalTests.AssertPlainValues(output.Value, step, new System.Collections.Generic.HashSet<object>(System.Collections.Generic.ReferenceEqualityComparer.Instance));
                inspected++;
            }
        }

        Assert.Equal(2, inspected);
    }

    [Fact]
    public void OtherFileContent_IsModified()
    {
        CSharpCompilation compilation = TestCompilation.Create(Source);
        AdditionalText first = File("cnn.opset13.onnx");
        GeneratorDriver driver = TestCompilation.CreateDriver().AddAdditionalTexts(ImmutableArray.Create(first)).RunGenerators(compilation);
        driver = driver.ReplaceAdditionalText(first, File("mlp.opset13.onnx"));
        GeneratorRunResult second = driver.RunGenerators(compilation).GetRunResult().Results.Single();
        var reasons = second.TrackedSteps[TrackingNames.OnnxImport].SelectMany(s => s.Outputs).Select(o => o.Reason).ToList();
        Assert.Contains(IncrementalStepRunReason.Modified, reasons);
        Assert.Contains("fc1, Linear(64, 32)", second.GeneratedSources[0].SourceText.ToString());
    }
}
