using System;
using System.Linq;
using System.Threading;
using StaticGrad.Kernels;
using StaticGrad.Tests.Infrastructure;
using Xunit;

namespace StaticGrad.Tests.Networks;

/// <summary>A network with <c>Threads = 2</c>: the same training as on one thread, no allocations per step, clear errors.</summary>
public class NetworkThreadsTests
{
    [Fact]
    public void TwoThreads_TrainLikeOne_AndNeitherAllocatesPerStep()
    {
        var random = new Random(5);
        float[] x = Enumerable.Range(0, 96 * 300).Select(_ => (float)random.NextDouble()).ToArray();
        int[] y = Enumerable.Range(0, 96).Select(i => i % 10).ToArray();
        var one = new ThreadedMlp(seed: 3, maxBatchSize: 96);
        var two = new ThreadedMlp(seed: 3, maxBatchSize: 96) { Threads = 2 };
        Assert.Equal(1, one.Threads);
        Assert.Equal(2, two.Threads);
        one.UseAdam(1e-3f);
        two.UseAdam(1e-3f);

        // 96×300×256 and 96×256×... products pass the threading threshold, so the rows really are split.
        Assert.True(96L * 256 * 300 >= 1 << 20);
        for (int step = 0; step < 5; step++)
        {
            float lossOne = one.TrainStep(x, y), lossTwo = two.TrainStep(x, y);
            Assert.Equal(lossOne, lossTwo, 4);
        }

        float[] p1 = one.Parameters.ToArray(), p2 = two.Parameters.ToArray();
        for (int i = 0; i < p1.Length; i++)
        {
            Assert.True(Math.Abs(p1[i] - p2[i]) <= 1e-5f * Math.Max(1, Math.Abs(p1[i])), $"parameter {i}: {p1[i]} on one thread, {p2[i]} on two");
        }

        // Both take the packed path (96×256×300 ≥ 2¹⁹ multiply-adds): its scratch comes from the first steps, none after.
        Assert.True(Gemm.UsesPackedPath(96, 256, 300, sizeof(float)) || !Gemm.UsesPackedPath(1024, 1024, 1024, sizeof(float)));
        foreach (var net in new[] { one, two })
        {
            net.TrainStep(x, y);
            Allocations.AssertSteadyStateAllocatesNothing(() => net.TrainStep(x, y), stepsPerWindow: 10);
        }

        two.Threads = 1;
        Assert.Equal(1, two.Threads);
        two.TrainStep(x, y);
    }

    /// <summary>Stride-1 convolutions split the batch's examples across the team; each thread sums its own share of ∂W.</summary>
    [Fact]
    public void Cnn_OnTwoThreads_TrainsLikeOne_AndAllocatesNothingPerStep()
    {
        const int Batch = 32;
        var random = new Random(8);
        float[] x = Enumerable.Range(0, Batch * FashionCnnFloat.InputSize).Select(_ => (float)random.NextDouble()).ToArray();
        byte[] y = Enumerable.Range(0, Batch).Select(i => (byte)(i % 10)).ToArray();
        var one = new FashionCnnFloat(seed: 4, maxBatchSize: Batch) { Optimizer = new StaticGrad.Training.Sgd(0.05) };
        var two = new FashionCnnFloat(seed: 4, maxBatchSize: Batch) { Optimizer = new StaticGrad.Training.Sgd(0.05), Threads = 2 };

        // Batch·16·28·28·9 and Batch·32·14·14·144 multiply-adds pass the threshold: both convolutions are split.
        Assert.True((long)Batch * 16 * 28 * 28 * 9 >= 1 << 20);
        for (int step = 0; step < 4; step++)
        {
            float lossOne = one.TrainStep(x, y), lossTwo = two.TrainStep(x, y);
            Assert.True(Math.Abs(lossOne - lossTwo) <= 1e-4f * Math.Max(1, Math.Abs(lossOne)), $"step {step}: loss {lossOne} on one thread, {lossTwo} on two");
        }

        float[] p1 = one.Parameters.ToArray(), p2 = two.Parameters.ToArray();
        for (int i = 0; i < p1.Length; i++)
        {
            Assert.True(Math.Abs(p1[i] - p2[i]) <= 1e-4f * Math.Max(1, Math.Abs(p1[i])), $"parameter {i}: {p1[i]} on one thread, {p2[i]} on two");
        }

        // The second thread's workspace regions come with the first step on two threads; none after.
        Allocations.AssertSteadyStateAllocatesNothing(() => two.TrainStep(x, y), stepsPerWindow: 2);

        // ∂L/∂inputs through Backward, on two threads, matches one thread's.
        float[] outOne = new float[Batch * 10], outTwo = new float[Batch * 10], dOut = Enumerable.Range(0, Batch * 10).Select(_ => (float)random.NextDouble() - 0.5f).ToArray();
        float[] dxOne = new float[x.Length], dxTwo = new float[x.Length];
        var three = new FashionCnnFloat(seed: 6, maxBatchSize: Batch);
        var four = new FashionCnnFloat(seed: 6, maxBatchSize: Batch) { Threads = 2 };
        three.Forward(x, outOne);
        four.Forward(x, outTwo);
        three.Backward(dOut, dxOne);
        four.Backward(dOut, dxTwo);
        for (int i = 0; i < dxOne.Length; i++)
        {
            Assert.True(Math.Abs(dxOne[i] - dxTwo[i]) <= 1e-5f, $"∂L/∂inputs[{i}]: {dxOne[i]} on one thread, {dxTwo[i]} on two");
        }
    }

