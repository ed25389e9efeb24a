using System;

namespace StaticGrad.Benchmarks;

/// <summary>Checks every variant against a double-precision reference before timing; a wrong variant stops the run.</summary>
internal static class Verify
{
    public static void MatMul(MatMulBenchmarks benchmarks, int m, int k, int n)
    {
        var (w, x, dD) = benchmarks.Inputs;
        double[] d = new double[m * n], dW = new double[m * k], dX = new double[k * n];
        double[] dAbs = new double[m * n], dWAbs = new double[m * k], dXAbs = new double[k * n];
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                for (int p = 0; p < k; p++)
                {
                    double wx = (double)w[(i * k) + p] * x[(p * n) + j];
                    d[(i * n) + j] += wx;
                    dAbs[(i * n) + j] += Math.Abs(wx);
                    double gx = (double)dD[(i * n) + j] * x[(p * n) + j];
                    dW[(i * k) + p] += gx;
                    dWAbs[(i * k) + p] += Math.Abs(gx);
                    double wg = (double)w[(i * k) + p] * dD[(i * n) + j];
                    dX[(p * n) + j] += wg;
                    dXAbs[(p * n) + j] += Math.Abs(wg);
                }
            }
        }

        benchmarks.CheckAll((variant, actualD, actualDW, actualDX) =>
        {
            Compare(variant, "D", actualD, d, dAbs, k);
            Compare(variant, "dW", actualDW, dW, dWAbs, n);
            Compare(variant, "dX", actualDX, dX, dXAbs, m);
        });
    }

    /// <summary>|actual − reference| ≤ 2·n·2⁻²⁴·Σ|terms|: the float summation bound (Higham §3.1), doubled for safety.</summary>
    private static void Compare(string variant, string what, float[] actual, double[] expected, double[] absSum, int length)
    {
        for (int e = 0; e < expected.Length; e++)
        {
            double tolerance = (2.0 * length * Math.Pow(2, -24) * absSum[e]) + 1e-30;
            if (!(Math.Abs(actual[e] - expected[e]) <= tolerance))
            {
                throw new InvalidOperationException($"{variant}: {what}[{e}] = {actual[e]}, reference {expected[e]} (tolerance {tolerance:G3})");
            }
        }
    }
}
