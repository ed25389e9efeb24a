using System;
using System.Linq;
using System.Reflection;
using StaticGrad;
using Xunit;
using static StaticGrad.Functional;

namespace StaticGrad.Tests.Models;

/// <summary><c>relu(x + bn(conv(x)))</c>: the residual is the model's input, so the pass on to the input writes its gradient through the fold.</summary>
[Model<double>]
public partial class InputResidualNet
{
    readonly Conv2d conv = new(2, 2, 3, padding: 1);
    readonly BatchNorm2d bn = new(2);
    readonly Linear head = new(2 * 4 * 4, 3);

    public Tensor Forward([Shape(2, 4, 4)] Tensor x) => head.Forward(Relu(x + bn.Forward(conv.Forward(x))).Flatten());
}

/// <summary><c>bn(inner(h)) + h</c> without a ReLU, on vectors (BatchNorm1d), the residual also read by the layer before the normalisation.</summary>
[Model<double>]
public partial class PlainResidualNet
{
    readonly Linear first = new(5, 6), inner = new(6, 6), head = new(6, 3);
    readonly BatchNorm1d bn = new(6);

    public Tensor Forward([Shape(5)] Tensor x)
    {
        var h = Tanh(first.Forward(x));
        return head.Forward(Tanh(bn.Forward(inner.Forward(h)) + h));
    }
}

/// <summary>A residual that another node reads between the normalisation and the addition: the fold must not be taken.</summary>
[Model<double>]
public partial class ResidualReadBetweenNet
{
    readonly Linear first = new(5, 6), inner = new(6, 6), head = new(6, 3);
    readonly BatchNorm1d bn = new(6);

    public Tensor Forward([Shape(5)] Tensor x)
    {
        var h = Tanh(first.Forward(x));
        var n = bn.Forward(inner.Forward(h));
        var gate = Sigmoid(h);
        return head.Forward(Relu(h + n) * gate);
    }
}

