using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Text;
using System.Threading;
using CsCheck;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;
using StaticGrad.Generators;
using StaticGrad.Tests.Infrastructure;
using Xunit;
using Xunit.Abstractions;

namespace StaticGrad.Tests.Fuzzing;

/// <summary>
/// Property-based fuzzing of the generator and analyzer over random source (see <see cref="FuzzGenerators"/>).
/// For every case: the generator never throws; the compilation with the generated code has no error or warning the user did not
/// write; nothing in a generated file warns; a valid case gets code that compiles and can be called; an invalid case
/// gets each expected SGR diagnostic inside the offending syntax, and no code.
/// </summary>
/// <remarks>
/// <c>STATICGRAD_FUZZ_CASES</c> sets the number of cases (default 250 in the quick tier and 500 in the full one, so the README's test command stays quick; CI's
/// <c>.ci/run</c> runs 10,000, and from 10,000 on the run also checks that every kind of answer was reached);
/// <c>STATICGRAD_FUZZ_SEED</c> replays a CsCheck seed printed by a failure. Without a seed every run draws new cases.
/// </remarks>
public sealed class GeneratorFuzzTests
{
    private static readonly ImmutableArray<DiagnosticAnalyzer> Analyzers = ImmutableArray.Create<DiagnosticAnalyzer>(new StaticGradAnalyzer());
    private static readonly ISourceGenerator Generator = new StaticGradGenerator().AsSourceGenerator();

    /// <summary>Cases when <c>STATICGRAD_FUZZ_CASES</c> is not set.</summary>
    public static int DefaultCases => TestTier.Cases(quick: 250, full: 500);

    private readonly ITestOutputHelper _output;

    public GeneratorFuzzTests(ITestOutputHelper output) => _output = output;

    [Fact]
    public void RandomSources_NeverBreakTheBuild_AndGetLocatedDiagnostics()
    {
        int cases = int.TryParse(Environment.GetEnvironmentVariable("STATICGRAD_FUZZ_CASES"), out int n) ? n : DefaultCases;
        string? seed = Environment.GetEnvironmentVariable("STATICGRAD_FUZZ_SEED");
        var tally = new ConcurrentDictionary<string, int>();

        FuzzGenerators.Case.Sample(
            fuzzCase => Check(fuzzCase, tally),
            writeLine: _output.WriteLine,
            seed: string.IsNullOrEmpty(seed) ? null : seed,
            iter: cases,
            print: Print);

        var summary = string.Join(", ", tally.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key}: {p.Value}"));
        _output.WriteLine($"{cases} cases: {summary}");

        // The generators must keep reaching every kind of answer, or the fuzzing silently stops testing something.
        if (cases >= 10_000 && string.IsNullOrEmpty(seed))
        {
            Assert.True(tally.GetValueOrDefault("valid") >= cases / 6, $"too few valid cases: {summary}");
            foreach (string id in new[]
            {
                "SGR0001", "SGR0002", "SGR0003", "SGR0004", "SGR0005", "SGR0006", "SGR0007", "SGR0009", "SGR0011", "SGR0012",
                "SGR0013", "SGR0014", "SGR0015", "SGR0017", "SGR0018", "SGR0019",
            })
            {
                Assert.True(tally.GetValueOrDefault(id) > 0, $"no case expected {id}: {summary}");
            }
        }
    }

