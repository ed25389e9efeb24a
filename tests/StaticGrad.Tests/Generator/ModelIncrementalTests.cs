using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;
using StaticGrad.Generators;
using StaticGrad.Tests.Infrastructure;
using Xunit;

namespace StaticGrad.Tests.Generator;

/// <summary>Models written as C# cache like the attribute networks: unrelated edits reuse the output; an edit of a module the model uses, in another file, regenerates it.</summary>
public class ModelIncrementalTests
{
    private const string Block = """
        using StaticGrad;
        using static StaticGrad.Functional;
        namespace App;

        [Module]
        public partial class Block
        {
            readonly Conv2d conv;
            readonly BatchNorm2d bn;

            public Block(int channels)
            {
                conv = new Conv2d(channels, channels, 3, padding: 1, bias: false);
                bn = new BatchNorm2d(channels);
            }

            public Tensor Forward(Tensor x) => Relu(x + bn.Forward(conv.Forward(x)));
        }
        """;

    private const string Net = """
        using StaticGrad;
        using static StaticGrad.Functional;
        namespace App;

        [Model(Loss = Loss.SoftmaxCrossEntropy)]
        public partial class Net
        {
            readonly Conv2d stem = new(1, 4, 3, padding: 1);
            readonly Block block = new(4);
            readonly Linear head = new(4 * 4 * 4, 3);

            public Tensor Forward([Shape(1, 8, 8)] Tensor x) => head.Forward(MaxPool2d(block.Forward(Relu(stem.Forward(x))), 2).Flatten());
        }
        """;

    private const string Unrelated = "namespace App; public class Plain { public int Value; }";

    private static CSharpSyntaxTree Tree(string text, string path) => (CSharpSyntaxTree)CSharpSyntaxTree.ParseText(text, TestCompilation.ParseOptions, path: path);

    private static List<IncrementalStepRunReason> Reasons(GeneratorRunResult result, string step) =>
        result.TrackedSteps[step].SelectMany(s => s.Outputs).Select(o => o.Reason).ToList();

    [Fact]
    public void UnrelatedEdit_ModelAndModuleOutputsAreCached()
    {
        var compilation = TestCompilation.Create(Block, Net, Unrelated);
        GeneratorDriver driver = TestCompilation.CreateDriver().RunGenerators(compilation);
        Assert.Equal(2, driver.GetRunResult().GeneratedTrees.Length);

        var edited = compilation.ReplaceSyntaxTree(compilation.SyntaxTrees.Last(), Tree(Unrelated.Replace("Value", "Count"), "Source2.cs"));
        GeneratorRunResult second = driver.RunGenerators(edited).GetRunResult().Results.Single();
        foreach (string step in new[] { TrackingNames.Model, TrackingNames.Module })
        {
            List<IncrementalStepRunReason> reasons = Reasons(second, step);
            Assert.NotEmpty(reasons);
            Assert.All(reasons, r => Assert.True(r is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, $"{step}: {r}"));
        }

        Assert.All(second.TrackedOutputSteps.SelectMany(s => s.Value).SelectMany(s => s.Outputs), o => Assert.Equal(IncrementalStepRunReason.Cached, o.Reason));
    }

    [Fact]
    public void EditingAModuleInAnotherFile_RegeneratesTheModelThatUsesIt()
    {
        var compilation = TestCompilation.Create(Block, Net);
        GeneratorDriver driver = TestCompilation.CreateDriver().RunGenerators(compilation);
        string before = driver.GetRunResult().GeneratedTrees.Single(t => t.FilePath.EndsWith("App.Net.g.cs", StringComparison.Ordinal)).ToString();

        var edited = compilation.ReplaceSyntaxTree(compilation.SyntaxTrees.First(), Tree(Block.Replace("bias: false", "bias: true"), "Source0.cs"));
        driver = driver.RunGenerators(edited);
        GeneratorRunResult second = driver.GetRunResult().Results.Single();
        Assert.Contains(IncrementalStepRunReason.Modified, Reasons(second, TrackingNames.Model));
        string after = second.GeneratedSources.Single(s => s.HintName == "App.Net.g.cs").SourceText.ToString();
        Assert.DoesNotContain("block.conv.bias", before, StringComparison.Ordinal);
        Assert.Contains("block.conv.bias", after, StringComparison.Ordinal);
    }

    [Fact]
    public void ModelPipelineValues_HoldNoSymbolsSyntaxOrCompilations()
    {
        GeneratorRunResult result = TestCompilation.CreateDriver().RunGenerators(TestCompilation.Create(Block, Net)).GetRunResult().Results.Single();
        int inspected = 0;
        foreach (string step in new[] { TrackingNames.Model, TrackingNames.Module })
        {
            foreach (var output in result.TrackedSteps[step].SelectMany(s => s.Outputs))
            {
                IncrementalTests.AssertPlainValues(output.Value, step, new HashSet<object>(ReferenceEqualityComparer.Instance));
                inspected++;
            }
        }

        Assert.Equal(2, inspected);
    }

    [Fact]
    public async System.Threading.Tasks.Task TheAnalyzer_OnACompilationWithTheGeneratedCode_StillChecksModels()
    {
        // As in the IDE and in a build: the analyzer sees the generated partials, so Block and Net derive from StaticGrad.Module.
        var (output, _) = TestCompilation.Generate(TestCompilation.Create(Block, Net));
        var analyzers = System.Collections.Immutable.ImmutableArray.Create<Microsoft.CodeAnalysis.Diagnostics.DiagnosticAnalyzer>(new StaticGradAnalyzer());
        Assert.Empty(await output.WithAnalyzers(analyzers).GetAnalyzerDiagnosticsAsync());

        const string Broken = """
            using StaticGrad;
            namespace App;

            [Model]
            public partial class Broken
            {
                readonly Block block = new(4);

                public Tensor Forward([Shape(2, 8, 8)] Tensor x) => block.Forward(x);
            }
            """;
        var withBroken = output.AddSyntaxTrees(Tree(Broken, "Broken.cs"));
        var diagnostics = await withBroken.WithAnalyzers(analyzers).GetAnalyzerDiagnosticsAsync();
        Diagnostic error = Assert.Single(diagnostics);
        Assert.Equal("SGR0021", error.Id);
        Assert.Contains("Conv2d(4, 4, 3, padding: 1, bias: false) expects 4 channels, but receives 2×8×8", error.GetMessage(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal);
    }

    [Fact]
    public void TheGeneratedModel_CompilesWithoutWarnings()
    {
        var (output, _) = TestCompilation.Generate(TestCompilation.Create(Block, Net));
        Assert.Empty(TestCompilation.ErrorsAndWarnings(output));
    }
}
