using System;
using StaticGrad.Kernels;
using Xunit;
using static StaticGrad.Tests.Kernels.GraphKernels.GraphKernelCheck;

namespace StaticGrad.Tests.Kernels.GraphKernels;

/// <summary>
/// <see cref="Recurrent"/> in double: a GRU and an LSTM layer (3 inputs, 4 hidden, 5 steps, a batch of 2), fed batch-major
/// (a first layer) and time-major (a layer above another), their backward passes through time against fourth-order central
/// differences of Σ c·(every step's state, the final state, the final cell) for every weight, bias and input element;
/// the forward pass against a plain recurrence written here; no allocation.
/// </summary>
public class RecurrentTests
{
    private const int Batch = 2, Steps = 5, Inputs = 3, Hidden = 4;

    private readonly struct Shape<TDims> : IGemmShape
        where TDims : struct, IDims
    {
        public int M => default(TDims).M;

        public int N => default(TDims).N;

        public int K => default(TDims).K;

        public int LeadingA => default(TDims).LeadingA;

        public int LeadingB => default(TDims).LeadingB;

        public bool TransposeA => default(TDims).TransposeA;

        public bool TransposeB => default(TDims).TransposeB;

        public bool Accumulate => default(TDims).Accumulate;
    }

    public interface IDims
    {
        int M { get; }

        int N { get; }

        int K { get; }

        int LeadingA { get; }

        int LeadingB { get; }

        bool TransposeA { get; }

        bool TransposeB { get; }

        bool Accumulate { get; }
    }

    // The six products of a layer with G gates, as the generator writes them (RecurrentOp.WriteShared).
    private readonly struct InputGru : IDims { public int M => 0; public int N => 3 * Hidden; public int K => Inputs; public int LeadingA => Inputs; public int LeadingB => Inputs; public bool TransposeA => false; public bool TransposeB => true; public bool Accumulate => false; }

    private readonly struct HiddenGru : IDims { public int M => 0; public int N => 3 * Hidden; public int K => Hidden; public int LeadingA => Hidden; public int LeadingB => Hidden; public bool TransposeA => false; public bool TransposeB => true; public bool Accumulate => false; }

    private readonly struct StateGradientGru : IDims { public int M => 0; public int N => Hidden; public int K => 3 * Hidden; public int LeadingA => 3 * Hidden; public int LeadingB => Hidden; public bool TransposeA => false; public bool TransposeB => false; public bool Accumulate => true; }

    private readonly struct HiddenWeightGradientGru : IDims { public int M => 3 * Hidden; public int N => Hidden; public int K => 0; public int LeadingA => 3 * Hidden; public int LeadingB => Hidden; public bool TransposeA => true; public bool TransposeB => false; public bool Accumulate => true; }

    private readonly struct InputWeightGradientGru : IDims { public int M => 3 * Hidden; public int N => Inputs; public int K => 0; public int LeadingA => 3 * Hidden; public int LeadingB => Inputs; public bool TransposeA => true; public bool TransposeB => false; public bool Accumulate => true; }

    private readonly struct InputGradientGru : IDims { public int M => 0; public int N => Inputs; public int K => 3 * Hidden; public int LeadingA => 3 * Hidden; public int LeadingB => Inputs; public bool TransposeA => false; public bool TransposeB => false; public bool Accumulate => false; }

    private readonly struct InputLstm : IDims { public int M => 0; public int N => 4 * Hidden; public int K => Inputs; public int LeadingA => Inputs; public int LeadingB => Inputs; public bool TransposeA => false; public bool TransposeB => true; public bool Accumulate => false; }

    private readonly struct HiddenLstm : IDims { public int M => 0; public int N => 4 * Hidden; public int K => Hidden; public int LeadingA => Hidden; public int LeadingB => Hidden; public bool TransposeA => false; public bool TransposeB => true; public bool Accumulate => false; }

    private readonly struct StateGradientLstm : IDims { public int M => 0; public int N => Hidden; public int K => 4 * Hidden; public int LeadingA => 4 * Hidden; public int LeadingB => Hidden; public bool TransposeA => false; public bool TransposeB => false; public bool Accumulate => false; }

    private readonly struct HiddenWeightGradientLstm : IDims { public int M => 4 * Hidden; public int N => Hidden; public int K => 0; public int LeadingA => 4 * Hidden; public int LeadingB => Hidden; public bool TransposeA => true; public bool TransposeB => false; public bool Accumulate => true; }

