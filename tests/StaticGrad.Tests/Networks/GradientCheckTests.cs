using System;
using System.Collections.Generic;
using System.Linq;
using StaticGrad.Tests.Numerics;
using Xunit;

namespace StaticGrad.Tests.Networks;

/// <summary>
/// CS231n's gradient check in double for every layer, activation and loss on its own and for whole networks:
/// centered differences (L(θ+h) − L(θ−h)) / 2h with h = 1e-5 against Backward, relative error
/// |a − n| / max(|a|, |n|) below 1e-7. For tiny gradients the centered difference itself is noise-bound: it divides
/// the rounding error of L (about 1e-16·|L|) by 2h, about 1e-11·|L|; an element also passes when |a − n| is within ten
/// times that floor, since no relative test can resolve it (CS231n's caveat about relative error of tiny gradients).
/// Kinks (ReLU at 0, hinge at margin 0) are avoided by the fixed seeds: no pre-activation or margin lies within 1e-3 of its kink.
/// </summary>
public class GradientCheckTests
{
    private const double H = 1e-5;
    private const double Tolerance = 1e-7;
    private const int Batch = 3;

    public static TheoryData<string> Layers => new() { "Linear", "LinearNoBias", "ReLU", "Sigmoid", "Tanh" };

    [Theory]
    [MemberData(nameof(Layers))]
    public void LayerAlone_ParametersAndInputs(string name)
    {
        INetwork net = name switch
        {
            "Linear" => new LinearOnly(seed: 1),
            "LinearNoBias" => new LinearNoBias(seed: 1),
            "ReLU" => new ReLUOnly(seed: 1),
            "Sigmoid" => new SigmoidOnly(seed: 1),
            _ => new TanhOnly(seed: 1),
        };

        if (name is "ReLU" or "Sigmoid" or "Tanh")
        {
            // W = 2·I, b = 0: the network is the activation alone (of 2x), so the check is the activation's backward.
            Span<double> p = net.Parameters;
            p.Clear();
            for (int i = 0; i < 4; i++)
            {
                p[(i * 4) + i] = 2.0;
            }
        }

        var random = new Random(7);
        int inputSize = name.StartsWith("Linear", StringComparison.Ordinal) ? 5 : 4;
        int outputSize = 4;
        double[] x = Reference.Randn(random, Batch * inputSize);
        if (name == "ReLU")
        {
            KeepAwayFromZero(x);
        }

        double[] g = Reference.Randn(random, Batch * outputSize);

        // L = Σ G⊙Y, so ∂L/∂Y = G.
        double Loss()
        {
            var y = new double[Batch * outputSize];
            net.Forward(x, y);
            return y.Zip(g, (a, b) => a * b).Sum();
        }

        net.ZeroGradients();
        var outputs = new double[Batch * outputSize];
        net.Forward(x, outputs);
        var dX = new double[x.Length];
        net.Backward(g, dX);

        CheckAll($"{name} parameters", net.Gradients.ToArray(), net.Parameters.ToArray(), v => v.CopyTo(net.Parameters), Loss);
        CheckAll($"{name} inputs", dX, x, v => v.CopyTo(x, 0), Loss);
    }

    [Theory]
    [InlineData("SoftmaxCrossEntropy")]
    [InlineData("MulticlassSvm")]
    [InlineData("MeanSquaredError")]
    public void LossAlone_WithRespectToOutputs(string name)
    {
        var random = new Random(11);
        int width = name == "MeanSquaredError" ? 3 : 5;
        double[] z = Reference.Randn(random, Batch * width);
        int[] labels = { 0, 3, 4 };
        double[] targets = Reference.Randn(random, Batch * width);
        var gradient = new double[z.Length];
        Func<double[], Span<double>, double> loss = name switch
        {
            "SoftmaxCrossEntropy" => (zz, gg) => new SoftmaxOnly().ComputeLoss(zz, labels, gg),
            "MulticlassSvm" => (zz, gg) => new SvmOnly().ComputeLoss(zz, labels, gg),
            _ => (zz, gg) => new MseOnly().ComputeLoss(zz, targets, gg),
        };

        loss(z, gradient);
        CheckAll(name, gradient, z, v => v.CopyTo(z, 0), () => loss(z, Span<double>.Empty));
    }

