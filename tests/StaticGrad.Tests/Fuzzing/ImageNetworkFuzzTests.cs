using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Globalization;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;
using StaticGrad.Generators;
using StaticGrad.Tests.Infrastructure;
using Xunit;
using Xunit.Abstractions;

namespace StaticGrad.Tests.Fuzzing;

/// <summary>
/// Random chains of the image layers (Input, Conv2d, MaxPool2d, AvgPool2d, Flatten, Dropout) mixed with Linear,
/// activations and a loss: half of them built to chain (every size computed as PyTorch would), then one argument
/// perturbed now and then, with zeros, negatives and oversized windows among the values. For every chain: the generator
/// never throws; nothing generated warns; the compilation has no error the user did not write; a chain the analyzer
/// accepts gets code that compiles, one it rejects gets none; every SGR diagnostic lies inside the attribute list.
/// The exact ids and spans of these rules are held by <c>ConvolutionDiagnosticTests</c>; this test holds the promises
/// over many more shapes. <c>STATICGRAD_FUZZ_CASES</c> scales it (a tenth of that many chains; 200 by default) and
/// <c>STATICGRAD_FUZZ_SEED</c> replays the printed seed.
/// </summary>
public sealed class ImageNetworkFuzzTests(ITestOutputHelper output)
{
    private static readonly ImmutableArray<DiagnosticAnalyzer> Analyzers = ImmutableArray.Create<DiagnosticAnalyzer>(new StaticGradAnalyzer());
    private static readonly ISourceGenerator Generator = new StaticGradGenerator().AsSourceGenerator();

    [Fact]
    public void RandomImageChains_NeverBreakTheBuild()
    {
        int cases = int.TryParse(Environment.GetEnvironmentVariable("STATICGRAD_FUZZ_CASES"), out int n) ? Math.Max(50, n / 10) : 200;
        int seed = int.TryParse(Environment.GetEnvironmentVariable("STATICGRAD_FUZZ_SEED"), out int s) ? s : Random.Shared.Next();
        output.WriteLine($"seed {seed} (replay with STATICGRAD_FUZZ_SEED={seed}), {cases} chains");
        var random = new Random(seed);
        int accepted = 0, rejected = 0;
        for (int i = 0; i < cases; i++)
        {
            string attributes = Chain(random, valid: random.Next(2) == 0);
            if (Check(attributes))
            {
                accepted++;
            }
            else
            {
                rejected++;
            }
        }

        output.WriteLine($"{accepted} accepted with code, {rejected} rejected with SGR errors");
        Assert.True(accepted > cases / 10 && rejected > cases / 10, $"the chains should mix valid and invalid ones: {accepted} accepted, {rejected} rejected");
    }

    /// <summary>Runs one chain; returns whether the analyzer accepted it. Throws with the source when a promise is broken.</summary>
    private static bool Check(string attributes)
    {
        string source = $"using StaticGrad;\n\nnamespace Fuzz;\n\n[{attributes}]\npublic partial class Net;\n";
        var parse = new CSharpParseOptions(LanguageVersion.Latest);
        CSharpCompilation input = CSharpCompilation.Create(
            "ImageFuzz",
            new[] { CSharpSyntaxTree.ParseText(source, parse, path: "Net.cs") },
            TestCompilation.References,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable));
        GeneratorDriver driver = CSharpGeneratorDriver.Create(new[] { Generator }, parseOptions: parse)
            .RunGeneratorsAndUpdateCompilation(input, out Compilation output, out ImmutableArray<Diagnostic> generatorDiagnostics);
        GeneratorRunResult run = driver.GetRunResult().Results.Single();
        var problems = new List<string>();
        if (run.Exception is not null)
        {
            problems.Add("the generator threw: " + run.Exception);
        }

        problems.AddRange(generatorDiagnostics.Select(d => "the driver reported: " + d));
        ImmutableArray<Diagnostic> sgr = output.WithAnalyzers(Analyzers).GetAnalyzerDiagnosticsAsync(CancellationToken.None).GetAwaiter().GetResult();
        bool rejected = sgr.Any(d => d.Severity == DiagnosticSeverity.Error);
        int listStart = source.IndexOf('[', StringComparison.Ordinal), listEnd = source.IndexOf("]\n", StringComparison.Ordinal);
        foreach (Diagnostic diagnostic in sgr)
        {
            if (diagnostic.Location.SourceSpan.Start < listStart || diagnostic.Location.SourceSpan.End > listEnd + 1)
            {
                problems.Add($"{diagnostic.Id} outside the attribute list: {diagnostic}");
            }
        }

        foreach (Diagnostic diagnostic in output.GetDiagnostics().Where(d => d.Severity >= DiagnosticSeverity.Warning))
        {
            bool generated = diagnostic.Location.SourceTree?.FilePath.Contains(nameof(StaticGradGenerator), StringComparison.Ordinal) == true;
            if (generated || diagnostic.Severity == DiagnosticSeverity.Error)
            {
                problems.Add($"{(generated ? "generated code" : "the compilation")} reports {diagnostic}");
            }
        }