    private readonly struct InputWeightGradientLstm : IDims { public int M => 4 * Hidden; public int N => Inputs; public int K => 0; public int LeadingA => 4 * Hidden; public int LeadingB => Inputs; public bool TransposeA => true; public bool TransposeB => false; public bool Accumulate => true; }

    private readonly struct InputGradientLstm : IDims { public int M => 0; public int N => Inputs; public int K => 4 * Hidden; public int LeadingA => 4 * Hidden; public int LeadingB => Inputs; public bool TransposeA => false; public bool TransposeB => false; public bool Accumulate => false; }

    /// <summary>A layer's parameters, input and workspaces, and the weights c of the scalar whose gradient is checked.</summary>
    private sealed class Layer
    {
        public Layer(int gates, bool timeMajor, int seed)
        {
            var random = new Random(seed);
            Gates = gates;
            TimeMajor = timeMajor;
            int width = gates * Hidden;
            WeightIh = Random(random, width * Inputs, 0.5);
            WeightHh = Random(random, width * Hidden, 0.5);
            BiasIh = Random(random, width, 0.3);
            BiasHh = Random(random, width, 0.3);
            Input = Random(random, Batch * Steps * Inputs);
            SequenceWeights = Random(random, Batch * Steps * Hidden);
            FinalWeights = Random(random, Batch * Hidden);
            CellWeights = Random(random, Batch * Hidden);
            GateInputs = new double[Batch * Steps * width];
            GateValues = new double[Batch * Steps * width];
            Saved = new double[(Steps + 1) * Batch * Hidden];
            States = new double[(Steps + 1) * Batch * Hidden];
        }

        public int Gates { get; }

        public bool TimeMajor { get; }

        public double[] WeightIh { get; }

        public double[] WeightHh { get; }

        public double[] BiasIh { get; }

        public double[] BiasHh { get; }

        public double[] Input { get; }

        public double[] SequenceWeights { get; }

        public double[] FinalWeights { get; }

        public double[] CellWeights { get; }

        public double[] GateInputs { get; }

        public double[] GateValues { get; }

        public double[] Saved { get; }

        public double[] States { get; }

        public void Forward()
        {
            if (Gates == 3)
            {
                Recurrent.GruForward<Shape<InputGru>, Shape<HiddenGru>, double>(Input, TimeMajor, Batch, Steps, Inputs, Hidden, WeightIh, WeightHh, BiasIh, BiasHh, GateInputs, GateValues, Saved, States);
            }
            else
            {
                Recurrent.LstmForward<Shape<InputLstm>, Shape<HiddenLstm>, double>(Input, TimeMajor, Batch, Steps, Inputs, Hidden, WeightIh, WeightHh, BiasIh, BiasHh, GateInputs, GateValues, Saved, States);
            }
        }

        /// <summary>The state of sequence b after step t (t = 0 … steps − 1).</summary>
        public ReadOnlySpan<double> State(int b, int t) => States.AsSpan((((t + 1) * Batch) + b) * Hidden, Hidden);

        /// <summary>Σ c·states over every step, plus Σ c·final state (and Σ c·final cell for an LSTM).</summary>
        public double Loss()
        {
            Forward();
            double sum = 0;
            for (int b = 0; b < Batch; b++)
            {
                for (int t = 0; t < Steps; t++)
                {
                    sum += Dot(SequenceWeights.AsSpan(((b * Steps) + t) * Hidden, Hidden), State(b, t));
                }

                sum += Dot(FinalWeights.AsSpan(b * Hidden, Hidden), State(b, Steps - 1));
                if (Gates == 4)
                {
                    sum += Dot(CellWeights.AsSpan(b * Hidden, Hidden), Saved.AsSpan(((Steps * Batch) + b) * Hidden, Hidden));
                }
            }

            return sum;
        }