    [Theory]
    [InlineData("DeepSoftmax")]
    [InlineData("ReLUSvm")]
    [InlineData("TanhRegression")]
    [InlineData("DigitNetDouble")]
    public void WholeNetwork_ParametersAndInputs(string name)
    {
        var random = new Random(13);
        INetwork net = name switch
        {
            "DeepSoftmax" => new DeepSoftmax(seed: 3),
            "ReLUSvm" => new ReLUSvm(seed: 3),
            "TanhRegression" => new TanhRegression(seed: 3),
            _ => new DigitNetDouble(seed: 3),
        };
        int inputSize = name switch { "DeepSoftmax" => 6, "ReLUSvm" => 6, "TanhRegression" => 3, _ => 64 };
        int outputSize = name switch { "DeepSoftmax" => 3, "ReLUSvm" => 4, "TanhRegression" => 2, _ => 10 };
        double[] x = Reference.Randn(random, Batch * inputSize);
        int[] labels = Enumerable.Range(0, Batch).Select(b => (b * 2) % outputSize).ToArray();
        double[] targets = Reference.Randn(random, Batch * outputSize);

        double LossAndGradient(Span<double> outputGradient)
        {
            var y = new double[Batch * outputSize];
            net.Forward(x, y);
            return net switch
            {
                ILabelNetwork l => l.ComputeLoss(y, labels, outputGradient),
                ITargetNetwork t => t.ComputeLoss(y, targets, outputGradient),
                _ => throw new InvalidOperationException(),
            };
        }

        net.ZeroGradients();
        var dY = new double[Batch * outputSize];
        LossAndGradient(dY);
        var dX = new double[x.Length];
        net.Backward(dY, dX);

        // The digits net has 2,410 parameters: check a fixed sample of 400 of them, and every input.
        IEnumerable<int>? sample = net.Parameters.Length > 600 ? Enumerable.Range(0, 400).Select(_ => random.Next(net.Parameters.Length)).ToArray() : null;
        CheckAll($"{name} parameters", net.Gradients.ToArray(), net.Parameters.ToArray(), v => v.CopyTo(net.Parameters), () => LossAndGradient(Span<double>.Empty), sample);
        CheckAll($"{name} inputs", dX, x, v => v.CopyTo(x, 0), () => LossAndGradient(Span<double>.Empty));
    }

    [Fact]
    public void GradientCheck_CanFail()
    {
        // A deliberately wrong gradient must be caught, or the checks above prove nothing.
        double[] theta = { 1.0, 2.0 };
        double Loss() => (theta[0] * theta[0]) + (3 * theta[1]);
        Assert.ThrowsAny<Exception>(() => CheckAll("wrong", new[] { 2.0, 3.1 }, theta, v => v.CopyTo(theta, 0), Loss));
    }

    /// <summary>Compares <paramref name="analytic"/> with centered differences of <paramref name="loss"/> over <paramref name="values"/>.</summary>
    internal static void CheckAll(string what, double[] analytic, double[] values, Action<double[]> write, Func<double> loss, IEnumerable<int>? indices = null)
    {
        int checkedCount = 0;
        foreach (int e in indices ?? Enumerable.Range(0, values.Length))
        {
            double saved = values[e];
            values[e] = saved + H;
            write(values);
            double plus = loss();
            values[e] = saved - H;
            write(values);
            double minus = loss();
            values[e] = saved;
            write(values);

            double numeric = (plus - minus) / (2 * H);
            double scale = Math.Max(Math.Abs(analytic[e]), Math.Abs(numeric));
            double difference = Math.Abs(analytic[e] - numeric);
            double noiseFloor = 10 * 1.1e-16 * Math.Max(1.0, Math.Max(Math.Abs(plus), Math.Abs(minus))) / (2 * H);
            double relative = scale == 0 ? 0 : difference / scale;
            Assert.True(
                relative < Tolerance || difference <= noiseFloor,
                $"{what}[{e}]: analytic {analytic[e]:R}, numeric {numeric:R}, relative error {relative:G3} ≥ {Tolerance} and |difference| {difference:G3} > noise floor {noiseFloor:G3}");
            checkedCount++;
        }

        Assert.True(checkedCount > 0, $"{what}: nothing was checked");
    }

    private static void KeepAwayFromZero(double[] values)
    {
        for (int i = 0; i < values.Length; i++)
        {
            if (Math.Abs(values[i]) < 0.1)
            {
                values[i] = values[i] < 0 ? -0.1 : 0.1;
            }
        }
    }
}
