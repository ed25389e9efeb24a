// TinyGpt: nanoGPT's CPU configuration of shakespeare_char, trained with StaticGrad's generated backprop on a text: a GPT
// of 4 blocks, 4 heads, 128 wide, reading 64 characters to predict the next one. It prints the loss while it trains, the
// loss on the held-out last 10 % of the text, then a few hundred characters sampled from the trained model.
// Run: dotnet run --project samples/TinyGpt -c Release [-- [text-file] [--steps N] [--seed S] [--temperature T] [--length N] [--threads N]]
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.IO.Compression;
using System.Linq;
using Spectre.Console;
using StaticGrad.Samples.TinyGpt;
using StaticGrad.Training;

const int DefaultSteps = 2000;                 // nanoGPT's max_iters for its CPU run
const double Target = 2.0;                     // the held-out loss the default run must get below
const int BatchSize = 12;                      // nanoGPT's batch_size
const int EvaluationInterval = 250;            // nanoGPT's eval_interval
const int EvaluationWindows = 240;             // nanoGPT's eval_iters = 20 batches of 12 (--eval_iters=20 in its CPU command)
int context = TinyGpt.InputSize;               // 64: nanoGPT's block_size
int vocabulary = TinyGpt.OutputSize / context; // 65
if (vocabulary != Alphabet.Count)
{
    throw new InvalidOperationException($"TinyGpt scores {vocabulary} classes, but the alphabet has {Alphabet.Count} characters.");
}

// ---- Command line ----------------------------------------------------------------------------------------------------
string defaultText = Path.Combine(AppContext.BaseDirectory, "tinyshakespeare.txt.gz");
string? textPath = null;
int steps = DefaultSteps, seed = 1, length = 500, threads = Math.Min(Environment.ProcessorCount, 2);
double temperature = 0.8;
for (int i = 0; i < args.Length; i++)
{
    string arg = args[i];
    if (arg is "-h" or "--help")
    {
        PrintUsage(Console.Out);
        return 0;
    }

    if (arg.StartsWith("-", StringComparison.Ordinal) && arg.Length > 1)
    {
        if (arg is not ("--steps" or "--seed" or "--temperature" or "--length" or "--threads"))
        {
            return BadArguments($"Unknown option '{arg}'.");
        }

        if (i + 1 >= args.Length)
        {
            return BadArguments($"{arg} needs a value.");
        }

        string value = args[++i];
        bool ok = arg switch
        {
            "--steps" => int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out steps) && steps >= 1,
            "--seed" => int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out seed),
            "--temperature" => double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out temperature) && temperature > 0 && double.IsFinite(temperature),
            "--threads" => int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out threads) && threads is >= 1 and <= 64,
            _ => int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out length) && length >= 0,
        };
        if (!ok)
        {
            string expected = arg switch
            {
                "--steps" => "a whole number of at least 1",
                "--seed" => "a whole number",
                "--temperature" => "a positive number (0.8 by default; lower is more conservative)",
                "--threads" => "a whole number from 1 to 64 (by default the cores available, at most 2)",
                _ => "a whole number of at least 0",
            };
            return BadArguments($"{arg} expects {expected}, got '{value}'.");
        }
    }
    else if (textPath is null)
    {
        textPath = arg;
    }
    else
    {
        return BadArguments($"Only one text file, please: got '{textPath}' and '{arg}'.");
    }
}

bool defaults = textPath is null && steps >= DefaultSteps;
textPath ??= defaultText;
if (!File.Exists(textPath))
{
    return BadArguments(Directory.Exists(textPath) ? $"'{textPath}' is a folder; give a text file (.txt, or .gz for a gzipped one)." : $"There is no file '{Path.GetFullPath(textPath)}'.");
}

string text;
try
{
    using Stream file = File.OpenRead(textPath);
    using Stream stream = textPath.EndsWith(".gz", StringComparison.OrdinalIgnoreCase) ? new GZipStream(file, CompressionMode.Decompress) : file;
    using var reader = new StreamReader(stream, detectEncodingFromByteOrderMarks: true); // UTF-8 unless a byte-order mark says otherwise
    text = reader.ReadToEnd();
}
catch (InvalidDataException e)
{
    return BadArguments($"Cannot read '{textPath}' as a gzipped text: {e.Message}");
}
catch (Exception e) when (e is IOException or UnauthorizedAccessException)
{
    return BadArguments($"Cannot read '{textPath}': {e.Message}");
}