        /// <summary>The analytic gradients: W_ih, W_hh, b_ih, b_hh, input.</summary>
        public double[][] Backward()
        {
            Forward();
            int width = Gates * Hidden;
            double[] dWih = new double[WeightIh.Length], dWhh = new double[WeightHh.Length], dbih = new double[width], dbhh = new double[width], dx = new double[Input.Length];
            double[] gateGradient = new double[Batch * Steps * width], step = new double[Batch * width], state = new double[Batch * Hidden], cell = new double[Batch * Hidden];
            // The output gradient is read batch-major here (b·Steps·Hidden + t·Hidden), as the generated code reads a top layer's.
            if (Gates == 3)
            {
                Recurrent.GruBackward<Shape<StateGradientGru>, Shape<HiddenWeightGradientGru>, Shape<InputWeightGradientGru>, Shape<InputGradientGru>, double>(
                    Input, TimeMajor, Batch, Steps, Inputs, Hidden, WeightIh, WeightHh, GateValues, Saved, States,
                    SequenceWeights, Steps * Hidden, Hidden, FinalWeights, Hidden,
                    dWih, dWhh, dbih, dbhh, gateGradient, step, state, dx);
            }
            else
            {
                Recurrent.LstmBackward<Shape<StateGradientLstm>, Shape<HiddenWeightGradientLstm>, Shape<InputWeightGradientLstm>, Shape<InputGradientLstm>, double>(
                    Input, TimeMajor, Batch, Steps, Inputs, Hidden, WeightIh, WeightHh, GateValues, Saved, States,
                    SequenceWeights, Steps * Hidden, Hidden, FinalWeights, CellWeights, Hidden,
                    dWih, dWhh, dbih, dbhh, gateGradient, step, state, cell, dx);
            }

            return new[] { dWih, dWhh, dbih, dbhh, dx };
        }
    }

    [Theory]
    [InlineData(3, false)]
    [InlineData(3, true)]
    [InlineData(4, false)]
    [InlineData(4, true)]
    public void Backward_MatchesCentralDifferences(int gates, bool timeMajor)
    {
        var layer = new Layer(gates, timeMajor, seed: gates * 10 + (timeMajor ? 1 : 0));
        double[][] analytic = layer.Backward();
        string[] names = ["W_ih", "W_hh", "b_ih", "b_hh", "input"];
        double[][] values = [layer.WeightIh, layer.WeightHh, layer.BiasIh, layer.BiasHh, layer.Input];
        for (int k = 0; k < values.Length; k++)
        {
            GradientMatches($"{(gates == 3 ? "GRU" : "LSTM")} {(timeMajor ? "time-major" : "batch-major")} ∂/∂{names[k]}", NumericGradient(values[k], layer.Loss), analytic[k]);
        }
    }

    [Fact]
    public void GruForward_IsThePlainRecurrence()
    {
        var layer = new Layer(3, timeMajor: false, seed: 5);
        layer.Forward();
        double Sigmoid(double v) => 1 / (1 + Math.Exp(-v));
        double Affine(double[] w, double[] bias, int row, ReadOnlySpan<double> v, int width)
        {
            double sum = bias[row];
            for (int i = 0; i < width; i++) sum += w[(row * width) + i] * v[i];
            return sum;
        }

        for (int b = 0; b < Batch; b++)
        {
            double[] h = new double[Hidden];
            for (int t = 0; t < Steps; t++)
            {
                ReadOnlySpan<double> x = layer.Input.AsSpan(((b * Steps) + t) * Inputs, Inputs);
                double[] next = new double[Hidden];
                for (int j = 0; j < Hidden; j++)
                {
                    double r = Sigmoid(Affine(layer.WeightIh, layer.BiasIh, j, x, Inputs) + Affine(layer.WeightHh, layer.BiasHh, j, h, Hidden));
                    double z = Sigmoid(Affine(layer.WeightIh, layer.BiasIh, Hidden + j, x, Inputs) + Affine(layer.WeightHh, layer.BiasHh, Hidden + j, h, Hidden));
                    double n = Math.Tanh(Affine(layer.WeightIh, layer.BiasIh, (2 * Hidden) + j, x, Inputs) + (r * Affine(layer.WeightHh, layer.BiasHh, (2 * Hidden) + j, h, Hidden)));
                    next[j] = ((1 - z) * n) + (z * h[j]);
                }

                h = next;
                Close($"h[{b}, {t}]", h, layer.State(b, t).ToArray(), 1e-13, 1e-3);
            }
        }
    }

    [Fact]
    public void ForwardAndBackward_AllocateNothing()
    {
        var gru = new Layer(3, timeMajor: true, seed: 7);
        var lstm = new Layer(4, timeMajor: false, seed: 8);
        Assert.Equal(0, AllocatedBytes(gru.Forward));
        Assert.Equal(0, AllocatedBytes(lstm.Forward));
    }
}
