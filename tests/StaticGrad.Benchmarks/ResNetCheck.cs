using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Reflection;
using StaticGrad.Samples.FashionResNet;

namespace StaticGrad.Benchmarks;

/// <summary>
/// The two non-benchmark modes of <see cref="ResNetBenchmarks"/>:
/// <code>
/// dotnet run -c Release --project tests/StaticGrad.Benchmarks -p:Torch=true -- verify-resnet [steps]
/// dotnet run -c Release --project tests/StaticGrad.Benchmarks -p:Torch=true -- time-resnet [rounds]
/// dotnet run -c Release --project tests/StaticGrad.Benchmarks -p:Torch=true -- profile-resnet
/// </code>
/// <c>verify-resnet</c> trains StaticGrad's FashionResNet and the TorchSharp copy (same initial weights, same batch, Adam 1e-3,
/// one thread) side by side and fails unless the first step's losses agree within 1e-4. <c>profile-resnet</c> times each
/// generated <c>Node*Forward</c>/<c>Node*Backward</c> method and the optimizer step alone (Stopwatch, best of 5 × 20 calls),
/// and with TorchSharp its step split into forward, backward and Adam, and its time for the same ops alone.
/// </summary>
internal static class ResNetCheck
{
#if TORCH
    public static int Verify(string[] args)
    {
        int steps = args.Length > 1 ? int.Parse(args[1]) : 5;
        var (x, y) = ResNetBenchmarks.MakeBatch();
        FashionResNet net = ResNetBenchmarks.NewGenerated();
        TorchTrainer torch = ResNetBenchmarks.NewTorch(net, x, y);
        Console.WriteLine($"FashionResNet, batch {ResNetBenchmarks.Batch}, Adam {ResNetBenchmarks.LearningRate}, {FashionResNet.ParameterCount:N0} parameters, same initial weights; one thread each");
        Console.WriteLine("step | StaticGrad loss | TorchSharp loss | |difference|");
        double first = double.NaN;
        for (int step = 1; step <= steps; step++)
        {
            float ours = net.TrainStep(x, y), theirs = torch.Step(1);
            double difference = Math.Abs(ours - theirs);
            if (step == 1) first = difference;
            Console.WriteLine($"{step,4} | {ours,15:F7} | {theirs,15:F7} | {difference:E2}");
        }

        bool ok = first <= 1e-4;
        Console.WriteLine(ok ? $"OK: the first step's losses agree within 1e-4 ({first:E2})." : $"FAILED: the first step's losses differ by {first:E2} (> 1e-4).");
        return ok ? 0 : 1;
    }

    /// <summary>StaticGrad's step on one and two threads against TorchSharp's on one and two, in alternating rounds.</summary>
    public static int Time(string[] args)
    {
        int rounds = args.Length > 1 ? int.Parse(args[1]) : 6;
        var (x, y) = ResNetBenchmarks.MakeBatch();
        FashionResNet net = ResNetBenchmarks.NewGenerated(), two = ResNetBenchmarks.NewGenerated();
        two.Threads = 2;
        TorchTrainer torch = ResNetBenchmarks.NewTorch(net, x, y);
        AlternatingRounds.Run($"FashionResNet TrainStep, batch {ResNetBenchmarks.Batch}, Adam", rounds, 10,
            ("StaticGrad, 1 thread", () => net.TrainStep(x, y)), ("StaticGrad, 2 threads", () => two.TrainStep(x, y)),
            ("TorchSharp, 1 thread", () => torch.Step(1)), ("TorchSharp, 2 threads", () => torch.Step(2)));
        return 0;
    }
#endif

