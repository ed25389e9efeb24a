using System;
using Xunit;

namespace StaticGrad.Tests.Kernels.GraphKernels;

/// <summary>
/// What the graph-kernel tests share: random inputs, comparisons with a message naming the first bad element, a
/// fourth-order central difference (truncation error O(h⁴), so a relative error below 1e-7 is a real bar) and the
/// allocation meter.
/// </summary>
internal static class GraphKernelCheck
{
    /// <summary>Normal-ish values: the sum of three uniforms on [−1, 1), times <paramref name="scale"/>, plus <paramref name="offset"/>.</summary>
    public static double[] Random(Random random, int length, double scale = 1.0, double offset = 0.0)
    {
        double[] values = new double[length];
        for (int i = 0; i < length; i++)
        {
            values[i] = offset + (scale * ((random.NextDouble() * 2) - 1 + (random.NextDouble() * 2) - 1 + (random.NextDouble() * 2) - 1));
        }

        return values;
    }

    public static float[] ToFloat(double[] values) => Array.ConvertAll(values, v => (float)v);

    public static double[] ToDouble(float[] values) => Array.ConvertAll(values, v => (double)v);

    /// <summary>Each element within <paramref name="relative"/> of the expected one, relative to max(|expected|, <paramref name="floor"/>).</summary>
    public static void Close(string what, ReadOnlySpan<double> expected, ReadOnlySpan<double> actual, double relative, double floor = 1e-300)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            double error = Math.Abs(expected[i] - actual[i]), bound = relative * Math.Max(Math.Abs(expected[i]), floor);
            if (!(error <= bound))
            {
                Assert.Fail($"{what}[{i}]: expected {expected[i]:R}, got {actual[i]:R} (error {error:E2}, allowed {bound:E2}).");
            }
        }
    }

    public static void Close(string what, ReadOnlySpan<double> expected, ReadOnlySpan<float> actual, double relative, double floor)
    {
        double[] widened = new double[actual.Length];
        for (int i = 0; i < actual.Length; i++)
        {
            widened[i] = actual[i];
        }

        Close(what, expected, widened, relative, floor);
    }

    /// <summary>
    /// ∂loss/∂values[i] for every i by the five-point stencil <c>(f(−2h) − 8f(−h) + 8f(h) − f(2h))/(12h)</c>; the values
    /// are restored afterwards.
    /// </summary>
    public static double[] NumericGradient(double[] values, Func<double> loss, double h = 1e-3)
    {
        double[] gradient = new double[values.Length];
        for (int i = 0; i < values.Length; i++)
        {
            double saved = values[i];
            values[i] = saved - (2 * h);
            double m2 = loss();
            values[i] = saved - h;
            double m1 = loss();
            values[i] = saved + h;
            double p1 = loss();
            values[i] = saved + (2 * h);
            double p2 = loss();
            values[i] = saved;
            gradient[i] = (m2 - (8 * m1) + (8 * p1) - p2) / (12 * h);
        }

        return gradient;
    }

    /// <summary>
    /// The analytic gradient against the numeric one: every element within 1e-7 relative, measured against the larger of
    /// its own size and 1 % of the gradient's largest element (an element that is zero up to round-off has no relative
    /// error to speak of).
    /// </summary>
    public static void GradientMatches(string what, double[] numeric, ReadOnlySpan<double> analytic, double relative = 1e-7)
    {
        double largest = 0;
        foreach (double v in numeric)
        {
            largest = Math.Max(largest, Math.Abs(v));
        }

        Close(what, numeric, analytic, relative, Math.Max(largest * 1e-2, 1e-12));
    }

    /// <summary>Σ weights[i]·values[i]: the scalar whose gradient with respect to values is weights.</summary>
    public static double Dot(ReadOnlySpan<double> weights, ReadOnlySpan<double> values)
    {
        double sum = 0;
        for (int i = 0; i < weights.Length; i++)
        {
            sum += weights[i] * values[i];
        }

        return sum;
    }

    /// <summary>The bytes one call of <paramref name="action"/> allocates after three warm-up calls (the median of three calls).</summary>
    public static long AllocatedBytes(Action action)
    {
        for (int i = 0; i < 3; i++)
        {
            action();
        }

        // The median of three calls: an allocation per call shows in all three, a one-time allocation of the runtime under
        // load (see Allocations.AssertSteadyStateAllocatesNothing) in one at most.
        long[] bytes = new long[3];
        for (int i = 0; i < bytes.Length; i++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            action();
            bytes[i] = GC.GetAllocatedBytesForCurrentThread() - before;
        }

        System.Array.Sort(bytes);
        return bytes[1];
    }
}