/// <summary>
/// A residual block's end folded into BatchNorm (<c>BatchNormOp.FoldsResidual</c>): the normalisation's passes add the
/// residual as they write and write its gradient as they read, and the addition has no methods of its own. Where the fold is
/// taken (the model's input as the residual, with and without a ReLU, BatchNorm1d and 2d) and where it must not be (the
/// residual read by another node in between), every parameter's and input's gradient matches central differences of the
/// generated forward pass in double, in training and in evaluation mode, and the forward pass matches the eager one.
/// </summary>
public sealed class ResidualFoldTests
{
    private static double[] Random(int count, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => (random.NextDouble() * 2) - 1).ToArray();
    }

    /// <summary>Whether the generated class has a forward method of its own for node <paramref name="id"/> (an addition folded away has none).</summary>
    private static bool HasForwardMethod(Type model, int id) =>
        model.GetMethod($"Node{id}Forward", BindingFlags.Instance | BindingFlags.NonPublic) is not null;

    [Fact]
    public void TheFoldIsTaken_WhereTheRoutingAllowsIt_AndOnlyThere()
    {
        // Node ids in source order: InputResidualNet x=0, conv=1, bn=2, add=3; the vector nets x=0, first=1, tanh=2, inner=3, bn=4, add=5.
        Assert.True(HasForwardMethod(typeof(InputResidualNet), 2));
        Assert.False(HasForwardMethod(typeof(InputResidualNet), 3));
        Assert.False(HasForwardMethod(typeof(PlainResidualNet), 5));
        Assert.True(HasForwardMethod(typeof(ResidualReadBetweenNet), 6)); // x, first, tanh, inner, bn, sigmoid, then the addition
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void InputResidual_GradientsMatchCentralDifferences(bool training)
    {
        const int Batch = 4;
        var model = new InputResidualNet(seed: 2, maxBatchSize: Batch);
        PrepareEvaluation(training, Batch * InputResidualNet.InputSize, x => model.ForwardTraining(x, new double[Batch * InputResidualNet.OutputSize]));
        Check(training, () => model.Parameters.ToArray(), w => w.CopyTo(model.Parameters), () => model.Gradients.ToArray(), Batch * InputResidualNet.InputSize, Batch * InputResidualNet.OutputSize, model.ForwardTraining, model.Forward, model.ZeroGradients, model.Backward, model.Backward, InputResidualNet.Description);
        double[] x = Random(Batch * InputResidualNet.InputSize, 40);
        var generated = new double[Batch * InputResidualNet.OutputSize];
        model.Forward(x, generated);
        model.Eval();
        Tensor eager = model.Forward(Tensor.FromSpan(x.Select(v => (float)v).ToArray(), Batch, 2, 4, 4));
        ModelGoldenTests.AssertClose(eager.ToArray(), generated.Select(v => (float)v).ToArray(), 1e-5, "outputs");
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void PlainResidual_GradientsMatchCentralDifferences(bool training)
    {
        const int Batch = 5;
        var model = new PlainResidualNet(seed: 3, maxBatchSize: Batch);
        PrepareEvaluation(training, Batch * PlainResidualNet.InputSize, x => model.ForwardTraining(x, new double[Batch * PlainResidualNet.OutputSize]));
        Check(training, () => model.Parameters.ToArray(), w => w.CopyTo(model.Parameters), () => model.Gradients.ToArray(), Batch * PlainResidualNet.InputSize, Batch * PlainResidualNet.OutputSize, model.ForwardTraining, model.Forward, model.ZeroGradients, model.Backward, model.Backward, PlainResidualNet.Description);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void ResidualReadBetween_GradientsMatchCentralDifferences(bool training)
    {
        const int Batch = 5;
        var model = new ResidualReadBetweenNet(seed: 4, maxBatchSize: Batch);
        PrepareEvaluation(training, Batch * ResidualReadBetweenNet.InputSize, x => model.ForwardTraining(x, new double[Batch * ResidualReadBetweenNet.OutputSize]));
        Check(training, () => model.Parameters.ToArray(), w => w.CopyTo(model.Parameters), () => model.Gradients.ToArray(), Batch * ResidualReadBetweenNet.InputSize, Batch * ResidualReadBetweenNet.OutputSize, model.ForwardTraining, model.Forward, model.ZeroGradients, model.Backward, model.Backward, ResidualReadBetweenNet.Description);
    }

    /// <summary>Before an evaluation-mode check, a few training passes move the running statistics away from 0 and 1.</summary>
    private static void PrepareEvaluation(bool training, int inputs, Action<double[]> forwardTraining)
    {
        for (int i = 0; !training && i < 3; i++)
        {
            forwardTraining(Random(inputs, 60 + i));
        }
    }

    private delegate void Pass(ReadOnlySpan<double> inputs, Span<double> outputs);

    private delegate void BackwardToInput(ReadOnlySpan<double> outputGradients, Span<double> inputGradients);

    private delegate void BackwardPass(ReadOnlySpan<double> outputGradients);

    /// <summary>
    /// L = Σ c·y: Backward(c) and Backward(c, dx) (the pass on to the input) against central differences in every parameter
    /// and every input, the forward pass in training (batch statistics) or evaluation mode.
    /// </summary>
    private static void Check(bool training, Func<double[]> readParameters, Action<double[]> writeParameters, Func<double[]> readGradients, int inputs, int outputs, Pass forwardTraining, Pass forward, Action zero, BackwardToInput backwardToInput, BackwardPass backward, StaticGrad.Interchange.NetworkDescription description)
    {
        double[] x = Random(inputs, 7), c = Random(outputs, 8);
        var y = new double[outputs];
        (Pass pass, double[] values) = (training ? forwardTraining : forward, y);

        double[] p = readParameters();
        double Loss(double[] input, double[] weights)
        {
            writeParameters(weights);
            pass(input, values);
            return values.Select((v, i) => v * c[i]).Sum();
        }

        Loss(x, p);
        zero();
        var dx = new double[inputs];
        backwardToInput(c, dx);
        double[] analytic = readGradients();
        Loss(x, p);
        zero();
        backward(c);
        Assert.Equal(analytic, readGradients()); // the pass on to the input gives the parameters the same gradients
        Assert.Contains(analytic, g => Math.Abs(g) > 1e-6);
        Assert.Contains(dx, g => Math.Abs(g) > 1e-6);

        const double H = 1e-6;
        for (int i = 0; i < p.Length; i++)
        {
            double original = p[i];
            p[i] = original + H;
            double plus = Loss(x, p);
            p[i] = original - H;
            double minus = Loss(x, p);
            p[i] = original;
            double numeric = (plus - minus) / (2 * H);
            string name = description.Tensors.Last(t => t.Offset <= i).Name;
            Assert.True(Error(numeric, analytic[i]) < 1e-5, $"∂L/∂{name}[{i - description.Tensors.Last(t => t.Offset <= i).Offset}] ({(training ? "training" : "evaluation")}): backward {analytic[i]:R}, central difference {numeric:R}");
        }

        for (int i = 0; i < x.Length; i++)
        {
            double original = x[i];
            x[i] = original + H;
            double plus = Loss(x, p);
            x[i] = original - H;
            double minus = Loss(x, p);
            x[i] = original;
            double numeric = (plus - minus) / (2 * H);
            Assert.True(Error(numeric, dx[i]) < 1e-5, $"∂L/∂inputs[{i}] ({(training ? "training" : "evaluation")}): backward {dx[i]:R}, central difference {numeric:R}");
        }

        Loss(x, p);
    }

    private static double Error(double numeric, double analytic) =>
        Math.Abs(numeric - analytic) / Math.Max(Math.Max(Math.Abs(numeric), Math.Abs(analytic)), 1e-3);
}
