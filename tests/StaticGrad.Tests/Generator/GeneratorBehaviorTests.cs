using System;
using System.IO;
using System.Linq;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;
using StaticGrad.Generators;
using StaticGrad.Tests.Infrastructure;
using Xunit;

namespace StaticGrad.Tests.Generator;

/// <summary>What the generator writes or refuses to write, beyond the snapshots.</summary>
public class GeneratorBehaviorTests
{
    [Theory]
    [InlineData("[MatMul(5, 0, 3)] public partial class C;")]
    [InlineData("[MatMul(5, 10, 3)] public class C { }")]
    [InlineData("[MatMul(100000, 100000, 1)] public partial class C;")]
    [InlineData("[MatMul(1, 2, 3)] file partial class C;")]
    [InlineData("[MatMul(1, 2, 3)] public partial class C { public int N; }")]
    [InlineData("[MatMul<int>(1, 2, 3)] public partial class C;")]
    [InlineData("[MatMul(1, 2, 3)][MatMul<double>(1, 2, 3)] public partial class C;")]
    [InlineData("public class Outer { [MatMul(1, 2, 3)] public partial class C; }")]
    public void InvalidInput_GeneratesNothing(string declaration)
    {
        var (_, result) = TestCompilation.Generate(TestCompilation.Create("using StaticGrad;\n" + declaration));
        Assert.Empty(result.Results.Single().GeneratedSources);
        Assert.Null(result.Results.Single().Exception);
    }

    [Theory]
    [InlineData("[MatMul(1, 2)] public partial class C;")]
    [InlineData("[MatMul(1, 2, \"3\")] public partial class C;")]
    [InlineData("[MatMul(1, 2, Missing.Value)] public partial class C;")]
    [InlineData("[MatMul<Missing>(1, 2, 3)] public partial class C;")]
    [InlineData("[MatMul(1, 2, 3)] public partial interface I;")]
    [InlineData("[MatMul(1, 2, 3)] public partial class")]
    [InlineData("[MatMul(int.MaxValue, int.MaxValue, int.MaxValue)] public partial class C;")]
    public void BrokenCode_NeverThrows_AndGeneratesNothing(string declaration)
    {
        // Generate() fails the test if the generator reports anything of its own (CS8785 when it throws).
        var (_, result) = TestCompilation.Generate(TestCompilation.Create("using StaticGrad;\n" + declaration));
        Assert.Null(result.Results.Single().Exception);
        Assert.Empty(result.Results.Single().GeneratedSources);
    }

    /// <summary>
    /// An exception inside an emitter (a bug) becomes error SGR0028 naming the type and the exception, and that type gets no
    /// file, instead of the compiler's warning CS8785; the other types of the compilation get their code as before.
    /// </summary>
    [Fact]
    public void AnEmitterThatThrows_IsReportedAsSgr0028_AndTheOtherTypesStillGetTheirCode()
    {
        const string source = """
            using StaticGrad;

            namespace Guard;

            [Linear(4, 3), SoftmaxCrossEntropy] public partial class Explodes;
            [Linear(4, 3), SoftmaxCrossEntropy] public partial class Survives;
            [MatMul(2, 3, 4)] public partial class AlsoExplodes;
            """;
        EmitGuard.BeforeEmitForTests = name =>
        {
            if (name is "Guard.Explodes" or "Guard.AlsoExplodes")
            {
                throw new InvalidOperationException("a value was read before it was written");
            }
        };
        try
        {
            GeneratorDriver driver = TestCompilation.CreateDriver().RunGeneratorsAndUpdateCompilation(TestCompilation.Create(source), out _, out var diagnostics);
            GeneratorRunResult run = driver.GetRunResult().Results.Single();
            Assert.Null(run.Exception);
            Assert.Equal(2, diagnostics.Length);
            Assert.All(diagnostics, d => Assert.Equal(("SGR0028", DiagnosticSeverity.Error), (d.Id, d.Severity)));
            string message = diagnostics.Single(d => d.GetMessage().Contains("'Guard.Explodes'", StringComparison.Ordinal)).GetMessage();
            Assert.Contains("InvalidOperationException: a value was read before it was written", message);
            Assert.Contains("bug in StaticGrad", message);
            Assert.Contains(diagnostics, d => d.GetMessage().Contains("'Guard.AlsoExplodes'", StringComparison.Ordinal));
            Assert.Equal(new[] { "Guard.Survives.g.cs" }, run.GeneratedSources.Select(g => g.HintName).ToArray());
        }
        finally
        {
            EmitGuard.BeforeEmitForTests = null;
        }
    }

