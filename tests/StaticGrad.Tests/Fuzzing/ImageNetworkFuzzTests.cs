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
/// perturbed now and then with 0, −1, 99 or int.MaxValue; the other half with random sizes. An oracle written here
/// (PyTorch's shape rules and StaticGrad's array limits in 64-bit arithmetic, independent of the generator's parser)
/// predicts for each chain whether it is valid and, if not, the first error: its id and the exact text it underlines.
/// For every chain: the analyzer agrees with the oracle (no error for a valid chain; the predicted error, and none in an
/// earlier attribute, for an invalid one); the generator never throws; nothing generated warns; the compilation has no
/// error the user did not write; code exists exactly when the analyzer accepts; every SGR diagnostic lies inside the
/// attribute list. <c>STATICGRAD_FUZZ_CASES</c> scales it (a tenth of that many chains, at least 50; by default 50 in the quick tier and 100 in the full one) and
/// <c>STATICGRAD_FUZZ_SEED</c> replays the printed seed.
/// </summary>
public sealed class ImageNetworkFuzzTests(ITestOutputHelper output)
{
    private static readonly ImmutableArray<DiagnosticAnalyzer> Analyzers = ImmutableArray.Create<DiagnosticAnalyzer>(new StaticGradAnalyzer());
    private static readonly ISourceGenerator Generator = new StaticGradGenerator().AsSourceGenerator();

