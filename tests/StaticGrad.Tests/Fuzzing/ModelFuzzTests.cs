using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Globalization;
using System.Linq;
using System.Threading;
using CsCheck;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Text;
using StaticGrad.Generators;
using StaticGrad.Tests.Infrastructure;
using Xunit;
using Xunit.Abstractions;

namespace StaticGrad.Tests.Fuzzing;

/// <summary>
/// Property test of models written as C# (<see cref="ModelFuzzSource"/>): random chains and DAGs of every op, [Module]
/// blocks, module arrays walked by loops, helpers and constant conditions, half built valid (the builder tracks every shape)
/// and half with exactly one mistake. For every case: the generator never throws and reports nothing of its own; every SGR
/// diagnostic is located in source inside the model or module class; the model gets code exactly when the analyzer
/// reports no SGR error, and then the compilation has no error and the generated files no warning; a case built valid gets
/// no SGR diagnostic at all, and a case with one mistake gets SGR errors of the id that mistake calls for (SGR0021 shapes,
/// SGR0022 unsupported code, SGR0023 arguments, SGR0024 declarations).
/// </summary>
/// <remarks>
/// <c>STATICGRAD_FUZZ_CASES</c> scales it (a tenth of that many models, at least 50; 120 by default) and
/// <c>STATICGRAD_FUZZ_SEED</c> replays the CsCheck seed a failure prints; each failure also prints the case's own seed,
/// which <see cref="ModelFuzzSource.Build"/> turns back into the same source.
/// </remarks>
public sealed class ModelFuzzTests(ITestOutputHelper output)
{
    private static readonly ImmutableArray<DiagnosticAnalyzer> Analyzers = ImmutableArray.Create<DiagnosticAnalyzer>(new StaticGradAnalyzer());

    /// <summary>Models when <c>STATICGRAD_FUZZ_CASES</c> is not set.</summary>
    public const int DefaultCases = 80;

