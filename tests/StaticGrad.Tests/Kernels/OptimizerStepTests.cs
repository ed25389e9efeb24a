using System;
using System.Linq;
using StaticGrad.Optimizers;
using Xunit;

namespace StaticGrad.Tests.Kernels;

/// <summary>
/// StaticGrad.Runtime's fused optimizer steps against PyTorch's documented update rules, written out here one element at
/// a time in double (torch.optim.SGD and torch.optim.Adam with weight_decay), on lengths that leave every kind of vector tail.
/// </summary>
public class OptimizerStepTests
{
    private static readonly int[] Lengths = { 1, 3, 7, 8, 9, 15, 16, 17, 31, 33, 1000 };

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Adam_FollowsPyTorchsRule_ForSeveralSteps(bool zeroGradients)
    {
        foreach (int length in Lengths)
        {
            var random = new Random(length);
            double[] theta = Values(random, length), m = new double[length], v = new double[length];
            float[] p = theta.Select(x => (float)x).ToArray(), mf = new float[length], vf = new float[length];
            const double lr = 0.01, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, decay = 0.01;
            for (int step = 1; step <= 5; step++)
            {
                double[] grad = Values(random, length);
                float[] g = grad.Select(x => (float)x).ToArray();
                OptimizerSteps.Adam<float>(p, g, mf, vf, (float)lr, (float)beta1, (float)beta2, (float)eps, (float)decay, step, zeroGradients);

                // PyTorch: grad = grad + wd·θ; m = β₁m + (1−β₁)grad; v = β₂v + (1−β₂)grad²;
                // θ −= lr/(1−β₁ᵗ) · m / (√v/√(1−β₂ᵗ) + ε)
                for (int e = 0; e < length; e++)
                {
                    double gradient = (float)grad[e] + (decay * theta[e]);
                    m[e] = (beta1 * m[e]) + ((1 - beta1) * gradient);
                    v[e] = (beta2 * v[e]) + ((1 - beta2) * gradient * gradient);
                    double denominator = (Math.Sqrt(v[e]) / Math.Sqrt(1 - Math.Pow(beta2, step))) + eps;
                    theta[e] -= lr / (1 - Math.Pow(beta1, step)) * m[e] / denominator;
                }

                AssertClose(theta, p, 1e-5, $"Adam, length {length}, step {step}");
                AssertClose(m, mf, 1e-6, $"Adam first moment, length {length}, step {step}");
                Assert.True(g.All(x => x == 0) == zeroGradients || length == 0, $"gradients {(zeroGradients ? "must" : "must not")} be cleared (length {length})");
            }
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void SgdWithMomentum_FollowsPyTorchsRule(bool zeroGradients)
    {
        foreach (int length in Lengths)
        {
            var random = new Random(length);
            double[] theta = Values(random, length), velocity = new double[length];
            double[] p = (double[])theta.Clone(), vel = new double[length];
            const double lr = 0.1, mu = 0.9, decay = 1e-3;
            for (int step = 1; step <= 4; step++)
            {
                double[] grad = Values(random, length), g = (double[])grad.Clone();
                OptimizerSteps.SgdMomentum<double>(p, g, vel, lr, mu, decay, zeroGradients);

                // PyTorch: d = grad + wd·θ; buf = μ·buf + d (buf = d at the first step, the same since buf starts at 0); θ −= lr·buf
                for (int e = 0; e < length; e++)
                {
                    velocity[e] = (mu * velocity[e]) + grad[e] + (decay * theta[e]);
                    theta[e] -= lr * velocity[e];
                }

                AssertClose(theta, p, 1e-12, $"momentum, length {length}");
                Assert.Equal(zeroGradients, g.All(x => x == 0));
            }
        }
    }

    [Fact]
    public void Sgd_FollowsPyTorchsRule()
    {
        foreach (int length in Lengths)
        {
            var random = new Random(length);
            double[] theta = Values(random, length), grad = Values(random, length);
            double[] p = (double[])theta.Clone(), g = (double[])grad.Clone();
            OptimizerSteps.Sgd<double>(p, g, 0.5, 0.01, zeroGradients: false);
            for (int e = 0; e < length; e++)
            {
                Assert.Equal(theta[e] - (0.5 * (grad[e] + (0.01 * theta[e]))), p[e], 15);
            }

            Assert.Equal(grad, g);
        }
    }

    [Fact]
    public void MismatchedLengths_NameTheArgument_AndChangeNothing()
    {
        float[] p = { 1, 2, 3 }, g = { 1, 1 }, m = new float[3], v = new float[3];
        var error = Assert.Throws<ArgumentException>(() => OptimizerSteps.Adam<float>(p, g, m, v, 0.1f, 0.9f, 0.999f, 1e-8f, 0, 1, true));
        Assert.Equal("gradients", error.ParamName);
        Assert.Contains("length of parameters (3), but has length 2", error.Message);
        Assert.Equal(new float[] { 1, 2, 3 }, p);
        Assert.Equal("step", Assert.Throws<ArgumentOutOfRangeException>(() => OptimizerSteps.Adam<float>(p, new float[3], m, v, 0.1f, 0.9f, 0.999f, 1e-8f, 0, 0, true)).ParamName);
    }

    private static double[] Values(Random random, int count) => Enumerable.Range(0, count).Select(_ => (random.NextDouble() * 2) - 1).ToArray();

    private static void AssertClose(double[] expected, float[] actual, double tolerance, string what) =>
        AssertClose(expected, actual.Select(x => (double)x).ToArray(), tolerance, what);

    private static void AssertClose(double[] expected, double[] actual, double tolerance, string what)
    {
        for (int e = 0; e < expected.Length; e++)
        {
            Assert.True(Math.Abs(expected[e] - actual[e]) <= tolerance * Math.Max(1, Math.Abs(expected[e])), $"{what}: element {e} is {actual[e]}, expected {expected[e]}");
        }
    }
}
