using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;

namespace StaticGrad.Benchmarks;

/// <summary>
/// Times several training steps against each other on a shared machine: rounds of <c>steps</c> calls of each in turn, so
/// that a neighbour's load hits all of them alike; prints each one's best and median round and its fastest single call,
/// relative to the first (StaticGrad on one thread), and the managed bytes the first call allocated per step.
/// </summary>
internal static class AlternatingRounds
{
    /// <summary>Warms every step up, measures allocations, runs the rounds and prints the table.</summary>
    /// <param name="title">What is timed (the first line printed).</param>
    /// <param name="rounds">How many rounds.</param>
    /// <param name="steps">Timed calls of each step per round.</param>
    /// <param name="runs">The steps, the baseline first; each returns its loss.</param>
    public static void Run(string title, int rounds, int steps, params (string Name, Func<float> Step)[] runs)
    {
        for (int i = 0; i < 30; i++)
        {
            foreach (var run in runs) run.Step();
        }

        var bytes = new double[runs.Length];
        for (int r = 0; r < runs.Length; r++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 20; i++) runs[r].Step();
            bytes[r] = (GC.GetAllocatedBytesForCurrentThread() - before) / 20.0;
        }

        var times = runs.Select(_ => new List<double>()).ToArray();
        var fastest = runs.Select(_ => double.MaxValue).ToArray();
        for (int round = 0; round < rounds; round++)
        {
            for (int r = 0; r < runs.Length; r++)
            {
                runs[r].Step(); // a first step after switching, not timed (TorchSharp's thread count changes here)
                long start = Stopwatch.GetTimestamp();
                for (int i = 0; i < steps; i++)
                {
                    long one = Stopwatch.GetTimestamp();
                    runs[r].Step();
                    fastest[r] = Math.Min(fastest[r], Stopwatch.GetElapsedTime(one).TotalMilliseconds);
                }

                times[r].Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds / steps);
            }
        }

        string kernels = System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated ? "Vector512" : System.Runtime.Intrinsics.Vector256.IsHardwareAccelerated ? "Vector256" : "Vector128 or scalar";
        Console.WriteLine($"{title}; {rounds} alternating rounds of {steps} steps; {kernels} kernels; ms per step");
        double baseBest = times[0].Min(), baseFastest = fastest[0];
        for (int r = 0; r < runs.Length; r++)
        {
            times[r].Sort();
            double best = times[r][0], median = times[r][times[r].Count / 2];
            Console.WriteLine($"{runs[r].Name,-22} rounds: best {best,7:F2}  median {median,7:F2} ({best / baseBest:F2}× the first's best)   fastest single step {fastest[r],7:F2} ({fastest[r] / baseFastest:F2}×)   {bytes[r],7:F0} B allocated per step on the calling thread");
        }
    }
}
