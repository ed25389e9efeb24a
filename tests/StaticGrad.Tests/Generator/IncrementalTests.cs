using System;
using System.Collections;
using System.Collections.Generic;
using System.Linq;
using System.Reflection;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using StaticGrad.Generators;
using StaticGrad.Tests.Infrastructure;
using Xunit;

namespace StaticGrad.Tests.Generator;

/// <summary>The pipeline caches: unrelated edits reuse every output, an attribute edit recomputes only its type.</summary>
public class IncrementalTests
{
    private const string Annotated = """
        using StaticGrad;
        namespace App;
        [MatMul(5, 10, 3)] public partial class Scores;
        [MatMul<double>(2, 3, 4)] public partial class Other;
        [Linear(4, 8), ReLU, Linear(8, 3), SoftmaxCrossEntropy] public partial class Net;
        """;

    private const string Unrelated = "namespace App; public class Plain { public int Value; }";

    [Fact]
    public void UnrelatedEdit_EveryOutputCachedOrUnchanged()
    {
        var compilation = TestCompilation.Create(Annotated, Unrelated);
        GeneratorDriver driver = TestCompilation.CreateDriver().RunGenerators(compilation);

        // Edit the unrelated file and add a new one.
        var edited = compilation
            .ReplaceSyntaxTree(compilation.SyntaxTrees.Last(), CSharpSyntaxTree.ParseText(Unrelated.Replace("Value", "Count"), TestCompilation.ParseOptions, path: "Source1.cs"))
            .AddSyntaxTrees(CSharpSyntaxTree.ParseText("namespace App; class Added { }", TestCompilation.ParseOptions, path: "Added.cs"));
        GeneratorRunResult second = driver.RunGenerators(edited).GetRunResult().Results.Single();

        foreach (string step in new[] { TrackingNames.MatMulFloat, TrackingNames.MatMulGeneric, TrackingNames.NetworkFloat })
        {
            var reasons = second.TrackedSteps[step].SelectMany(s => s.Outputs).Select(o => o.Reason).ToList();
            Assert.NotEmpty(reasons);
            Assert.All(reasons, r => Assert.True(r is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, $"{step}: {r}"));
        }

        var outputReasons = second.TrackedOutputSteps.SelectMany(s => s.Value).SelectMany(s => s.Outputs).Select(o => o.Reason).ToList();
        Assert.Equal(3, outputReasons.Count);
        Assert.All(outputReasons, r => Assert.Equal(IncrementalStepRunReason.Cached, r));
    }

    [Fact]
    public void AttributeArgumentEdit_IsModified_AndOnlyThatOutputChanges()
    {
        var compilation = TestCompilation.Create(Annotated);
        GeneratorDriver driver = TestCompilation.CreateDriver().RunGenerators(compilation);
        string before = driver.GetRunResult().GeneratedTrees.Single(t => t.FilePath.EndsWith("App.Scores.g.cs", StringComparison.Ordinal)).ToString();

        var edited = compilation.ReplaceSyntaxTree(
            compilation.SyntaxTrees.Single(),
            CSharpSyntaxTree.ParseText(Annotated.Replace("MatMul(5, 10, 3)", "MatMul(5, 11, 3)"), TestCompilation.ParseOptions, path: "Source0.cs"));
        driver = driver.RunGenerators(edited);
        GeneratorRunResult second = driver.GetRunResult().Results.Single();

        var floatReasons = second.TrackedSteps[TrackingNames.MatMulFloat].SelectMany(s => s.Outputs).Select(o => o.Reason).ToList();
        Assert.Contains(IncrementalStepRunReason.Modified, floatReasons);
        var genericReasons = second.TrackedSteps[TrackingNames.MatMulGeneric].SelectMany(s => s.Outputs).Select(o => o.Reason).ToList();
        Assert.All(genericReasons, r => Assert.True(r is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, r.ToString()));

        string after = second.GeneratedSources.Single(s => s.HintName == "App.Scores.g.cs").SourceText.ToString();
        Assert.NotEqual(before, after);
        Assert.Contains("public const int K = 11;", after);
    }

    [Fact]
    public void PipelineModels_HoldNoSymbolsSyntaxOrCompilations()
    {
        var compilation = TestCompilation.Create(Annotated);
        GeneratorRunResult result = TestCompilation.CreateDriver().RunGenerators(compilation).GetRunResult().Results.Single();

        int inspected = 0;
        foreach (string step in new[] { TrackingNames.MatMulFloat, TrackingNames.MatMulGeneric, TrackingNames.NetworkFloat })
        {
            foreach (var output in result.TrackedSteps[step].SelectMany(s => s.Outputs))
            {
                AssertPlainValues(output.Value, step, new HashSet<object>(ReferenceEqualityComparer.Instance));
                inspected++;
            }
        }

        Assert.Equal(3, inspected);
    }

    [Fact]
    public void ModelCheck_CanFail()
    {
        // The walker must find a symbol buried in a model-like object, or the test above proves nothing.
        var symbol = TestCompilation.Create(Annotated).GetTypeByMetadataName("App.Scores")!;
        var holder = new { Name = "x", Inner = new List<object> { 1, symbol } };
        Assert.ThrowsAny<Exception>(() => AssertPlainValues(holder, "test", new HashSet<object>(ReferenceEqualityComparer.Instance)));
    }

    internal static void AssertPlainValues(object? value, string path, HashSet<object> seen)
    {
        if (value is null || value is string || value.GetType().IsPrimitive || value.GetType().IsEnum)
        {
            return;
        }

        Assert.False(
            value is ISymbol or SyntaxNode or Compilation or SemanticModel or SyntaxTree or Location,
            $"{path} holds a {value.GetType().Name}; models must be plain values so the pipeline can cache.");

        if (!value.GetType().IsValueType && !seen.Add(value))
        {
            return;
        }

        if (value is IEnumerable sequence)
        {
            int i = 0;
            foreach (object? item in sequence)
            {
                AssertPlainValues(item, $"{path}[{i++}]", seen);
            }
        }

        foreach (FieldInfo field in value.GetType().GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic))
        {
            AssertPlainValues(field.GetValue(value), $"{path}.{field.Name}", seen);
        }
    }

    [Theory]
    [InlineData("public partial class Scores { public int K; }")]            // a member in another partial file
    [InlineData("public class Base { public int K; }")]                        // a member of the base class, in another file
    public void CollisionAddedInAnotherFile_TakesTheGeneratedCodeAway(string edit)
    {
        var compilation = TestCompilation.Create(
            "using StaticGrad;\n[MatMul(5, 10, 3)] public partial class Scores : Base;",
            "public partial class Scores { }",
            "public class Base { }");
        GeneratorDriver driver = TestCompilation.CreateDriver().RunGenerators(compilation);
        Assert.Single(driver.GetRunResult().GeneratedTrees);

        // Only the other file changes; the annotated file is untouched.
        int index = edit.Contains("Base {", StringComparison.Ordinal) ? 2 : 1;
        var edited = compilation.ReplaceSyntaxTree(
            compilation.SyntaxTrees.ElementAt(index),
            CSharpSyntaxTree.ParseText(edit, TestCompilation.ParseOptions, path: $"Source{index}.cs"));
        driver = driver.RunGeneratorsAndUpdateCompilation(edited, out Compilation output, out _);

        // The generator sees the new member as the analyzer does: no code, so no CS0102 or CS0108 inside generated code.
        Assert.Empty(driver.GetRunResult().GeneratedTrees);
        Assert.DoesNotContain(output.GetDiagnostics(), d => d.Severity >= DiagnosticSeverity.Warning);
    }
}