    [Theory]
    [InlineData("float", 8, 8, 7, "Auto", true)]       // N = 7 < 8 lanes, M·K·N = 448 ≤ 512: straight-line scalar
    [InlineData("float", 8, 8, 8, "Auto", false)]      // N = 8 fills a Vector256 of floats: SIMD kernels
    [InlineData("float", 9, 9, 7, "Auto", false)]      // 567 > 512: loops
    [InlineData("double", 4, 4, 4, "Auto", false)]     // N = 4 fills a Vector256 of doubles
    [InlineData("double", 8, 8, 3, "Auto", true)]      // N = 3 < 4 lanes, 192 ≤ 512
    [InlineData("float", 1, 1, 1, "Never", false)]
    [InlineData("float", 16, 16, 16, "Always", true)]  // 4096: the Always limit
    [InlineData("float", 16, 16, 17, "Always", false)] // 4352: loops, with SGR0008
    public void UnrollRule_IsPinned(string element, int m, int k, int n, string mode, bool unrolled)
    {
        string attribute = element == "double" ? "MatMul<double>" : "MatMul";
        string source = $"using StaticGrad; [{attribute}({m}, {k}, {n}, Unroll = UnrollMode.{mode})] public partial class C;";
        var (output, result) = TestCompilation.Generate(TestCompilation.Create(source));
        string text = result.Results.Single().GeneratedSources.Single().SourceText.ToString();

        Assert.Equal(!unrolled, text.Contains("Gemm.Multiply<ForwardProduct, ", StringComparison.Ordinal));
        Assert.Contains(unrolled ? "<para>Unrolled: " : "<para>Looped", text);
        Assert.Empty(TestCompilation.ErrorsAndWarnings(output));
    }

    [Fact]
    public async Task NetworkConstructorThatChains_CompilesWithoutDiagnostics()
    {
        string source = """
            using StaticGrad;

            [Linear(4, 3), SoftmaxCrossEntropy]
            public partial class Net
            {
                public Net(string name) : this(seed: 7, maxBatchSize: 8) { Name = name; }
                public string Name { get; }
            }
            """;
        var (output, _) = TestCompilation.Generate(TestCompilation.Create(source));
        var analyzerDiagnostics = await output.WithAnalyzers([new StaticGradAnalyzer()]).GetAllDiagnosticsAsync();
        var problems = analyzerDiagnostics.Where(d => d.Severity >= DiagnosticSeverity.Warning).ToList();
        Assert.True(problems.Count == 0, TestCompilation.Describe(problems));
    }

    [Fact]
    public void CSharp73Consumer_GetsCodeWithoutNullableDirective_ThatCompiles()
    {
        var options = new CSharpParseOptions(LanguageVersion.CSharp7_3);
        var compilation = CSharpCompilation.Create(
            "Old",
            new[] { CSharpSyntaxTree.ParseText("using StaticGrad; namespace Old { [MatMul(2, 3, 4)] public partial class C { } }", options) },
            TestCompilation.References,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary));
        var driver = CSharpGeneratorDriver.Create(new[] { new StaticGradGenerator().AsSourceGenerator() }, parseOptions: options)
            .RunGeneratorsAndUpdateCompilation(compilation, out var output, out _);

