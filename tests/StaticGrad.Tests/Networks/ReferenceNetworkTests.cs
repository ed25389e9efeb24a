using System;
using System.Linq;
using StaticGrad.Tests.Numerics;
using Xunit;

namespace StaticGrad.Tests.Networks;

/// <summary>
/// The digits MLP [Linear(64, 32), ReLU, Linear(32, 10), SoftmaxCrossEntropy] against hand-written loops in this file
/// (forward, loss, backward), element by element; and the float network against the double one.
/// </summary>
public class ReferenceNetworkTests
{
    private const int Batch = 5;

    [Fact]
    public void DoubleNetwork_MatchesHandWrittenReference()
    {
        var net = new DigitNetDouble(seed: 42);
        var random = new Random(1);
        double[] x = Reference.Randn(random, Batch * 64);
        int[] labels = { 3, 0, 9, 5, 5 };
        double[] p = net.Parameters.ToArray();

        var reference = HandWritten.Run(p, x, labels);

        var outputs = new double[Batch * 10];
        var dOut = new double[Batch * 10];
        var dX = new double[Batch * 64];
        net.ZeroGradients();
        net.Forward(x, outputs);
        double loss = net.ComputeLoss(outputs, labels, dOut);
        net.Backward(dOut, dX);

        AssertClose("outputs", reference.Outputs, outputs, 1e-12);
        AssertClose("loss", new[] { reference.Loss }, new[] { loss }, 1e-12);
        AssertClose("gradients", reference.Gradients, net.Gradients.ToArray(), 1e-12);
        AssertClose("input gradients", reference.InputGradients, dX, 1e-12);
    }

    /// <summary>
    /// Float against double with identical (float-representable) parameters and inputs. Each value passes through at most
    /// three dot products of ≤ 64 terms (γ₆₄ ≈ 3.8e-6 relative to the sum of |terms|) plus exp/log (a few ulp), so
    /// float results stay within about 1e-5 of the double ones at these O(1) magnitudes; the test allows
    /// |f − d| ≤ 1e-5 + 1e-4·|d|, ten times that, while any wrong term or index gives errors of order one.
    /// </summary>
    [Fact]
    public void FloatNetwork_MatchesDoubleNetwork()
    {
        var single = new DigitNetFloat(seed: 42);
        var twin = new DigitNetDouble();
        for (int i = 0; i < single.Parameters.Length; i++)
        {
            twin.Parameters[i] = single.Parameters[i];
        }

        var random = new Random(2);
        float[] xf = Reference.ToFloat(Reference.Randn(random, Batch * 64));
        double[] xd = Reference.ToDouble(xf);
        int[] labels = { 1, 2, 3, 4, 5 };

        var of = new float[Batch * 10];
        var od = new double[Batch * 10];
        var gf = new float[Batch * 10];
        var gd = new double[Batch * 10];
        single.ZeroGradients();
        twin.ZeroGradients();
        single.Forward(xf, of);
        twin.Forward(xd, od);
        float lf = single.ComputeLoss(of, labels, gf);
        double ld = twin.ComputeLoss(od, labels, gd);
        single.Backward(gf);
        twin.Backward(gd);

        AssertFloat("outputs", of, od);
        AssertFloat("loss", new[] { lf }, new[] { ld });
        AssertFloat("gradients", single.Gradients.ToArray(), twin.Gradients.ToArray());
    }

    private static void AssertFloat(string what, float[] actual, double[] expected)
    {
        for (int i = 0; i < expected.Length; i++)
        {
            double tolerance = 1e-5 + (1e-4 * Math.Abs(expected[i]));
            Assert.True(Math.Abs(actual[i] - expected[i]) <= tolerance, $"{what}[{i}]: float {actual[i]:R}, double {expected[i]:R}, tolerance {tolerance:G3}");
        }
    }

    private static void AssertClose(string what, double[] expected, double[] actual, double relative)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            double tolerance = relative * Math.Max(1.0, Math.Abs(expected[i]));
            Assert.True(Math.Abs(actual[i] - expected[i]) <= tolerance, $"{what}[{i}]: generated {actual[i]:R}, reference {expected[i]:R}");
        }
    }

    /// <summary>Forward, softmax cross-entropy and backward of the digits MLP, written out by hand.</summary>
    private static class HandWritten
    {
        public static (double[] Outputs, double Loss, double[] Gradients, double[] InputGradients) Run(double[] p, double[] x, int[] labels)
        {
            // Layout as documented: W0 (32×64), b0 (32), W1 (10×32), b1 (10).
            const int w0 = 0, b0 = 2048, w1 = 2080, b1 = 2400;
            int batch = labels.Length;
            var hPre = new double[batch, 32];
            var h = new double[batch, 32];
            var z = new double[batch, 10];
            for (int b = 0; b < batch; b++)
            {
                for (int j = 0; j < 32; j++)
                {
                    double s = p[b0 + j];
                    for (int i = 0; i < 64; i++) s += p[w0 + (j * 64) + i] * x[(b * 64) + i];
                    hPre[b, j] = s;
                    h[b, j] = Math.Max(0, s);
                }

                for (int c = 0; c < 10; c++)
                {
                    double s = p[b1 + c];
                    for (int j = 0; j < 32; j++) s += p[w1 + (c * 32) + j] * h[b, j];
                    z[b, c] = s;
                }
            }

            double loss = 0;
            var dz = new double[batch, 10];
            for (int b = 0; b < batch; b++)
            {
                double max = Enumerable.Range(0, 10).Max(c => z[b, c]);
                double sum = Enumerable.Range(0, 10).Sum(c => Math.Exp(z[b, c] - max));
                loss += -(z[b, labels[b]] - max - Math.Log(sum));
                for (int c = 0; c < 10; c++)
                {
                    dz[b, c] = ((Math.Exp(z[b, c] - max) / sum) - (c == labels[b] ? 1 : 0)) / batch;
                }
            }

            var grad = new double[p.Length];
            var dh = new double[batch, 32];
            var dx = new double[batch * 64];
            for (int b = 0; b < batch; b++)
            {
                for (int c = 0; c < 10; c++)
                {
                    grad[b1 + c] += dz[b, c];
                    for (int j = 0; j < 32; j++)
                    {
                        grad[w1 + (c * 32) + j] += dz[b, c] * h[b, j];
                        dh[b, j] += dz[b, c] * p[w1 + (c * 32) + j];
                    }
                }

                for (int j = 0; j < 32; j++)
                {
                    double d = hPre[b, j] > 0 ? dh[b, j] : 0;
                    grad[b0 + j] += d;
                    for (int i = 0; i < 64; i++)
                    {
                        grad[w0 + (j * 64) + i] += d * x[(b * 64) + i];
                        dx[(b * 64) + i] += d * p[w0 + (j * 64) + i];
                    }
                }
            }

            var outputs = new double[batch * 10];
            for (int b = 0; b < batch; b++)
            {
                for (int c = 0; c < 10; c++) outputs[(b * 10) + c] = z[b, c];
            }

            return (outputs, loss / batch, grad, dx);
        }
    }
}
