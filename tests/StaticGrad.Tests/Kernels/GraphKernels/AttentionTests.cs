using System;
using StaticGrad.Kernels;
using Xunit;
using static StaticGrad.Tests.Kernels.GraphKernels.GraphKernelCheck;

namespace StaticGrad.Tests.Kernels.GraphKernels;

/// <summary>
/// <see cref="Attention.ScaledDotProduct{TShape, T}(System.ReadOnlySpan{T}, System.ReadOnlySpan{T}, System.ReadOnlySpan{T}, System.Span{T}, System.Span{T}, int, bool, T)"/> and its backward pass (matrix products on the GEMM kernels, softmax
/// rows in between) against a naive double-precision reference written here, on random shapes that leave SIMD tails and
/// cross the packed path's threshold, causal and not, in float and double; and no allocation once warm.
/// </summary>
public class AttentionTests
{
    /// <summary>Sizes read from static fields, so one struct covers random shapes (the generated ones return constants).</summary>
    private struct RandomShape : IAttentionShape
    {
        public static int Queries, Keys, Features, ValueFeatures;

        public readonly int Tq => Queries;

        public readonly int Tk => Keys;

        public readonly int D => Features;

        public readonly int Dv => ValueFeatures;
    }

    private readonly struct Gpt64Shape : IAttentionShape
    {
        public int Tq => 64;

        public int Tk => 64;

        public int D => 32;

        public int Dv => 32;
    }

    [Fact]
    public void RandomShapes_MatchNaiveReference_ForwardAndBackward()
    {
        var random = new Random(11);
        for (int trial = 0; trial < 40; trial++)
        {
            int tq = random.Next(1, 70), tk = random.Next(1, 70), d = random.Next(1, 40), dv = random.Next(1, 40), count = random.Next(1, 4);
            bool causal = random.Next(2) == 0;
            if (trial == 0)
            {
                (tq, tk, d, dv, count, causal) = (64, 64, 32, 32, 3, true);   // nanoGPT's per-head shape
            }

            RandomShape.Queries = tq;
            RandomShape.Keys = tk;
            RandomShape.Features = d;
            RandomShape.ValueFeatures = dv;
            Check<RandomShape>(random, count, tq, tk, d, dv, causal, $"trial {trial}: {count}× {tq}×{tk}, d {d}, dv {dv}, causal {causal}");
        }
    }

    [Fact]
    public void ConstantShape_MatchesNaiveReference_AndWarmCallsAllocateNothing()
    {
        var random = new Random(12);
        Check<Gpt64Shape>(random, 2, 64, 64, 32, 32, true, "64×64, d 32, causal");
        float[] q = ToFloat(Random(random, 2 * 64 * 32)), k = ToFloat(Random(random, 2 * 64 * 32)), v = ToFloat(Random(random, 2 * 64 * 32));
        float[] o = new float[2 * 64 * 32], p = new float[2 * 64 * 64], scratch = new float[64 * 64], dq = new float[q.Length], dk = new float[k.Length], dv = new float[v.Length];
        long bytes = AllocatedBytes(() =>
        {
            Attention.ScaledDotProduct<Gpt64Shape, float>(q, k, v, o, p, 2, causal: true, 0.17677669f);
            Attention.ScaledDotProductBackward<Gpt64Shape, float>(q, k, v, p, o, dq, dk, dv, scratch, 2, causal: true, 0.17677669f);
        });
        Assert.Equal(0, bytes);
    }