        string text = driver.GetRunResult().GeneratedTrees.Single().ToString();
        Assert.DoesNotContain("#nullable", text);
        Assert.Empty(TestCompilation.ErrorsAndWarnings(output));
    }

    [Fact]
    public void TypedApi_WrongShapeIsACompileErrorAtTheCallSite()
    {
        string source = """
            using StaticGrad;

            [MatMul(5, 10, 3)]
            public partial class Scores;

            public static class Use
            {
                public static void Run()
                {
                    var w = new Scores.WMatrix();
                    var x = new Scores.XMatrix();
                    var d = new Scores.DMatrix();
                    Scores.Forward(x, w, d);
                }
            }
            """;
        var (output, _) = TestCompilation.Generate(TestCompilation.Create(source));
        var errors = output.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error).ToList();

        Assert.Contains(errors, e => e.Id == "CS1503" && e.Location.GetLineSpan().StartLinePosition.Line == 12);
    }

    [Fact]
    public void TwoAssemblies_SameShape_OneReferencingTheOther_CompileWithoutWarnings()
    {
        string library = """
            using StaticGrad;
            [assembly: System.Runtime.CompilerServices.InternalsVisibleTo("App")]
            namespace Shared { [MatMul(5, 10, 3)] public partial class Scores; [MatMul(5, 10, 3)] internal partial class Hidden; }
            """;
        var (libraryOutput, _) = TestCompilation.Generate(TestCompilation.Create("Library", TestCompilation.References, library));
        using var image = new MemoryStream();
        Assert.True(libraryOutput.Emit(image).Success);

        string app = """
            using StaticGrad;
            namespace App
            {
                [MatMul(5, 10, 3)] public partial class Scores;

                public static class Use
                {
                    public static void Run(float[] w, float[] x, float[] d)
                    {
                        Scores.Forward(w, x, d);
                        Shared.Scores.Forward(w, x, d);
                        Shared.Hidden.Forward(new Shared.Hidden.WMatrix(), new Shared.Hidden.XMatrix(), new Shared.Hidden.DMatrix());
                    }
                }
            }
            """;
        var references = TestCompilation.References.Append(MetadataReference.CreateFromImage(image.ToArray()));
        var (appOutput, _) = TestCompilation.Generate(TestCompilation.Create("App", references, app));

        var problems = TestCompilation.ErrorsAndWarnings(appOutput);
        Assert.True(problems.Count == 0, TestCompilation.Describe(problems));
    }

    [Fact]
    public async Task SGR0010_WithoutSpan_AnalyzerReportsAtAttribute_AndGeneratorWritesNothing()
    {
        // A tiny core library without System.Span<T>, like netstandard2.0 without System.Memory.
        string corlib = """
            namespace System
            {
                public class Object { }
                public abstract class ValueType { }
                public abstract class Enum : ValueType { }
                public struct Void { }
                public struct Boolean { }
                public struct Int32 { }
                public struct Single { }
                public struct Double { }
                public sealed class String { }
                public abstract class Attribute { }
                public enum AttributeTargets { Class = 4, Struct = 8 }
                public sealed class AttributeUsageAttribute : Attribute
                {
                    public AttributeUsageAttribute(AttributeTargets validOn) { }
                    public bool AllowMultiple { get; set; }
                    public bool Inherited { get; set; }
                }
            }
            namespace StaticGrad
            {
                [System.AttributeUsage(System.AttributeTargets.Class)]
                public sealed class MatMulAttribute : System.Attribute { public MatMulAttribute(int m, int k, int n) { } }
            }
            """;
        string user = "using StaticGrad;\n[MatMul(1, 2, 3)]\npublic partial class C { }\n";
        var compilation = CSharpCompilation.Create(
            "NoSpan",
            new[] { CSharpSyntaxTree.ParseText(corlib, TestCompilation.ParseOptions), CSharpSyntaxTree.ParseText(user, TestCompilation.ParseOptions, path: "User.cs") },
            Array.Empty<MetadataReference>(),
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary));

        var diagnostics = await compilation.WithAnalyzers([new StaticGradAnalyzer()]).GetAnalyzerDiagnosticsAsync();
        var sgr0010 = Assert.Single(diagnostics, d => d.Id == "SGR0010");
        Assert.Equal("User.cs: (1,1)-(1,16)", sgr0010.Location.GetLineSpan().ToString());

        var driver = CSharpGeneratorDriver.Create(new StaticGradGenerator()).RunGenerators(compilation);
        Assert.Empty(driver.GetRunResult().GeneratedTrees);
    }
}