    [Fact]
    public void RandomModels_NeverBreakTheBuild_AndGetTheExpectedDiagnostics()
    {
        int cases = int.TryParse(Environment.GetEnvironmentVariable("STATICGRAD_FUZZ_CASES"), out int n) ? Math.Max(50, n / 10) : DefaultCases;
        string? seed = Environment.GetEnvironmentVariable("STATICGRAD_FUZZ_SEED");
        var tally = new ConcurrentDictionary<string, int>(StringComparer.Ordinal);
        Gen.Int.Select(ModelFuzzSource.Build).Sample(
            fuzzCase => Check(fuzzCase, tally),
            writeLine: output.WriteLine,
            seed: string.IsNullOrEmpty(seed) ? null : seed,
            iter: cases,
            print: c => c.ToString());

        output.WriteLine($"{cases} models: " + string.Join(", ", tally.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key}: {p.Value}")));
        Assert.True(tally.GetValueOrDefault("accepted") > cases / 10 && tally.GetValueOrDefault("rejected") > cases / 10, "the models should mix valid and invalid ones");
    }

    /// <summary>The bugs the random models found, cut down to the smallest model that shows each (the seed that found it first).</summary>
    [Theory]
    [InlineData("cs0414-training")]
    [InlineData("bare-array-initializer")]
    [InlineData("module-with-base-class")]
    public void FoundBugs_StayFixed(string name) => Check(name switch
    {
        // Seed 1: a model without BatchNorm or Dropout wrote _training and never read it (CS0414 in generated code).
        "cs0414-training" => new ModelFuzzCase(1, Model("readonly Linear fc = new(4, 2);", "return fc.Forward(x);"), null, [], []),
        // Seed 16: 'Linear[] layers = { ... };' (an initializer without 'new[]') was SGR0022 on a valid model.
        "bare-array-initializer" => new ModelFuzzCase(16, Model(
            "readonly Linear[] layers = { new Linear(4, 4), new Linear(4, 4) };",
            "var h = x;\n        foreach (Linear layer in layers)\n        {\n            h = Relu(layer.Forward(h));\n        }\n\n        return h;"), null, [], []),
        // Seed 79: a [Module] deriving from another class gets no code (SGR0024 on it), but the model using it still got code,
        // which did not compile (CS1503: FuzzBlock is not a StaticGrad.Module). Now the use is an SGR0024 too.
        _ => new ModelFuzzCase(79, Model("readonly FuzzBlock block = new();", "return block.Forward(x);")
            + "\npublic class FuzzBase\n{\n}\n\n[Module]\npublic partial class FuzzBlock : FuzzBase\n{\n    readonly Linear fc = new(4, 4);\n\n    public Tensor Forward(Tensor x) => fc.Forward(x);\n}\n",
            "module-base-class", ["SGR0024"], []),
    });

    private static string Model(string fields, string body) =>
        $"using StaticGrad;\nusing static StaticGrad.Functional;\n\nnamespace Fuzz;\n\n[Model]\npublic partial class FuzzNet\n{{\n    {fields}\n\n    public Tensor Forward([Shape(4)] Tensor x)\n    {{\n        {body}\n    }}\n}}\n";

    /// <summary>Runs one case; throws with the source and everything wrong when a promise is broken.</summary>
    internal static void Check(ModelFuzzCase fuzzCase, ConcurrentDictionary<string, int>? tally = null)
    {
        CSharpCompilation input = TestCompilation.Create("ModelFuzz", TestCompilation.References, fuzzCase.Source);
        var problems = new List<string>();
        Compilation compiled;
        GeneratorDriverRunResult run;
        try
        {
            (compiled, run) = TestCompilation.Generate(input);
        }
        catch (Exception e)
        {
            throw new Xunit.Sdk.XunitException($"{fuzzCase}{Environment.NewLine}the generator failed: {e}");
        }

        if (run.Results.Single().Exception is { } thrown)
        {
            problems.Add("the generator threw: " + thrown);
        }

        SyntaxTree tree = input.SyntaxTrees.Single();
        string source = fuzzCase.Source;
        TextSpan[] classes = tree.GetRoot().DescendantNodes().OfType<ClassDeclarationSyntax>()
            .Where(c => c.Identifier.Text is "FuzzNet" or "FuzzBlock" or "FuzzConvBlock")
            .Select(c => c.FullSpan)
            .ToArray();
        ImmutableArray<Diagnostic> sgr = compiled.WithAnalyzers(Analyzers).GetAnalyzerDiagnosticsAsync(CancellationToken.None).GetAwaiter().GetResult();
        string Text(Diagnostic d) => d.Location.IsInSource && d.Location.SourceTree == tree
            ? $"{d.Id} on '{source.Substring(d.Location.SourceSpan.Start, d.Location.SourceSpan.Length)}' ({d.Location.GetLineSpan().StartLinePosition}): {d.GetMessage(CultureInfo.InvariantCulture)}"
            : $"{d.Id} at {d.Location}: {d.GetMessage(CultureInfo.InvariantCulture)}";
        foreach (Diagnostic diagnostic in sgr)
        {
            if (!diagnostic.Location.IsInSource || diagnostic.Location.SourceTree != tree || !classes.Any(c => c.Contains(diagnostic.Location.SourceSpan)))
            {
                problems.Add("a diagnostic outside the model and module classes: " + Text(diagnostic));
            }
        }

        var errors = sgr.Where(d => d.Severity == DiagnosticSeverity.Error).ToList();
        bool generated = run.Results.Single().GeneratedSources.Any(s => s.HintName.Contains("FuzzNet", StringComparison.Ordinal));
        if (generated == (errors.Count > 0))
        {
            problems.Add(generated
                ? "code was generated for FuzzNet although the analyzer reports " + string.Join("; ", errors.Select(Text))
                : "the analyzer reports no error but FuzzNet got no code");
        }

        if (generated)
        {
            foreach (Diagnostic diagnostic in compiled.GetDiagnostics().Where(d => d.Severity >= DiagnosticSeverity.Warning))
            {
                bool inGenerated = diagnostic.Location.SourceTree is { } t && t != tree;
                if (inGenerated || diagnostic.Severity == DiagnosticSeverity.Error)
                {
                    problems.Add($"{(inGenerated ? "generated code" : "the compilation")} reports {diagnostic}");
                }
            }
        }

        if (fuzzCase.Valid && sgr.Length > 0)
        {
            problems.Add("the model was built valid, but the analyzer reports " + string.Join("; ", sgr.Select(Text)));
        }
        else if (!fuzzCase.Valid)
        {
            if (!errors.Any(d => fuzzCase.ExpectedIds.Contains(d.Id)))
            {
                problems.Add($"the mistake should give {string.Join(" or ", fuzzCase.ExpectedIds)}, but the analyzer reports "
                    + (errors.Count == 0 ? "no error" : string.Join("; ", errors.Select(Text))));
            }
            else if (errors.FirstOrDefault(d => !fuzzCase.ExpectedIds.Contains(d.Id)) is { } other)
            {
                problems.Add($"the mistake should give {string.Join(" or ", fuzzCase.ExpectedIds)} only, but the analyzer also reports {Text(other)}");
            }
        }

        if (problems.Count > 0)
        {
            throw new Xunit.Sdk.XunitException($"{fuzzCase}{Environment.NewLine}{string.Join(Environment.NewLine, problems)}");
        }

        if (tally is not null)
        {
            tally.AddOrUpdate(errors.Count == 0 ? "accepted" : "rejected", 1, (_, v) => v + 1);
            foreach (string id in errors.Select(d => d.Id).Distinct())
            {
                tally.AddOrUpdate(id, 1, (_, v) => v + 1);
            }
        }
    }
}