int[] ids = Alphabet.Encode(text, out Dictionary<string, int> replaced);
// nanoGPT trains on the first 90 % and validates on the last 10 %; a short text keeps at least one window on each side.
int minimum = 2 * (context + 1);
if (ids.Length < minimum)
{
    return BadArguments(ids.Length == 0
        ? $"'{textPath}' is empty."
        : $"'{textPath}' has {ids.Length} characters; TinyGpt needs at least {minimum}: a window of {context + 1} (64 inputs and the character after them) to train on and one held out.");
}

int heldOutLength = Math.Max(ids.Length / 10, context + 1);
int[] train = ids[..^heldOutLength];
int[] heldOut = ids[^heldOutLength..];

if (Console.IsOutputRedirected)
{
    AnsiConsole.Profile.Width = 120;
}

AnsiConsole.MarkupLine($"[bold]StaticGrad TinyGpt[/]: {Markup.Escape(Path.GetFileName(textPath))}, {ids.Length:N0} characters " +
                       $"({train.Length:N0} to train on, the last {heldOut.Length:N0} held out)");
if (replaced.Count > 0)
{
    int count = replaced.Values.Sum();
    string examples = string.Join(" ", replaced.OrderByDescending(r => r.Value).Take(8).Select(r => $"'{Markup.Escape(Printable(r.Key))}' ×{r.Value:N0}"));
    AnsiConsole.MarkupLine($"[yellow]{count:N0} characters ({(double)count / ids.Length:P2}) are not among the model's {Alphabet.Count} and were replaced by a space[/]: {examples}");
}

AnsiConsole.MarkupLine($"Model: {TinyGpt.ParameterCount:N0} parameters, {Alphabet.Count} characters (Tiny Shakespeare's: newline, space, [grey]{Markup.Escape(Alphabet.Characters[2..13])}[/], A–Z, a–z), " +
                       $"{context} positions, 4 blocks of 4 heads, 128 wide");

// ---- Model and optimizer: nanoGPT's train_shakespeare_char.py with its CPU command line ------------------------------
// One seed, three independent streams: the initial weights, the batches, the sampling.
var seeds = new Random(seed);
int initialSeed = seeds.Next(), batchSeed = seeds.Next(), sampleSeed = seeds.Next();
// nanoGPT warms up over 100 steps from lr/101 ((it + 1)/(warmup + 1)); CosineAnnealing starts its warm-up at 0.
int warmup = Math.Min(100, steps / 10);
var model = new TinyGpt(seed: initialSeed, maxBatchSize: BatchSize) { Threads = threads };
InitialiseAsNanoGpt(model, initialSeed);
model.Optimizer = new AdamW(learningRate: 1e-3, beta1: 0.9, beta2: 0.99, weightDecay: 0.1)
{
    Schedule = new CosineAnnealing(totalSteps: steps, minLearningRate: 1e-4, warmupSteps: warmup),
    MaxGradientNorm = 1.0,
};
AnsiConsole.MarkupLine($"AdamW 1e-3 (β₂ 0.99, weight decay 0.1), {warmup} warm-up steps, cosine to 1e-4 at step {steps:N0}, gradients clipped to norm 1; " +
                       $"batch {BatchSize}, seed {seed}, {(threads == 1 ? "one thread" : $"{threads} threads")}, {KernelName()} kernels");

// The held-out windows: every 64 characters and the one after each, without overlap. The evaluations during training use
// 240 of them, evenly spread (as nanoGPT's 20 batches of 12); the final one uses them all.
int windows = ((heldOut.Length - (context + 1)) / context) + 1;
var (allIds, allLabels) = Windows(heldOut, Enumerable.Range(0, windows).Select(w => w * context));
var (someIds, someLabels) = windows <= EvaluationWindows
    ? (allIds, allLabels)
    : Windows(heldOut, Enumerable.Range(0, EvaluationWindows).Select(w => (int)((long)w * windows / EvaluationWindows) * context));

double initialLoss = model.EvaluateLoss(someIds, someLabels);
AnsiConsole.MarkupLine($"step {0,5:N0}: held-out loss {initialLoss:F4} (ln {Alphabet.Count} = {Math.Log(Alphabet.Count):F4} is a uniform guess)");

