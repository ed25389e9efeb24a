using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using StaticGrad.Generators;

namespace StaticGrad.Tests.Infrastructure;

/// <summary>Builds in-memory compilations against .NET 8 reference assemblies and runs StaticGrad's generator on them.</summary>
internal static class TestCompilation
{
    public static readonly CSharpParseOptions ParseOptions = new(LanguageVersion.CSharp12);

    /// <summary>.NET 8 reference assemblies plus StaticGrad.Attributes and StaticGrad.Runtime, as the package gives a .NET 8+ project.</summary>
    public static IReadOnlyList<MetadataReference> References { get; } =
        Basic.Reference.Assemblies.Net80.References.All.Cast<MetadataReference>()
            .Append(MetadataReference.CreateFromFile(typeof(MatMulAttribute).Assembly.Location))
            .Append(MetadataReference.CreateFromFile(typeof(StaticGrad.Kernels.Gemm).Assembly.Location))
            .ToArray();

    /// <summary>
    /// netstandard2.0 reference assemblies plus System.Memory (for Span) and StaticGrad.Attributes: a target without
    /// Vector256, public MathF or BitConverter.SingleToInt32Bits, where StaticGrad writes its plain code.
    /// </summary>
    public static IReadOnlyList<MetadataReference> NetStandard20References => LazyNetStandard20.Value;

    private static readonly Lazy<IReadOnlyList<MetadataReference>> LazyNetStandard20 = new(() =>
        System.IO.Directory.GetFiles(System.IO.Path.Combine(AppContext.BaseDirectory, "refs", "netstandard2.0"), "*.dll")
            .Select(path => (MetadataReference)MetadataReference.CreateFromFile(path))
            .Append(MetadataReference.CreateFromFile(typeof(MatMulAttribute).Assembly.Location))
            .ToArray());

    public static CSharpCompilation Create(params string[] sources) => Create("Tests", References, sources);

    public static CSharpCompilation Create(string assemblyName, IEnumerable<MetadataReference> references, params string[] sources) =>
        CSharpCompilation.Create(
            assemblyName,
            sources.Select((s, i) => CSharpSyntaxTree.ParseText(s, ParseOptions, path: $"Source{i}.cs")),
            references,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable));

    public static CSharpGeneratorDriver CreateDriver() =>
        CSharpGeneratorDriver.Create(
            new[] { new StaticGradGenerator().AsSourceGenerator() },
            parseOptions: ParseOptions,
            driverOptions: new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: true));

    /// <summary>Runs the generator; returns the output compilation and the generator's run result.</summary>
    public static (Compilation Output, GeneratorDriverRunResult Result) Generate(CSharpCompilation input)
    {
        GeneratorDriver driver = CreateDriver().RunGeneratorsAndUpdateCompilation(input, out Compilation output, out ImmutableArray<Diagnostic> generatorDiagnostics);
        if (!generatorDiagnostics.IsEmpty)
        {
            throw new InvalidOperationException("The generator reported diagnostics of its own: " + string.Join(Environment.NewLine, generatorDiagnostics));
        }

        return (output, driver.GetRunResult());
    }

    /// <summary>Errors and warnings of a compilation, one per line, for assertion messages.</summary>
    public static string Describe(IEnumerable<Diagnostic> diagnostics) =>
        string.Join(Environment.NewLine, diagnostics.Select(d => d.ToString()));

    public static IReadOnlyList<Diagnostic> ErrorsAndWarnings(Compilation compilation) =>
        compilation.GetDiagnostics().Where(d => d.Severity >= DiagnosticSeverity.Warning).ToList();
}