        if (rejected != run.GeneratedSources.IsEmpty)
        {
            problems.Add(rejected
                ? "the analyzer reports an error but code was generated: " + TestCompilation.Describe(sgr)
                : "the analyzer accepts the chain but no code was generated");
        }

        if (problems.Count > 0)
        {
            throw new Xunit.Sdk.XunitException($"[{attributes}]{Environment.NewLine}{string.Join(Environment.NewLine, problems)}");
        }

        return !rejected;
    }

    /// <summary>A random chain; <paramref name="valid"/> computes every size so it chains, then perturbs one argument one time in three.</summary>
    private static string Chain(Random random, bool valid)
    {
        int channels = random.Next(1, 4), height = random.Next(valid ? 3 : -1, 14), width = random.Next(valid ? 3 : -1, 14);
        var parts = new List<string> { random.Next(4) == 0 ? $"Input<double>({channels}, {height}, {width})" : $"Input({channels}, {height}, {width})" };
        bool image = true;
        int features = channels * Math.Max(height, 0) * Math.Max(width, 0);
        int layers = random.Next(1, 8);
        for (int l = 0; l < layers; l++)
        {
            int pick = random.Next(image ? 8 : 5);
            if (!image || pick >= 5)
            {
                pick = image ? 5 + random.Next(3) : pick;
            }

            switch (image ? pick : pick + 10)
            {
                case 5:
                    int kernel = random.Next(1, 4), stride = random.Next(1, 3), padding = random.Next(0, 2), outChannels = random.Next(1, 5);
                    if (valid && (height + (2 * padding) < kernel || width + (2 * padding) < kernel))
                    {
                        continue;
                    }

                    parts.Add($"Conv2d({(valid ? channels : random.Next(0, 5))}, {outChannels}, {kernel}{(stride != 1 ? $", Stride = {stride}" : string.Empty)}{(padding != 0 ? $", Padding = {padding}" : string.Empty)}{(random.Next(4) == 0 ? ", Bias = false" : string.Empty)})");
                    channels = outChannels;
                    height = ((height + (2 * padding) - kernel) / stride) + 1;
                    width = ((width + (2 * padding) - kernel) / stride) + 1;
                    break;
                case 6:
                    int window = random.Next(1, 4);
                    if (valid && (window > height || window > width))
                    {
                        continue;
                    }

                    bool max = random.Next(2) == 0;
                    int poolStride = random.Next(3) == 0 ? random.Next(1, 3) : 0;
                    parts.Add($"{(max ? "MaxPool2d" : "AvgPool2d")}({window}{(poolStride != 0 ? $", Stride = {poolStride}" : string.Empty)})");
                    int step = poolStride == 0 ? window : poolStride;
                    height = ((height - window) / step) + 1;
                    width = ((width - window) / step) + 1;
                    break;
                case 7:
                    parts.Add(new[] { "ReLU", "Tanh", "Sigmoid", "Dropout(0.25)" }[random.Next(4)]);
                    break;
                default:
                    if (image)
                    {
                        parts.Add("Flatten");
                        image = false;
                        features = channels * height * width;
                    }

                    break;
            }

            if (!image && pick + 10 >= 10 && parts[^1] != "Flatten")
            {
                continue;
            }

            features = image ? channels * height * width : features;
        }

        if (image && random.Next(4) != 0)
        {
            parts.Add("Flatten");
            features = channels * height * width;
            image = false;
        }

        int classes = random.Next(1, 5);
        parts.Add($"Linear({(valid ? features : features + random.Next(-2, 3))}, {classes})");
        if (random.Next(3) == 0)
        {
            parts.Add(new[] { "Dropout(0.5)", "ReLU", $"Dropout({(random.Next(2) == 0 ? "1.5" : "-0.1")})" }[random.Next(valid ? 2 : 3)]);
        }

        parts.Add(classes >= 2 ? "SoftmaxCrossEntropy" : "MeanSquaredError");
        if (valid && random.Next(3) == 0)
        {
            // One perturbation: a zero, a negative or an oversized number in place of an argument.
            int at = random.Next(parts.Count);
            // Arguments only: a number right after "(" or a space and right before "," or ")" (not the 2 of Conv2d).
            var numbers = System.Text.RegularExpressions.Regex.Matches(parts[at], @"(?<=[(\s])-?[0-9]+(?:\.[0-9]+)?(?=[,)])");
            if (numbers.Count > 0)
            {
                System.Text.RegularExpressions.Match target = numbers[random.Next(numbers.Count)];
                string replacement = new[] { "0", "-1", "99", "2147483647" }[random.Next(4)];
                parts[at] = parts[at].Substring(0, target.Index) + replacement + parts[at].Substring(target.Index + target.Length);
            }
        }

        return string.Join(", ", parts.Select(p => p.Replace("Linear(", parts[0].Contains("<double>", StringComparison.Ordinal) ? "Linear<double>(" : "Linear(", StringComparison.Ordinal)));
    }
}
