using System.Collections.Generic;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using StaticGrad.Generators;

namespace StaticGrad.Benchmarks;

/// <summary>What the generator benchmarks share: .NET 8 references with StaticGrad's attributes, C# 12, a fresh driver.</summary>
internal static class GeneratorInputs
{
    public static readonly CSharpParseOptions ParseOptions = new(LanguageVersion.CSharp12);

    public static IEnumerable<MetadataReference> References =>
        Basic.Reference.Assemblies.Net80.References.All.Cast<MetadataReference>()
            .Append(MetadataReference.CreateFromFile(typeof(MatMulAttribute).Assembly.Location));

    public static CSharpCompilation Compilation(string name, params string[] sources) =>
        CSharpCompilation.Create(
            name,
            sources.Select(source => CSharpSyntaxTree.ParseText(source, ParseOptions)),
            References,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary));

    public static GeneratorDriver Driver() =>
        CSharpGeneratorDriver.Create(new[] { new StaticGradGenerator().AsSourceGenerator() }, parseOptions: ParseOptions);
}