// ---- Training --------------------------------------------------------------------------------------------------------
var batchIds = new int[BatchSize * context];
var batchLabels = new int[BatchSize * context];
var sampler = new Random(batchSeed);
double smoothed = double.NaN;
long allocated = 0;
var clock = new Stopwatch();
TimeSpan cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
AnsiConsole.Progress()
    .AutoClear(false)
    .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
    .Start(progress =>
    {
        var task = progress.AddTask("training", maxValue: steps);
        for (int step = 1; step <= steps; step++)
        {
            // nanoGPT's get_batch: 12 windows of 65 characters at random places of the training text.
            for (int b = 0; b < BatchSize; b++)
            {
                int start = sampler.Next(train.Length - context);
                train.AsSpan(start, context).CopyTo(batchIds.AsSpan(b * context));
                train.AsSpan(start + 1, context).CopyTo(batchLabels.AsSpan(b * context));
            }

            long before = GC.GetAllocatedBytesForCurrentThread();
            clock.Start();
            float loss = model.TrainStep(batchIds, batchLabels);
            clock.Stop();
            if (step > 10)
            {
                allocated += GC.GetAllocatedBytesForCurrentThread() - before; // steady state: after the JIT's first steps
            }

            smoothed = double.IsNaN(smoothed) ? loss : (0.95 * smoothed) + (0.05 * loss);
            task.Description = $"step {step,5:N0}/{steps:N0}  train loss {smoothed:F3}";
            task.Increment(1);
            if (step % EvaluationInterval == 0 && step < steps)
            {
                AnsiConsole.MarkupLine($"step {step,5:N0}: held-out loss {model.EvaluateLoss(someIds, someLabels):F4}, train loss {smoothed:F4} (smoothed), {step / clock.Elapsed.TotalSeconds:F2} steps/s");
            }
        }
    });

// On a shared machine the wall clock counts other programs' time too; the CPU time counts this process's only
// (all its threads: TrainStep, the held-out evaluations every 250 steps, the progress display).
double cpuSeconds = (Process.GetCurrentProcess().TotalProcessorTime - cpuBefore).TotalSeconds;
double finalLoss = model.EvaluateLoss(allIds, allLabels);
double stepsPerSecond = steps / clock.Elapsed.TotalSeconds;
AnsiConsole.MarkupLine($"step {steps,5:N0}: held-out loss [bold]{finalLoss:F4}[/] on all {windows:N0} held-out windows ({windows * context:N0} predictions), train loss {smoothed:F4} (smoothed)");
AnsiConsole.MarkupLine($"Training: {clock.Elapsed.TotalSeconds:F1} s in TrainStep, {stepsPerSecond:F2} steps/s, {1000 / stepsPerSecond:F0} ms per step of {BatchSize}×{context} characters, " +
                       $"{(steps > 10 ? $"{(double)allocated / (steps - 10):F0}" : "–")} bytes allocated per step (after step 10)");
AnsiConsole.MarkupLine($"CPU time of the process during training: {cpuSeconds:F1} s (the wall clock also counts other programs on a shared machine)");

// ---- Sampling: the first character a newline (as nanoGPT's sample.py), then one character at a time -----------------
var generated = new List<int>(length + 1) { Alphabet.Encode("\n", out _)[0] };
var window = new int[context];
var scores = new float[TinyGpt.OutputSize];
var probabilities = new double[vocabulary];
var dice = new Random(sampleSeed);
for (int n = 0; n < length; n++)
{
    // The last 64 characters (fewer at first) at positions 0, 1, …; attention is causal, so the scores at the last of
    // them see only those and the padding after it does not matter.
    int used = Math.Min(generated.Count, context);
    generated.CopyTo(generated.Count - used, window, 0, used);
    Array.Clear(window, used, context - used);
    model.Forward(window, scores);
    ReadOnlySpan<float> next = scores.AsSpan((used - 1) * vocabulary, vocabulary);
    generated.Add(Sample(next, temperature, probabilities, dice));
}

AnsiConsole.WriteLine();
AnsiConsole.Write(new Panel(new Text(Alphabet.Decode(generated.ToArray().AsSpan(1))))
    .Header($"{length} characters sampled at temperature {temperature.ToString(CultureInfo.InvariantCulture)}, seed {seed}")
    .Border(BoxBorder.Rounded)
    .Expand());

if (!double.IsFinite(finalLoss))
{
    AnsiConsole.MarkupLine("[red]✗ the loss is not a number: training diverged[/]");
    return 1;
}

if (!defaults)
{
    AnsiConsole.MarkupLine($"Held-out loss {initialLoss:F3} → {finalLoss:F3}. (The default run, Tiny Shakespeare for {DefaultSteps:N0} steps, must get below {Target:F1}.)");
    return 0;
}

