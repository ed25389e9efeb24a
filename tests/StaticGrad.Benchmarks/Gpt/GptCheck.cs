using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Reflection;

namespace StaticGrad.Benchmarks.Gpt;

/// <summary>
/// The non-BenchmarkDotNet modes of <see cref="GptBenchmarks"/>:
/// <code>
/// dotnet run -c Release --project tests/StaticGrad.Benchmarks -p:Torch=true -- verify-gpt [steps]
/// dotnet run -c Release --project tests/StaticGrad.Benchmarks -p:Torch=true -- time-gpt [rounds]
/// dotnet run -c Release --project tests/StaticGrad.Benchmarks -- profile-gpt [--nodes] [--products] [--threads N]
/// </code>
/// <c>verify-gpt</c> trains StaticGrad's NanoGpt and the TorchSharp copy side by side (same initial weights, same batches,
/// AdamW) and fails unless every step's losses agree within 1e-4 relative. <c>time-gpt</c> alternates the four steps
/// (StaticGrad and TorchSharp, each on one and on two threads) in rounds of 20 steps each and prints each one's best and median
/// round and its fastest single step, so that a neighbour's load on a shared machine hits all four alike. <c>profile-gpt</c> times each generated
/// <c>Node*Forward</c>/<c>Node*Backward</c> method alone (the fastest of 60 calls), sums them per kind of op, and times the
/// optimizer step and the whole step.
/// </summary>
internal static class GptCheck
{
#if TORCH
    public static int Verify(string[] args)
    {
        int steps = args.Length > 1 ? int.Parse(args[1]) : 8;
        var (ids, labels) = GptBenchmarks.MakeBatches();
        NanoGpt net = GptBenchmarks.NewGenerated();
        TorchGptTrainer torch = GptBenchmarks.NewTorch(net, ids, labels);
        Console.WriteLine($"NanoGpt, batch {GptBenchmarks.Batch}, block {GptBenchmarks.Block}, AdamW {GptBenchmarks.LearningRate}, {NanoGpt.ParameterCount:N0} parameters, same initial weights, {GptBenchmarks.BatchCount} batches in turn; one thread each");
        Console.WriteLine("step | StaticGrad loss | TorchSharp loss | relative difference");
        double worst = 0;
        for (int step = 0; step < steps; step++)
        {
            int b = step % GptBenchmarks.BatchCount;
            float ours = net.TrainStep(ids[b], labels[b]), theirs = torch.Step(1);
            double difference = Math.Abs(ours - theirs) / Math.Abs(theirs);
            worst = Math.Max(worst, difference);
            Console.WriteLine($"{step + 1,4} | {ours,15:F7} | {theirs,15:F7} | {difference:E2}");
        }

        bool ok = worst <= 1e-4;
        Console.WriteLine(ok ? $"OK: every step's losses agree within 1e-4 relative (worst {worst:E2})." : $"FAILED: the losses differ by up to {worst:E2} relative (> 1e-4).");
        return ok ? 0 : 1;
    }

    public static int Time(string[] args)
    {
        int rounds = args.Length > 1 ? int.Parse(args[1]) : 10;
        const int Steps = 20;
        var (ids, labels) = GptBenchmarks.MakeBatches();
        NanoGpt net = GptBenchmarks.NewGenerated();
        TorchGptTrainer torch = GptBenchmarks.NewTorch(net, ids, labels);
        NanoGpt twoThreads = GptBenchmarks.NewGenerated();
        twoThreads.Threads = 2;
        int next = 0, nextTwo = 0;
        float Ours()
        {
            int b = next;
            next = (next + 1) % GptBenchmarks.BatchCount;
            return net.TrainStep(ids[b], labels[b]);
        }

        float OursTwo()
        {
            int b = nextTwo;
            nextTwo = (nextTwo + 1) % GptBenchmarks.BatchCount;
            return twoThreads.TrainStep(ids[b], labels[b]);
        }

        AlternatingRounds.Run($"NanoGpt TrainStep, batch {GptBenchmarks.Batch}, block {GptBenchmarks.Block}", rounds, Steps,
            ("StaticGrad, 1 thread", Ours), ("StaticGrad, 2 threads", OursTwo), ("TorchSharp, 1 thread", () => torch.Step(1)), ("TorchSharp, 2 threads", () => torch.Step(2)));
        return 0;
    }
#endif