    [Fact]
    public void RandomImageChains_NeverBreakTheBuild()
    {
        int cases = int.TryParse(Environment.GetEnvironmentVariable("STATICGRAD_FUZZ_CASES"), out int n) ? Math.Max(50, n / 10) : TestTier.Cases(quick: 50, full: 100);
        int seed = int.TryParse(Environment.GetEnvironmentVariable("STATICGRAD_FUZZ_SEED"), out int s) ? s : Random.Shared.Next();
        output.WriteLine($"seed {seed} (replay with STATICGRAD_FUZZ_SEED={seed}), {cases} chains");
        var random = new Random(seed);
        int accepted = 0, rejected = 0;
        for (int i = 0; i < cases; i++)
        {
            if (Check(Chain(random, valid: random.Next(2) == 0)))
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

    /// <summary>
    /// Chains the random ones reach rarely, through the same harness and oracle: a padding near int.MaxValue (which once
    /// wrapped around in 32-bit arithmetic and was accepted), a Linear too large for an array, a stride larger than the input.
    /// </summary>
    [Fact]
    public void KnownEdgeChains_AgreeWithTheOracle()
    {
        static Part Conv(int inChannels, int outChannels, int kernel, int padding, int stride = 1)
        {
            var part = new Part("Conv2d", inChannels, outChannels, kernel);
            if (stride != 1)
            {
                part.Arguments.Add(("Stride", stride));
            }

            part.Arguments.Add(("Padding", padding));
            return part;
        }

        Assert.False(Check([new Part("Input", 1, 5, 5), Conv(1, 2, 3, int.MaxValue), new Part("Flatten"), new Part("Linear", 2, 2), new Part("SoftmaxCrossEntropy")]));
        Assert.False(Check([new Part("Input", 1, 6, 4), new Part("Flatten"), new Part("Linear", 24, int.MaxValue), new Part("SoftmaxCrossEntropy")]));
        Assert.True(Check([new Part("Input", 2, 7, 7), Conv(2, 3, 3, 1, stride: int.MaxValue), new Part("Flatten"), new Part("Linear", 3, 2), new Part("SoftmaxCrossEntropy")]));
        Assert.True(Check([new Part("Input<double>", 1, 5, 5), Conv(1, 2, 3, 99), new Part("MaxPool2d", 2), new Part("Flatten"), new Part("Linear", 2 * 100 * 100, 3), new Part("SoftmaxCrossEntropy")]));
        // Found by the random chains (seed 866460053): 3 × (2³¹ − 1)² outputs pass 2⁶³, and the 64-bit count had wrapped to a
        // negative number that both the analyzer and this oracle let through.
        Assert.False(Check([new Part("Input", 3, 4, 3), new Part("AvgPool2d", 3), Conv(3, 3, 2, int.MaxValue, stride: 2), new Part("Flatten"), new Part("Linear", 3, 4), new Part("SoftmaxCrossEntropy")]));
        // Found by CI's build of the test networks: Dropout in a network without a loss (no TrainStep) left its mode flag
        // never assigned (CS0649 in generated code).
        Assert.True(Check([new Part("Input", 2, 3, 3), new Part("Dropout", 0.5), new Part("Flatten"), new Part("Linear", 18, 2)]));
    }

    /// <summary>Runs one chain; returns whether the analyzer accepted it. Throws with the source when a promise is broken.</summary>
    private static bool Check(List<Part> parts)
    {
        string linear = parts[0].Name.EndsWith("<double>", StringComparison.Ordinal) ? "Linear<double>" : "Linear";
        var rendered = parts.Select(p => p.Render(linear)).ToList();
        string attributes = string.Join(", ", rendered);
        string source = $"using StaticGrad;\n\nnamespace Fuzz;\n\n[{attributes}]\npublic partial class Net;\n";
        var starts = new List<int>();
        for (int i = 0, at = source.IndexOf('[', StringComparison.Ordinal) + 1; i < rendered.Count; at += rendered[i].Length + 2, i++)
        {
            starts.Add(at);
        }

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

        // The oracle's verdict: accepted exactly when it finds no error; otherwise its first error is reported (id and exact
        // span), and no error lies in an attribute before that one.
        var expected = FirstError(parts, starts, rendered);
        var errors = sgr.Where(d => d.Severity == DiagnosticSeverity.Error).ToList();
        string Text(Diagnostic d) => $"{d.Id} on '{source.Substring(d.Location.SourceSpan.Start, d.Location.SourceSpan.Length)}': {d.GetMessage(CultureInfo.InvariantCulture)}";
        if (expected is null && errors.Count > 0)
        {
            problems.Add("the oracle finds the chain valid, but the analyzer reports " + string.Join("; ", errors.Select(Text)));
        }
        else if (expected is { } e)
        {
            int part = starts.Count(start => start <= e.Start) - 1;
            bool found = errors.Any(d => d.Id == e.Id && d.Location.SourceSpan.Start == e.Start && d.Location.SourceSpan.Length == e.Length);
            var earlier = errors.Where(d => d.Location.SourceSpan.Start < starts[part]).ToList();
            if (!found || earlier.Count > 0)
            {
                problems.Add($"the oracle expects {e.Id} on '{source.Substring(e.Start, e.Length)}' ({e.Why}) first, but the analyzer reports "
                    + (errors.Count == 0 ? "no error" : string.Join("; ", errors.Select(Text))));
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

    /// <summary>One attribute of a chain: its name and arguments (positional ones have no name), rendered as the user would write it.</summary>
    private sealed record Part(string Name, List<(string? Name, double Value)> Arguments)
    {
        public Part(string name, params double[] positional)
            : this(name, positional.Select(v => ((string?)null, v)).ToList())
        {
        }

        /// <summary>Dropout's argument is a double; every other argument is an int.</summary>
        public bool DoubleArgument => Name == "Dropout";

        public string Render(string linear) =>
            Arguments.Count == 0 ? Name : $"{(Name == "Linear" ? linear : Name)}({string.Join(", ", Arguments.Select(RenderArgument))})";

        public string RenderArgument((string? Name, double Value) argument) =>
            (argument.Name is null ? string.Empty : argument.Name + " = ") + argument.Value.ToString(DoubleArgument ? "0.0##" : "0", CultureInfo.InvariantCulture);

        public double Positional(int index) => Arguments.Where(a => a.Name is null).ElementAt(index).Value;

        public double? Named(string name) => Arguments.FirstOrDefault(a => a.Name == name) is { Name: not null } found ? found.Value : null;
    }

    /// <summary>A random chain; <paramref name="valid"/> computes every size so it chains, then perturbs one argument one time in three.</summary>
    private static List<Part> Chain(Random random, bool valid)
    {
        int channels = random.Next(1, 4), height = random.Next(valid ? 3 : -1, 14), width = random.Next(valid ? 3 : -1, 14);
        var parts = new List<Part> { new Part(random.Next(4) == 0 ? "Input<double>" : "Input", channels, height, width) };
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

                    var conv = new Part("Conv2d", valid ? channels : random.Next(0, 5), outChannels, kernel);
                    if (stride != 1)
                    {
                        conv.Arguments.Add(("Stride", stride));
                    }

                    if (padding != 0)
                    {
                        conv.Arguments.Add(("Padding", padding));
                    }

                    parts.Add(conv);
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

                    int poolStride = random.Next(3) == 0 ? random.Next(1, 3) : 0;
                    var pool = new Part(random.Next(2) == 0 ? "MaxPool2d" : "AvgPool2d", window);
                    if (poolStride != 0)
                    {
                        pool.Arguments.Add(("Stride", poolStride));
                    }

                    parts.Add(pool);
                    int step = poolStride == 0 ? window : poolStride;
                    height = ((height - window) / step) + 1;
                    width = ((width - window) / step) + 1;
                    break;
                case 7:
                    parts.Add(random.Next(4) == 3 ? new Part("Dropout", 0.25) : new Part(new[] { "ReLU", "Tanh", "Sigmoid" }[random.Next(3)]));
                    break;
                default:
                    if (image)
                    {
                        parts.Add(new Part("Flatten"));
                        image = false;
                        features = channels * height * width;
                    }

                    break;
            }

            features = image ? channels * height * width : features;
        }

        if (image && random.Next(4) != 0)
        {
            parts.Add(new Part("Flatten"));
            features = channels * height * width;
        }

        int classes = random.Next(1, 5);
        parts.Add(new Part("Linear", valid ? features : features + random.Next(-2, 3), classes));
        if (random.Next(3) == 0)
        {
            int tail = random.Next(valid ? 2 : 3);
            parts.Add(tail == 1 ? new Part("ReLU") : new Part("Dropout", tail == 0 ? 0.5 : random.Next(2) == 0 ? 1.5 : -0.1));
        }

        parts.Add(new Part(classes >= 2 ? "SoftmaxCrossEntropy" : "MeanSquaredError"));
        if (valid && random.Next(3) == 0)
        {
            // One perturbation: a zero, a negative or an oversized number in place of an argument.
            var candidates = parts.Where(p => p.Arguments.Count > 0).ToList();
            Part target = candidates[random.Next(candidates.Count)];
            int at = random.Next(target.Arguments.Count);
            target.Arguments[at] = (target.Arguments[at].Name, new[] { 0, -1, 99, int.MaxValue }[random.Next(4)]);
        }

        return parts;
    }

    /// <summary>
    /// The oracle: PyTorch's shape rules and StaticGrad's limits, in 64-bit arithmetic, applied in chain order. Returns the
    /// first error a user should see (its id and the exact text it underlines), or null when the chain is valid.
    /// </summary>
    private static (string Id, int Start, int Length, string Why)? FirstError(List<Part> parts, IReadOnlyList<int> starts, IReadOnlyList<string> rendered)
    {
        const long Max = 0x7FFFFFC7; // the largest array .NET allocates
        long channels = 0, height = 0, width = 0, features = 0, parameters = 0;
        bool image = false;
        for (int i = 0; i < parts.Count; i++)
        {
            Part part = parts[i];
            (string, int, int, string) Whole(string id, string why) => (id, starts[i], rendered[i].Length, why);
            (string, int, int, string) Argument(string id, int index, string why)
            {
                string text = rendered[i];
                int offset = text.IndexOf('(', StringComparison.Ordinal) + 1;
                for (int a = 0; a < index; a++)
                {
                    offset += part.RenderArgument(part.Arguments[a]).Length + 2;
                }

                return (id, starts[i] + offset, part.RenderArgument(part.Arguments[index]).Length, why);
            }

            int IndexOf(string name) => part.Arguments.FindIndex(a => a.Name == name);
            for (int a = 0; a < part.Arguments.Count && part.Name != "Dropout"; a++)
            {
                if (part.Arguments[a].Name is null && part.Arguments[a].Value <= 0)
                {
                    return Argument("SGR0001", a, "a size that is not positive");
                }
            }

            switch (part.Name)
            {
                case "Input":
                case "Input<double>":
                    (channels, height, width, image) = ((long)part.Positional(0), (long)part.Positional(1), (long)part.Positional(2), true);
                    if (channels * height * width > Max)
                    {
                        return Whole("SGR0020", "an input larger than an array");
                    }

                    break;
                case "Conv2d":
                {
                    long inChannels = (long)part.Positional(0), outChannels = (long)part.Positional(1), kernel = (long)part.Positional(2);
                    long stride = (long)(part.Named("Stride") ?? 1), padding = (long)(part.Named("Padding") ?? 0);
                    if (stride <= 0)
                    {
                        return Argument("SGR0020", IndexOf("Stride"), "a stride that is not positive");
                    }

                    if (padding < 0)
                    {
                        return Argument("SGR0020", IndexOf("Padding"), "a negative padding");
                    }

                    if (inChannels != channels)
                    {
                        return Argument("SGR0003", 0, "in-channels that do not chain");
                    }

                    if (height + (2 * padding) < kernel || width + (2 * padding) < kernel)
                    {
                        return Argument("SGR0020", 2, "a kernel larger than the padded input");
                    }

                    long outHeight = ((height + (2 * padding) - kernel) / stride) + 1, outWidth = ((width + (2 * padding) - kernel) / stride) + 1;
                    // Exact products (BigInteger): with a padding near int.MaxValue, outHeight·outWidth alone passes 2⁶³.
                    System.Numerics.BigInteger h = outHeight, w = outWidth;
                    if (outChannels * h * w > Max || inChannels * kernel * kernel * h * w > Max || outChannels * inChannels * kernel * kernel > Max)
                    {
                        return Whole("SGR0020", "buffers larger than an array");
                    }

                    (channels, height, width) = (outChannels, outHeight, outWidth);
                    break;
                }

                case "MaxPool2d":
                case "AvgPool2d":
                {
                    long kernel = (long)part.Positional(0), stride = (long)(part.Named("Stride") ?? 0);
                    if (stride < 0)
                    {
                        return Argument("SGR0020", IndexOf("Stride"), "a negative stride");
                    }

                    stride = stride == 0 ? kernel : stride;
                    if (kernel > height || kernel > width)
                    {
                        return Argument("SGR0020", 0, "a window larger than the input");
                    }

                    (height, width) = (((height - kernel) / stride) + 1, ((width - kernel) / stride) + 1);
                    break;
                }

                case "Dropout":
                    if (!(part.Positional(0) >= 0 && part.Positional(0) < 1))
                    {
                        return Argument("SGR0020", 0, "a probability outside [0, 1)");
                    }

                    break;
                case "Flatten":
                    (features, image) = (channels * height * width, false);
                    break;
                case "Linear":
                {
                    long inputs = (long)part.Positional(0), outputs = (long)part.Positional(1);
                    if (inputs * outputs > Max)
                    {
                        var (id, start, _, _) = Argument("SGR0004", 0, string.Empty);
                        var (_, secondStart, secondLength, _) = Argument("SGR0004", 1, string.Empty);
                        return (id, start, secondStart + secondLength - start, "a weight matrix larger than an array");
                    }

                    if (image)
                    {
                        return Whole("SGR0020", "a Linear on an image");
                    }

                    if (inputs != features)
                    {
                        return Argument("SGR0003", 0, "inputs that do not chain");
                    }

                    features = outputs;
                    parameters += (inputs * outputs) + outputs;
                    break;
                }
            }

            if (part.Name == "Conv2d")
            {
                parameters += ((long)part.Positional(1) * (long)part.Positional(0) * (long)part.Positional(2) * (long)part.Positional(2)) + (long)part.Positional(1);
            }
        }

        // Every layer fits, but all of them together do not fit one parameter array: reported on the first attribute.
        return parameters > Max ? (Id: "SGR0004", Start: starts[0], Length: rendered[0].Length, Why: "parameters larger than an array") : null;
    }
}
