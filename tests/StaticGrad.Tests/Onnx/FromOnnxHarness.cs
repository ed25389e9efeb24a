using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Runtime.Loader;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Text;
using StaticGrad.Generators;
using StaticGrad.Generators.Onnx;
using StaticGrad.Tests.Infrastructure;

namespace StaticGrad.Tests.Onnx;

/// <summary>
/// Runs the generator and the analyzer on a source with ONNX files given as the build targets give them (text copies under
/// obj/, see src/StaticGrad/build/StaticGrad.targets), and loads what compiles.
/// </summary>
internal static class FromOnnxHarness
{
    /// <summary>An additional file in memory.</summary>
    public sealed class MemoryText(string path, string text) : AdditionalText
    {
        public override string Path { get; } = path;

        public override SourceText GetText(CancellationToken cancellationToken = default) => SourceText.From(text);
    }

    /// <summary>The copy the build targets write for the item <paramref name="item"/> with <paramref name="bytes"/>.</summary>
    public static AdditionalText Copy(string item, byte[] bytes) =>
        new MemoryText($"/project/obj/Debug/net8.0/staticgrad/{System.IO.Path.GetFileName(item)}.0000.onnx.b64", OnnxAdditionalFile.Format(item, "/project/" + item, bytes));

    public static string GoldenPath(string file) => System.IO.Path.Combine(AppContext.BaseDirectory, "Onnx", "Golden", file);

    public static (Compilation Output, GeneratorDriverRunResult Result, ImmutableArray<Diagnostic> GeneratorDiagnostics) Generate(string source, params AdditionalText[] files)
    {
        CSharpCompilation input = TestCompilation.Create(source);
        GeneratorDriver driver = TestCompilation.CreateDriver().AddAdditionalTexts(files.ToImmutableArray());
        driver = driver.RunGeneratorsAndUpdateCompilation(input, out Compilation output, out ImmutableArray<Diagnostic> diagnostics);
        return (output, driver.GetRunResult(), diagnostics);
    }

    /// <summary>The analyzer's diagnostics on the source (with the additional files).</summary>
    public static IReadOnlyList<Diagnostic> Analyze(string source, params AdditionalText[] files)
    {
        CSharpCompilation input = TestCompilation.Create(source);
        var options = new AnalyzerOptions(files.ToImmutableArray());
        var analyzers = new CompilationWithAnalyzers(input, ImmutableArray.Create<DiagnosticAnalyzer>(new StaticGradAnalyzer()), options);
        return analyzers.GetAnalyzerDiagnosticsAsync().GetAwaiter().GetResult();
    }

    /// <summary>Generates, compiles (failing on any error or warning) and loads the assembly.</summary>
    public static Assembly Load(string source, params AdditionalText[] files)
    {
        (Compilation output, _, ImmutableArray<Diagnostic> generatorDiagnostics) = Generate(source, files);
        if (!generatorDiagnostics.IsEmpty)
        {
            throw new InvalidOperationException("generator diagnostics: " + TestCompilation.Describe(generatorDiagnostics));
        }

        var image = new MemoryStream();
        var emit = output.Emit(image);
        if (!emit.Success || TestCompilation.ErrorsAndWarnings(output).Count > 0)
        {
            throw new InvalidOperationException("the generated code does not compile cleanly:\n" + TestCompilation.Describe(TestCompilation.ErrorsAndWarnings(output)));
        }

        image.Position = 0;
        var context = new AssemblyLoadContext("FromOnnx" + Guid.NewGuid().ToString("N"), isCollectible: true);
        return context.LoadFromStream(image);
    }
}