    public static int Profile(string[] args)
    {
        var (x, y) = ResNetBenchmarks.MakeBatch();
        FashionResNet net = ResNetBenchmarks.NewGenerated();
        for (int i = 0; i < 30; i++) net.TrainStep(x, y); // JIT to the optimised tier; leaves the training-mode state in place

        var nodes = new List<(string Name, Action<int> Run)>();
        MethodInfo[] methods = typeof(FashionResNet).GetMethods(BindingFlags.Instance | BindingFlags.NonPublic);
        string[] ops = Array.ConvertAll(FashionResNet.Architecture.Split("; "), s => s);
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
                nodes.Add(($"{direction,-8} {op}", method.CreateDelegate<Action<int>>(net)));
            }
        }

        int batch = ResNetBenchmarks.Batch;

        // Each node once per pass, in the order TrainStep runs them, so each finds in cache only what the ops before it left
        // there: the median of 20 passes. The difference from its time alone is what the memory between ops costs it.
        var inSequence = new double[nodes.Count][];
        for (int i = 0; i < nodes.Count; i++) inSequence[i] = new double[20];
        for (int pass = 0; pass < 20; pass++)
        {
            net.TrainStep(x, y);
            for (int i = 0; i < nodes.Count; i++)
            {
                long start = Stopwatch.GetTimestamp();
                nodes[i].Run(batch);
                inSequence[i][pass] = Stopwatch.GetElapsedTime(start).TotalMicroseconds;
            }
        }

        double total = 0, forward = 0, backward = 0, sequenceTotal = 0;
        Console.WriteLine($"FashionResNet TrainStep parts, batch {batch}, one thread, {(System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated ? "Vector512" : "Vector256")} (µs per call: alone, best of 5 × 20 calls; in sequence, median of 20 passes):");
        Console.WriteLine("    alone  in sequence");
        for (int i = 0; i < nodes.Count; i++)
        {
            var (name, run) = nodes[i];
            double best = Best(() => run(batch));
            Array.Sort(inSequence[i]);
            double median = inSequence[i][10];
            total += best;
            sequenceTotal += median;
            if (name.StartsWith("Forward", StringComparison.Ordinal)) forward += best; else backward += best;
            Console.WriteLine($"{best,9:F1}  {median,9:F1}  {name}");
        }

        Console.WriteLine($"{sequenceTotal,20:F1}  all nodes in sequence");

        double step = Best(net.Step);
        double whole = Best(() => net.TrainStep(x, y));
        long before = MinorFaults();
        for (int i = 0; i < 20; i++) net.TrainStep(x, y);
        double stepFaults = (MinorFaults() - before) / 20.0;
        Console.WriteLine($"{step,9:F1}  Adam Step() on {FashionResNet.ParameterCount:N0} parameters");
        Console.WriteLine($"{forward,9:F1}  all forward nodes");
        Console.WriteLine($"{backward,9:F1}  all backward nodes");
        Console.WriteLine($"{total + step,9:F1}  sum of the parts");
        Console.WriteLine($"{whole,9:F1}  TrainStep (whole)");
#if TORCH
        ProfileTorch(x, y, net, stepFaults);
#endif
        return 0;
    }