    [Fact]
    public void ThreadsOutsideTheRange_ThrowWithTheName()
    {
        var net = new ThreadedMlp();
        Assert.Equal("Threads", Assert.Throws<ArgumentOutOfRangeException>(() => net.Threads = 0).ParamName);
        Assert.Equal("Threads", Assert.Throws<ArgumentOutOfRangeException>(() => net.Threads = 65).ParamName);
        Assert.Equal(1, net.Threads);
        Assert.Equal("threads", Assert.Throws<ArgumentOutOfRangeException>(() => new WorkerTeam(1)).ParamName);
    }

    /// <summary>An exception in a part on a worker reaches the caller (the process used to end), and the team keeps working.</summary>
    [Fact]
    public void AnExceptionInAWorkersPart_IsRethrownOnTheCaller_AndTheTeamStaysUsable()
    {
        using var team = new WorkerTeam(3);
        var failing = new FailingJob { FailingPart = 2 };
        var e = Assert.Throws<InvalidOperationException>(() => team.Run(ref failing));
        Assert.Equal("part 2 failed", e.Message);
        Assert.Contains(nameof(FailingJob), e.StackTrace); // the worker's stack, kept by ExceptionDispatchInfo

        var callerFails = new FailingJob { FailingPart = 0 };
        e = Assert.Throws<InvalidOperationException>(() => team.Run(ref callerFails));
        Assert.Equal("part 0 failed", e.Message);
        Assert.Equal(2, callerFails.Finished); // the caller waited for the other two parts before throwing

        var fine = new FailingJob { FailingPart = -1 };
        team.Run(ref fine);
        Assert.Equal(3, fine.Finished);
    }

    private struct FailingJob : IPartitionedJob
    {
        public int FailingPart;
        public int Finished;

        public void Run(int part, int parts)
        {
            if (part == FailingPart)
            {
                throw new InvalidOperationException($"part {part} failed");
            }

            Thread.Sleep(part == 0 ? 0 : 20); // workers end after the caller's part
            Interlocked.Increment(ref Finished);
        }
    }

    /// <summary>
    /// A call whose caller spins out and has to sleep in <see cref="Monitor.Wait(object)"/> until a slow worker is done
    /// allocates nothing either (training on a busy machine takes that path; on a quiet one the caller only spins).
    /// </summary>
    [Fact]
    public void ACallThatSleepsUntilAWorkerIsDone_AllocatesNothing()
    {
        using var team = new WorkerTeam(2);
        long allocated = -1;
        int finished = 0;
        var caller = new Thread(() =>
        {
            var quickWorker = new SlowPartJob { SlowPart = 0 }; // starts the workers; the caller's part is the slow one
            team.Run(ref quickWorker);
            var slowWorker = new SlowPartJob { SlowPart = 1 };  // the caller spins out and sleeps in Monitor.Wait
            long before = GC.GetAllocatedBytesForCurrentThread();
            team.Run(ref slowWorker);
            allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            finished = slowWorker.Finished; // asserted on the test's thread: an assertion failing here would end the process
        });
        caller.Start();
        caller.Join();
        Assert.Equal(2, finished);
        Assert.Equal(0, allocated);
    }

    private struct SlowPartJob : IPartitionedJob
    {
        public int SlowPart;
        public int Finished;

        public void Run(int part, int parts)
        {
            if (part == SlowPart)
            {
                // Busy, not Thread.Sleep: the caller must not have slept on this thread before the measured call.
                var clock = System.Diagnostics.Stopwatch.StartNew();
                while (clock.ElapsedMilliseconds < 50)
                {
                }
            }

            Interlocked.Increment(ref Finished);
        }
    }

    /// <summary>The steady-state check the two-thread tests use fails on an allocation per call, and on two allocating windows.</summary>
    [Fact]
    public void TheSteadyStateAllocationCheck_FailsOnAnAllocationPerCall()
    {
        Assert.ThrowsAny<Xunit.Sdk.XunitException>(() => Allocations.AssertSteadyStateAllocatesNothing(() => GC.KeepAlive(new byte[1]), stepsPerWindow: 3));
        int calls = 0;
        Assert.ThrowsAny<Xunit.Sdk.XunitException>(() => Allocations.AssertSteadyStateAllocatesNothing(() => GC.KeepAlive(++calls % 3 == 0 ? new byte[1] : null), stepsPerWindow: 3));
        calls = 0;
        Allocations.AssertSteadyStateAllocatesNothing(() => GC.KeepAlive(++calls == 2 ? new byte[1] : null), stepsPerWindow: 3); // once: allowed
    }

    [Fact]
    public void AJobWhileTheTeamIsBusy_RunsOnItsOwnThread()
    {
        using var team = new WorkerTeam(2);
        var outer = new NestedJob { Team = team };
        team.Run(ref outer);
        Assert.Equal(2, outer.PartsSeen);   // the outer job was split in two
        Assert.Equal(1, outer.InnerParts);  // the job started inside it found the team busy and ran as one part
    }

    private struct NestedJob : IPartitionedJob
    {
        public WorkerTeam Team;
        public int PartsSeen;
        public int InnerParts;

        public void Run(int part, int parts)
        {
            if (part == 0)
            {
                PartsSeen = parts;
                var inner = new CountingJob();
                Team.Run(ref inner);
                InnerParts = inner.Parts;
            }
        }
    }

    private struct CountingJob : IPartitionedJob
    {
        public int Parts;

        public void Run(int part, int parts) => Parts = parts;
    }
}

[Linear(300, 256), ReLU, Linear(256, 10), SoftmaxCrossEntropy]
public partial class ThreadedMlp;