    /// <summary>Runs one case; throws with a full account when a promise is broken.</summary>
    internal static void Check(FuzzCase fuzzCase, ConcurrentDictionary<string, int>? tally = null)
    {
        FuzzSource source = FuzzSource.Write(fuzzCase);
        var parseOptions = new CSharpParseOptions(fuzzCase.LanguageVersion switch
        {
            10 => LanguageVersion.CSharp10,
            11 => LanguageVersion.CSharp11,
            12 => LanguageVersion.CSharp12,
            _ => LanguageVersion.Latest,
        });

        SyntaxTree unitTree = CSharpSyntaxTree.ParseText(source.Text, parseOptions, path: "Unit.cs", encoding: Encoding.UTF8);
        var trees = new List<SyntaxTree> { unitTree };
        SyntaxTree? secondTree = source.SecondText is { } second ? CSharpSyntaxTree.ParseText(second, parseOptions, path: "Unit2.cs", encoding: Encoding.UTF8) : null;
        if (secondTree is not null)
        {
            trees.Add(secondTree);
        }

        if (source.GlobalUsings is { } globalUsings)
        {
            trees.Add(CSharpSyntaxTree.ParseText(globalUsings, parseOptions, path: "GlobalUsings.cs", encoding: Encoding.UTF8));
        }

        SyntaxTree? usageTree = source.Usage is { } usage ? CSharpSyntaxTree.ParseText(usage, parseOptions, path: "Usage.cs", encoding: Encoding.UTF8) : null;
        if (usageTree is not null)
        {
            trees.Add(usageTree);
        }

        CSharpCompilation input = CSharpCompilation.Create(
            "Fuzz",
            trees,
            fuzzCase.NetStandard ? TestCompilation.NetStandard20References : TestCompilation.References,
            new CSharpCompilationOptions(
                OutputKind.DynamicallyLinkedLibrary,
                nullableContextOptions: fuzzCase.NullableEnabled ? NullableContextOptions.Enable : NullableContextOptions.Disable,
                allowUnsafe: fuzzCase.AllowUnsafe));

        GeneratorDriver driver = CSharpGeneratorDriver.Create(new[] { Generator }, parseOptions: parseOptions)
            .RunGeneratorsAndUpdateCompilation(input, out Compilation output, out ImmutableArray<Diagnostic> generatorDiagnostics);
        GeneratorRunResult run = driver.GetRunResult().Results.Single();

        var problems = new List<string>();
        if (run.Exception is not null)
        {
            problems.Add("the generator threw: " + run.Exception);
        }

        problems.AddRange(generatorDiagnostics.Select(d => "the driver reported: " + d));

        // Errors and warnings: none in generated code, none in user code that the user did not already have.
        var userDiagnostics = input.GetDiagnostics()
            .Where(d => d.Severity >= DiagnosticSeverity.Warning && d.Location.SourceTree != usageTree)
            .Select(Key)
            .ToHashSet();
        foreach (Diagnostic diagnostic in output.GetDiagnostics())
        {
            SyntaxTree? tree = diagnostic.Location.SourceTree;
            bool generated = tree is not null && run.GeneratedSources.Any(g => g.SyntaxTree == tree);
            if (generated && diagnostic.Severity >= DiagnosticSeverity.Warning)
            {
                problems.Add("generated code has: " + diagnostic);
            }
            else if (!generated && diagnostic.Severity >= DiagnosticSeverity.Warning && tree != usageTree && !userDiagnostics.Contains(Key(diagnostic)))
            {
                problems.Add("an error or warning the user did not write: " + diagnostic);
            }
        }

        ImmutableArray<Diagnostic> analyzerDiagnostics = output
            .WithAnalyzers(Analyzers)
            .GetAnalyzerDiagnosticsAsync(CancellationToken.None).GetAwaiter().GetResult();
        var sgrErrors = analyzerDiagnostics.Where(d => d.Severity == DiagnosticSeverity.Error).ToList();
        foreach (Diagnostic diagnostic in analyzerDiagnostics)
        {
            if (!diagnostic.Location.IsInSource || (diagnostic.Location.SourceTree != unitTree && diagnostic.Location.SourceTree != secondTree))
            {
                problems.Add("a diagnostic without a location in the annotated type's files: " + diagnostic);
            }
        }

        if (sgrErrors.Count > 0 && run.GeneratedSources.Length > 0)
        {
            problems.Add($"code was generated although StaticGrad reported {string.Join(", ", sgrErrors.Select(d => d.Id))}");
        }

        if (source.Valid)
        {
            problems.AddRange(sgrErrors.Select(d => "a valid case got: " + d));
            if (run.GeneratedSources.Length == 0)
            {
                problems.Add("a valid case got no generated code");
            }

            if (usageTree is not null)
            {
                problems.AddRange(output.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error && d.Location.SourceTree == usageTree)
                    .Select(d => "calling the generated API fails: " + d));
            }
        }

        if (!source.Indeterminate)
        {
            foreach (ExpectedFault fault in source.Faults)
            {
                SyntaxTree faultTree = fault.InSecondFile ? secondTree! : unitTree;
                bool found = sgrErrors.Any(d => d.Id == fault.Id && d.Location.SourceTree == faultTree && fault.Span.Contains(d.Location.SourceSpan));
                if (!found)
                {
                    string text = fault.InSecondFile ? source.SecondText! : source.Text;
                    problems.Add($"expected {fault.Id} ({fault.Why}) inside {faultTree.FilePath} [{fault.Span.Start}..{fault.Span.End}) \"{text.Substring(fault.Span.Start, fault.Span.Length)}\"");
                }
            }
        }

        if (tally is not null)
        {
            tally.AddOrUpdate(source.Indeterminate ? "indeterminate" : source.Valid ? "valid" : "invalid", 1, (_, c) => c + 1);
            foreach (string id in source.Faults.Select(f => f.Id).Distinct())
            {
                tally.AddOrUpdate(id, 1, (_, c) => c + 1);
            }
        }

        if (problems.Count > 0)
        {
            throw new InvalidOperationException(
                string.Join(Environment.NewLine, problems) + Environment.NewLine +
                "StaticGrad said: " + (analyzerDiagnostics.IsEmpty ? "nothing" : TestCompilation.Describe(analyzerDiagnostics)));
        }
    }

    private static (string Id, string? Path, Microsoft.CodeAnalysis.Text.TextSpan Span) Key(Diagnostic d) =>
        (d.Id, d.Location.SourceTree?.FilePath, d.Location.SourceSpan);

    private static string Print(FuzzCase fuzzCase)
    {
        FuzzSource source = FuzzSource.Write(fuzzCase);
        return fuzzCase + Environment.NewLine + "---- Unit.cs ----" + Environment.NewLine + source.Text +
            (source.SecondText is { } second ? "---- Unit2.cs ----" + Environment.NewLine + second : string.Empty) +
            (source.Usage is { } usage ? "---- Usage.cs ----" + Environment.NewLine + usage : string.Empty) +
            "---- expected ----" + Environment.NewLine +
            (source.Indeterminate ? "(the language version rejects it)" : source.Valid ? "valid" : string.Join(Environment.NewLine, source.Faults.Select(f => $"{f.Id} {f.Why}")));
    }
}
