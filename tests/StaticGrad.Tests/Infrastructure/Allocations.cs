using System;
using System.Linq;
using Xunit;

namespace StaticGrad.Tests.Infrastructure;

/// <summary>Allocation checks of steady states: training steps, evaluations, parts handed to other threads.</summary>
internal static class Allocations
{
    /// <summary>
    /// Runs <paramref name="step"/> in <paramref name="windows"/> windows of <paramref name="stepsPerWindow"/> calls and
    /// asserts that all windows but at most one allocated exactly 0 bytes on the calling thread.
    /// </summary>
    /// <remarks>
    /// An allocation per call shows in every window and fails. One window is allowed a one-time allocation because the
    /// runtime sometimes makes one on the calling thread, once, at a moment that depends on the load: CI saw 3,672 bytes in
    /// five two-thread training steps and 7,232 bytes in five single-thread rounds of TinyResNet's members, both of which
    /// allocate nothing on a quiet machine (ConvolutionTests had met it before: "the tiered JIT may allocate once while it
    /// promotes methods"). Neither a blocking wait, a contended lock, nor tier-0 code held for 100 s
    /// (DOTNET_TC_CallCountingDelayMs) reproduced it here.
    /// </remarks>
    public static void AssertSteadyStateAllocatesNothing(Action step, int stepsPerWindow, int windows = 3)
    {
        long[] allocated = new long[windows];
        for (int w = 0; w < windows; w++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < stepsPerWindow; i++)
            {
                step();
            }

            allocated[w] = GC.GetAllocatedBytesForCurrentThread() - before;
        }

        Assert.True(allocated.Count(bytes => bytes != 0) <= 1, $"bytes allocated on the calling thread in {windows} windows of {stepsPerWindow} calls: {string.Join(", ", allocated)} (at most one window may allocate, once)");
    }
}
