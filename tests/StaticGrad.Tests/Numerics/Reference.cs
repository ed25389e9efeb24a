using System;
using Xunit.Sdk;

namespace StaticGrad.Tests.Numerics;

/// <summary>
/// The notebook's formulas written independently of the generator, in double, plus the error bound the
/// generated results are held to.
/// </summary>
/// <remarks>
/// <para>Tolerance. Each output element is a dot product of length n (K for D, N for dW, M for dX), summed in
/// the element type with unit roundoff u (2⁻²⁴ for float, 2⁻⁵³ for double). The classic a-priori bound for
/// recursive summation (Higham, <i>Accuracy and Stability of Numerical Algorithms</i>, §3.1) is
/// |computed − exact| ≤ γₙ·Σ|aᵢbᵢ| with γₙ = n·u/(1 − n·u). The double reference has its own error of at most
/// γₙ(double)·Σ|aᵢbᵢ|, so an element passes when |generated − reference| ≤ 2·γₙ·Σ|aᵢbᵢ|. The bound is
/// per element and scales with the data, so it is tight enough that one missing or misplaced term fails it.</para>
/// </remarks>
internal static class Reference
{
    public const double FloatRoundoff = 1.0 / (1 << 24);
    public const double DoubleRoundoff = 1.0 / (1L << 53);

    /// <summary>D = W·X. Returns D and, per element, Σₖ|W[i,k]·X[k,j]|.</summary>
    public static (double[] Value, double[] AbsSum) Forward(double[] w, double[] x, int m, int k, int n)
    {
        var d = new double[m * n];
        var abs = new double[m * n];
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                double sum = 0, sumAbs = 0;
                for (int p = 0; p < k; p++)
                {
                    double term = w[(i * k) + p] * x[(p * n) + j];
                    sum += term;
                    sumAbs += Math.Abs(term);
                }

                d[(i * n) + j] = sum;
                abs[(i * n) + j] = sumAbs;
            }
        }

        return (d, abs);
    }

    /// <summary>dW = dD·Xᵀ, by its definition dW[i,p] = Σⱼ dD[i,j]·X[p,j].</summary>
    public static (double[] Value, double[] AbsSum) GradW(double[] x, double[] dD, int m, int k, int n)
    {
        var dW = new double[m * k];
        var abs = new double[m * k];
        for (int i = 0; i < m; i++)
        {
            for (int p = 0; p < k; p++)
            {
                double sum = 0, sumAbs = 0;
                for (int j = 0; j < n; j++)
                {
                    double term = dD[(i * n) + j] * x[(p * n) + j];
                    sum += term;
                    sumAbs += Math.Abs(term);
                }

                dW[(i * k) + p] = sum;
                abs[(i * k) + p] = sumAbs;
            }
        }

        return (dW, abs);
    }

    /// <summary>dX = Wᵀ·dD, by its definition dX[p,j] = Σᵢ W[i,p]·dD[i,j].</summary>
    public static (double[] Value, double[] AbsSum) GradX(double[] w, double[] dD, int m, int k, int n)
    {
        var dX = new double[k * n];
        var abs = new double[k * n];
        for (int p = 0; p < k; p++)
        {
            for (int j = 0; j < n; j++)
            {
                double sum = 0, sumAbs = 0;
                for (int i = 0; i < m; i++)
                {
                    double term = w[(i * k) + p] * dD[(i * n) + j];
                    sum += term;
                    sumAbs += Math.Abs(term);
                }

                dX[(p * n) + j] = sum;
                abs[(p * n) + j] = sumAbs;
            }
        }

        return (dX, abs);
    }

    /// <summary>Fails with the first element outside 2·γₙ·Σ|aᵢbᵢ|, naming the matrix, the element and both values.</summary>
    public static void AssertClose(string what, ReadOnlySpan<double> actual, (double[] Value, double[] AbsSum) expected, int columns, int n, double roundoff, string context = "")
    {
        if (actual.Length != expected.Value.Length)
        {
            throw new XunitException($"{what}: length {actual.Length}, expected {expected.Value.Length}. {context}");
        }

        double gamma = n * roundoff / (1 - (n * roundoff));
        for (int e = 0; e < actual.Length; e++)
        {
            double tolerance = (2 * gamma * expected.AbsSum[e]) + double.Epsilon;
            double error = Math.Abs(actual[e] - expected.Value[e]);
            if (!(error <= tolerance))
            {
                throw new XunitException(
                    $"{what}[{e / columns},{e % columns}] = {actual[e]:R}, reference {expected.Value[e]:R}: |error| {error:G3} > tolerance {tolerance:G3} (2·γ{n}·Σ|ab|). {context}");
            }
        }
    }

    public static double[] Randn(Random random, int count)
    {
        var values = new double[count];
        for (int i = 0; i < count; i++)
        {
            double u1 = 1.0 - random.NextDouble();
            double u2 = random.NextDouble();
            values[i] = Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2);
        }

        return values;
    }

    public static float[] ToFloat(double[] values) => Array.ConvertAll(values, v => (float)v);

    public static double[] ToDouble(float[] values) => Array.ConvertAll(values, v => (double)v);
}