    public static int Profile(string[] args)
    {
        if (args.Contains("--gelu"))
        {
            float[] x = new float[GptBenchmarks.Batch * GptBenchmarks.Block * 512], y = new float[x.Length], g = new float[x.Length];
            var random = new Random(1);
            for (int i = 0; i < x.Length; i++) x[i] = (float)(random.NextDouble() * 6 - 3);
            Console.WriteLine($"{Best(() => x.AsSpan().CopyTo(y)),9:F1}  copy of {x.Length} floats");
            Console.WriteLine($"{Best(() => StaticGrad.Kernels.Activations.Gelu<float>(x, y, false)),9:F1}  Gelu forward");
            Console.WriteLine($"{Best(() => StaticGrad.Kernels.Activations.GeluBackward<float>(x, y, g, false)),9:F1}  Gelu backward");
            Console.WriteLine($"{Best(() => { for (int i = 0; i < x.Length; i += 16) System.Runtime.Intrinsics.Vector512.StoreUnsafe(StaticGrad.Kernels.VectorMath.Exp(System.Runtime.Intrinsics.Vector512.LoadUnsafe(ref x[i])), ref y[i]); }),9:F1}  VectorMath.Exp");
            Console.WriteLine($"{Best(() => { for (int i = 0; i < x.Length; i += 16) System.Runtime.Intrinsics.Vector512.StoreUnsafe(StaticGrad.Kernels.VectorMath.NormalTail(System.Runtime.Intrinsics.Vector512.LoadUnsafe(ref x[i])), ref y[i]); }),9:F1}  VectorMath.NormalTail");
            return 0;
        }

        if (args.Contains("--products"))
        {
            GptProducts.Run(Best);
            return 0;
        }

        var (ids, labels) = GptBenchmarks.MakeBatches();
        NanoGpt net = GptBenchmarks.NewGenerated();
        int threads = Array.IndexOf(args, "--threads") is int at and >= 0 && at + 1 < args.Length ? int.Parse(args[at + 1]) : 1;
        net.Threads = threads;
        for (int i = 0; i < 30; i++) net.TrainStep(ids[i % GptBenchmarks.BatchCount], labels[i % GptBenchmarks.BatchCount]);

        var nodes = new List<(string Direction, string Op, Action<int> Run)>();
        MethodInfo[] methods = typeof(NanoGpt).GetMethods(BindingFlags.Instance | BindingFlags.NonPublic);
        string[] ops = NanoGpt.Architecture.Split("; ");
        foreach (string direction in new[] { "Forward", "Backward" })
        {
            var found = new List<(int Index, MethodInfo Method)>();
            foreach (MethodInfo method in methods)
            {
                if (method.Name.StartsWith("Node", StringComparison.Ordinal) && method.Name.EndsWith(direction, StringComparison.Ordinal)
                    && int.TryParse(method.Name.AsSpan(4, method.Name.Length - 4 - direction.Length), out int index))
                {
                    found.Add((index, method));
                }
            }

            found.Sort((a, b) => direction == "Forward" ? a.Index.CompareTo(b.Index) : b.Index.CompareTo(a.Index));
            foreach (var (index, method) in found)
            {
                string op = Array.Find(ops, o => o.StartsWith($"%{index} = ", StringComparison.Ordinal)) ?? $"%{index}";
                nodes.Add((direction, op, method.CreateDelegate<Action<int>>(net)));
            }
        }

        int batch = GptBenchmarks.Batch;
        var perKind = new SortedDictionary<string, (double Forward, double Backward, int Count)>();
        double forward = 0, backward = 0;
        bool verbose = args.Contains("--nodes");
        Console.WriteLine($"NanoGpt TrainStep parts, batch {batch}, block {GptBenchmarks.Block}, {threads} thread(s), "
            + $"{(System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated ? "Vector512" : System.Runtime.Intrinsics.Vector256.IsHardwareAccelerated ? "Vector256" : "Vector128 or scalar")} (fastest of 60 calls, µs per call):");
        foreach (var (direction, op, run) in nodes)
        {
            double best = Best(() => run(batch));
            string kind = Kind(op) + (op.Contains("Linear(") ? " " + op[(op.IndexOf("Linear(", StringComparison.Ordinal))..op.IndexOf(')', op.IndexOf("Linear(", StringComparison.Ordinal))] + ")" : string.Empty);
            var entry = perKind.GetValueOrDefault(kind);
            if (direction == "Forward")
            {
                forward += best;
                entry.Forward += best;
                entry.Count++;
            }
            else
            {
                backward += best;
                entry.Backward += best;
            }

            perKind[kind] = entry;
            if (verbose) Console.WriteLine($"{best,9:F1}  {direction,-8} {op}");
        }

        Console.WriteLine("  forward   backward  op (all of that kind)");
        foreach (var (kind, (f, b, count)) in perKind.OrderByDescending(e => e.Value.Forward + e.Value.Backward))
        {
            Console.WriteLine($"{f,9:F1}  {b,9:F1}  {kind} ×{count}");
        }

        double step = Best(net.Step);
        float[] logits = new float[batch * GptBenchmarks.Block * GptBenchmarks.Vocabulary], logitsGradient = new float[logits.Length];
        net.Forward(ids[0], logits);
        double loss = Best(() => StaticGrad.Kernels.Losses.SoftmaxCrossEntropy<float>(logits, labels[0], batch * GptBenchmarks.Block, GptBenchmarks.Vocabulary, logitsGradient));
        double zero = Best(net.ZeroGradients);
        int next = 0;
        double whole = Best(() =>
        {
            net.TrainStep(ids[next], labels[next]);
            next = (next + 1) % GptBenchmarks.BatchCount;
        });
        Console.WriteLine($"{forward,9:F1}  all forward nodes");
        Console.WriteLine($"{backward,9:F1}  all backward nodes");
        Console.WriteLine($"{step,9:F1}  AdamW Step() on {NanoGpt.ParameterCount:N0} parameters");
        Console.WriteLine($"{loss,9:F1}  softmax cross-entropy and its gradient on {batch * GptBenchmarks.Block} positions × {GptBenchmarks.Vocabulary} classes");
        Console.WriteLine($"{zero,9:F1}  ZeroGradients()");
        Console.WriteLine($"{forward + backward + step + loss + zero,9:F1}  sum of the parts");
        Console.WriteLine($"{whole,9:F1}  TrainStep (whole; the rest is checking ids and labels, copying the inputs, and data that left the caches between ops)");
#if TORCH
        var torch = GptBenchmarks.NewTorch(net, ids, labels);
        TorchSharp.torch.set_num_threads(1);
        for (int i = 0; i < 10; i++) torch.Step(1);
        double tf = Best(torch.Forward), tfb = Best(torch.ForwardBackward), ts = Best(torch.OptimizerStep), tw = Best(() => torch.Step(1));
        Console.WriteLine("TorchSharp, one thread (µs per call):");
        Console.WriteLine($"{tf,9:F1}  forward + loss");
        Console.WriteLine($"{tfb - tf,9:F1}  backward (forward + backward − forward)");
        Console.WriteLine($"{ts,9:F1}  AdamW step()");
        Console.WriteLine($"{tw,9:F1}  whole step");
#endif
        return 0;
    }

    private static string Kind(string op)
    {
        // "%14 = ScaledDotProductAttention(causal: true)(%7, …)" or "%5 = blocks.0.query: Linear(128, 128)(%4)"
        string rest = op[(op.IndexOf(" = ", StringComparison.Ordinal) + 3)..];
        int colon = rest.IndexOf(": ", StringComparison.Ordinal);
        if (colon >= 0 && colon < rest.IndexOf('(')) rest = rest[(colon + 2)..];
        int paren = rest.IndexOf('(');
        return paren > 0 ? rest[..paren] : rest;
    }

    /// <summary>
    /// The fastest of 60 single calls after 5 untimed ones, in µs: on a machine shared with other work, a call that was not
    /// preempted is the one that measures the code (a round of many calls is almost never left alone there).
    /// </summary>
    private static double Best(Action action)
    {
        for (int i = 0; i < 5; i++) action();
        double best = double.MaxValue;
        for (int i = 0; i < 60; i++)
        {
            long start = Stopwatch.GetTimestamp();
            action();
            best = Math.Min(best, Stopwatch.GetElapsedTime(start).TotalMicroseconds);
        }

        return best;
    }
}