if (finalLoss >= Target)
{
    AnsiConsole.MarkupLine($"[red]✗ held-out loss {finalLoss:F4} is not below {Target:F1}[/]");
    return 1;
}

AnsiConsole.MarkupLine($"[green]✓ held-out loss {initialLoss:F3} → {finalLoss:F3}, below {Target:F1} (nanoGPT reports a validation loss of about 1.88 for this configuration)[/]");
return 0;

// ---- Helpers ---------------------------------------------------------------------------------------------------------

// nanoGPT's _init_weights: every matrix N(0, 0.02), the projections back into the residual stream (attention's proj and
// the MLP's down) N(0, 0.02/√(2·layers)); LayerNorm keeps γ = 1, β = 0.
static void InitialiseAsNanoGpt(TinyGpt model, int seed)
{
    var random = new Random(seed);
    Span<float> parameters = model.Parameters;
    foreach (var tensor in TinyGpt.Description.Tensors)
    {
        if (tensor.Shape.Length < 2)
        {
            continue;
        }

        double sigma = tensor.Name.EndsWith(".proj.weight", StringComparison.Ordinal) || tensor.Name.EndsWith(".down.weight", StringComparison.Ordinal)
            ? 0.02 / Math.Sqrt(2 * 4)
            : 0.02;
        foreach (ref float p in parameters.Slice(tensor.Offset, tensor.Count))
        {
            // Box–Muller: a standard normal from two uniform numbers.
            double u = 1 - random.NextDouble(), v = random.NextDouble();
            p = (float)(sigma * Math.Sqrt(-2 * Math.Log(u)) * Math.Cos(2 * Math.PI * v));
        }
    }
}

// Inputs and labels of windows of 65 characters starting at the given places.
(int[] Ids, int[] Labels) Windows(int[] source, IEnumerable<int> starts)
{
    int[] first = starts.ToArray();
    var inputs = new int[first.Length * context];
    var labels = new int[first.Length * context];
    for (int w = 0; w < first.Length; w++)
    {
        source.AsSpan(first[w], context).CopyTo(inputs.AsSpan(w * context));
        source.AsSpan(first[w] + 1, context).CopyTo(labels.AsSpan(w * context));
    }

    return (inputs, labels);
}

// One id drawn from softmax(scores / temperature).
static int Sample(ReadOnlySpan<float> scores, double temperature, double[] probabilities, Random random)
{
    double max = double.NegativeInfinity;
    foreach (float s in scores)
    {
        max = Math.Max(max, s);
    }

    double total = 0;
    for (int c = 0; c < scores.Length; c++)
    {
        probabilities[c] = Math.Exp((scores[c] - max) / temperature);
        total += probabilities[c];
    }

    double draw = random.NextDouble() * total;
    for (int c = 0; c < scores.Length; c++)
    {
        draw -= probabilities[c];
        if (draw < 0)
        {
            return c;
        }
    }

    return scores.Length - 1;
}

static string KernelName() =>
    System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated ? "AVX-512"
    : System.Runtime.Intrinsics.Vector256.IsHardwareAccelerated ? "AVX2"
    : System.Runtime.Intrinsics.Vector128.IsHardwareAccelerated ? "128-bit SIMD" : "scalar";

static string Printable(string s) => s switch
{
    "\t" => "\\t",
    _ when s.Length == 1 && char.IsControl(s[0]) => $"U+{(int)s[0]:X4}",
    _ => s,
};

static int BadArguments(string message)
{
    Console.Error.WriteLine(message);
    PrintUsage(Console.Error);
    return 2;
}

static void PrintUsage(TextWriter writer)
{
    writer.WriteLine("Usage: dotnet run --project samples/TinyGpt -c Release [-- [text-file] [--steps N] [--seed S] [--temperature T] [--length N] [--threads N]]");
    writer.WriteLine("  text-file        UTF-8 text, gzipped if its name ends in .gz (default: Tiny Shakespeare, shipped with the sample)");
    writer.WriteLine($"  --steps N        training steps of 12 windows of 64 characters (default {DefaultSteps}, nanoGPT's)");
    writer.WriteLine("  --seed S         seeds the initial weights, the batches and the sampling (default 1)");
    writer.WriteLine("  --temperature T  sampling temperature, positive (default 0.8)");
    writer.WriteLine("  --length N       characters to sample after training (default 500)");
    writer.WriteLine("  --threads N      threads TrainStep may use, 1 to 64 (default: the cores available, at most 2)");
}