    private static void Check<TShape>(Random random, int count, int tq, int tk, int d, int dv, bool causal, string what)
        where TShape : struct, IAttentionShape
    {
        double scale = 1 / Math.Sqrt(d);
        double[] q = Random(random, count * tq * d), k = Random(random, count * tk * d), v = Random(random, count * tk * dv), dO = Random(random, count * tq * dv);
        var (o, p, dq, dk, dvRef) = Reference(q, k, v, dO, count, tq, tk, d, dv, causal, scale);

        // double
        double[] oD = new double[o.Length], pD = new double[p.Length], dqD = new double[dq.Length], dkD = new double[dk.Length], dvD = new double[dvRef.Length];
        Array.Fill(oD, double.NaN);
        Array.Fill(pD, double.NaN);
        Array.Fill(dqD, double.NaN);
        Array.Fill(dkD, double.NaN);
        Array.Fill(dvD, double.NaN);
        Attention.ScaledDotProduct<TShape, double>(q, k, v, oD, pD, count, causal, scale);
        Attention.ScaledDotProductBackward<TShape, double>(q, k, v, pD, dO, dqD, dkD, dvD, new double[tq * tk], count, causal, scale);
        Close($"{what} double output", o, oD, 1e-12, 1);
        Close($"{what} double probabilities", p, pD, 1e-12, 1);
        Close($"{what} double dq", dq, dqD, 1e-12, 1);
        Close($"{what} double dk", dk, dkD, 1e-12, 1);
        Close($"{what} double dv", dvRef, dvD, 1e-12, 1);

        // float: rounding of sums of up to 70 terms of order 1
        float[] qf = ToFloat(q), kf = ToFloat(k), vf = ToFloat(v), dOf = ToFloat(dO);
        float[] oF = new float[o.Length], pF = new float[p.Length], dqF = new float[dq.Length], dkF = new float[dk.Length], dvF = new float[dvRef.Length];
        Array.Fill(pF, float.NaN);
        Attention.ScaledDotProduct<TShape, float>(qf, kf, vf, oF, pF, count, causal, (float)scale);
        Attention.ScaledDotProductBackward<TShape, float>(qf, kf, vf, pF, dOf, dqF, dkF, dvF, new float[tq * tk], count, causal, (float)scale);
        Close($"{what} float output", o, oF, 2e-5, 1);
        Close($"{what} float probabilities", p, pF, 2e-5, 1);
        Close($"{what} float dq", dq, dqF, 2e-5, 1);
        Close($"{what} float dk", dk, dkF, 2e-5, 1);
        Close($"{what} float dv", dvRef, dvF, 2e-5, 1);
    }

    /// <summary>The formulas element by element, in double: S = q·kᵀ·scale, masked, softmax, O = P·v, and the backward pass.</summary>
    private static (double[] O, double[] P, double[] Dq, double[] Dk, double[] Dv) Reference(double[] q, double[] k, double[] v, double[] dO, int count, int tq, int tk, int d, int dv, bool causal, double scale)
    {
        double[] o = new double[count * tq * dv], p = new double[count * tq * tk], dq = new double[count * tq * d], dk = new double[count * tk * d], dV = new double[count * tk * dv];
        for (int b = 0; b < count; b++)
        {
            int qb = b * tq * d, kb = b * tk * d, vb = b * tk * dv, ob = b * tq * dv, pb = b * tq * tk;
            for (int i = 0; i < tq; i++)
            {
                double max = double.NegativeInfinity;
                for (int j = 0; j < tk; j++)
                {
                    if (causal && j > i) continue;
                    double s = 0;
                    for (int f = 0; f < d; f++) s += q[qb + (i * d) + f] * k[kb + (j * d) + f];
                    p[pb + (i * tk) + j] = s * scale;
                    max = Math.Max(max, s * scale);
                }

                double sum = 0;
                for (int j = 0; j < tk; j++)
                {
                    if (causal && j > i) continue;
                    sum += Math.Exp(p[pb + (i * tk) + j] - max);
                }

                for (int j = 0; j < tk; j++)
                {
                    p[pb + (i * tk) + j] = causal && j > i ? 0 : Math.Exp(p[pb + (i * tk) + j] - max) / sum;
                    for (int f = 0; f < dv; f++) o[ob + (i * dv) + f] += p[pb + (i * tk) + j] * v[vb + (j * dv) + f];
                }

                // backward of row i
                double[] dP = new double[tk];
                double dot = 0;
                for (int j = 0; j < tk; j++)
                {
                    for (int f = 0; f < dv; f++)
                    {
                        dP[j] += dO[ob + (i * dv) + f] * v[vb + (j * dv) + f];
                        dV[vb + (j * dv) + f] += p[pb + (i * tk) + j] * dO[ob + (i * dv) + f];
                    }

                    dot += dP[j] * p[pb + (i * tk) + j];
                }

                for (int j = 0; j < tk; j++)
                {
                    double dS = p[pb + (i * tk) + j] * (dP[j] - dot) * scale;
                    for (int f = 0; f < d; f++)
                    {
                        dq[qb + (i * d) + f] += dS * k[kb + (j * d) + f];
                        dk[kb + (j * d) + f] += dS * q[qb + (i * d) + f];
                    }
                }
            }
        }

        return (o, p, dq, dk, dV);
    }
}