#if TORCH
    /// <summary>TorchSharp's step split into forward, backward and Adam, and its time for the ops that weigh most in ours.</summary>
    private static void ProfileTorch(float[] x, int[] y, FashionResNet net, double stepFaults)
    {
        TorchSharp.torch.set_num_threads(1);
        var model = new TorchFashionResNet();
        model.CopyFrom(FashionResNet.Description, net.Parameters, FashionResNet.State, net.Buffers);
        model.train();
        var optimizer = TorchSharp.torch.optim.Adam(model.parameters(), ResNetBenchmarks.LearningRate);
        var loss = TorchSharp.torch.nn.CrossEntropyLoss();
        var input = TorchSharp.torch.tensor(x, new long[] { ResNetBenchmarks.Batch, 1, 28, 28 });
        var labels = TorchSharp.torch.tensor(Array.ConvertAll(y, v => (long)v));
        void Forward()
        {
            using var scope = TorchSharp.torch.NewDisposeScope();
            loss.call(model.call(input), labels);
        }

        void ForwardBackward()
        {
            using var scope = TorchSharp.torch.NewDisposeScope();
            optimizer.zero_grad();
            loss.call(model.call(input), labels).backward();
        }

        for (int i = 0; i < 10; i++) ForwardBackward();
        double forward = Best(Forward), forwardBackward = Best(ForwardBackward), step = Best(() => optimizer.step());
        var trainer = ResNetBenchmarks.NewTorch(net, x, y);
        for (int i = 0; i < 10; i++) trainer.Step(1);
        long faults = MinorFaults();
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < 20; i++) trainer.Step(1);
        double mean = clock.Elapsed.TotalMicroseconds / 20;
        Console.WriteLine();
        Console.WriteLine($"TorchSharp whole step: {mean:F1} µs mean of 20, {(MinorFaults() - faults) / 20.0:F0} minor page faults per step (StaticGrad's: {stepFaults:F0})");
        Console.WriteLine("TorchSharp, one thread (µs per call):");
        Console.WriteLine($"{forward,9:F1}  forward + loss");
        Console.WriteLine($"{forwardBackward - forward,9:F1}  backward (forward + backward − forward)");
        Console.WriteLine($"{step,9:F1}  Adam step()");
        Console.WriteLine("TorchSharp per op, batch 64 (forward / backward µs per call):");
        TorchOp("Conv2d(1, 32, 3, padding: 1) on 1×28×28", TorchSharp.torch.nn.Conv2d(1, 32, 3, padding: 1), [64, 1, 28, 28]);
        TorchOp("BatchNorm2d(32) on 32×28×28", TorchSharp.torch.nn.BatchNorm2d(32), [64, 32, 28, 28]);
        TorchOp("MaxPool2d(2) on 32×28×28", TorchSharp.torch.nn.MaxPool2d(2), [64, 32, 28, 28]);
        TorchOp("Conv2d(32, 32, 3, padding: 1, bias: false) on 32×14×14", TorchSharp.torch.nn.Conv2d(32, 32, 3, padding: 1, bias: false), [64, 32, 14, 14]);
        TorchOp("BatchNorm2d(32) on 32×14×14", TorchSharp.torch.nn.BatchNorm2d(32), [64, 32, 14, 14]);
    }

    private static void TorchOp(string name, TorchSharp.torch.nn.Module<TorchSharp.torch.Tensor, TorchSharp.torch.Tensor> op, long[] shape)
    {
        var x = TorchSharp.torch.rand(shape).requires_grad_();
        TorchSharp.torch.Tensor gradient;
        using (TorchSharp.torch.no_grad())
        {
            gradient = TorchSharp.torch.randn_like(op.call(x));
        }

        void Forward()
        {
            using var scope = TorchSharp.torch.NewDisposeScope();
            op.call(x);
        }

        void ForwardBackward()
        {
            using var scope = TorchSharp.torch.NewDisposeScope();
            op.zero_grad();
            x.grad?.zero_();
            op.call(x).backward([gradient]);
        }

        for (int i = 0; i < 10; i++) ForwardBackward();
        double forward = Best(Forward), forwardBackward = Best(ForwardBackward);
        Console.WriteLine($"{forward,9:F1} / {forwardBackward - forward,9:F1}  {name}");
    }
#endif

    /// <summary>This process's minor page faults so far (field 10 of /proc/self/stat), or 0 where there is none.</summary>
    private static long MinorFaults()
    {
        try
        {
            string stat = System.IO.File.ReadAllText("/proc/self/stat");
            return long.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[7], System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (System.IO.IOException)
        {
            return 0;
        }
    }

    private static double Best(Action action)
    {
        double best = double.MaxValue;
        for (int round = 0; round < 5; round++)
        {
            long start = Stopwatch.GetTimestamp();
            for (int i = 0; i < 20; i++) action();
            best = Math.Min(best, Stopwatch.GetElapsedTime(start).TotalMicroseconds / 20);
        }

        return best;
    }
}
