using System;
using System.Globalization;

namespace StaticGrad
{
    /// <summary>
    /// What <see cref="GRU"/> and <see cref="LSTM"/> share: PyTorch's parameters per layer <c>k</c> —
    /// <c>weight_ih_l{k}</c> [gates·hidden, input], <c>weight_hh_l{k}</c> [gates·hidden, hidden], <c>bias_ih_l{k}</c> and
    /// <c>bias_hh_l{k}</c> [gates·hidden] — initialised U(±1/√hidden), and the checks on the input.
    /// </summary>
    public abstract class RecurrentModule : Module
    {
        private readonly Parameter[] weightIh, weightHh;
        private readonly Parameter?[] biasIh, biasHh;

        private protected RecurrentModule(int gates, int inputSize, int hiddenSize, int numLayers, bool bias, bool batchFirst)
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inputSize);
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(hiddenSize);
            if (numLayers < 1 || numLayers > 8)
                throw new ArgumentOutOfRangeException(nameof(numLayers), numLayers, "numLayers must be 1 to 8.");
            if (!batchFirst)
                throw new ArgumentException("Only batchFirst: true is supported: in StaticGrad the batch is always the leading dimension.", nameof(batchFirst));
            InputSize = inputSize;
            HiddenSize = hiddenSize;
            NumLayers = numLayers;
            weightIh = new Parameter[numLayers];
            weightHh = new Parameter[numLayers];
            biasIh = new Parameter?[numLayers];
            biasHh = new Parameter?[numLayers];
            Random random = InitRandom;
            double bound = 1 / Math.Sqrt(hiddenSize);
            for (int l = 0; l < numLayers; l++)
            {
                weightIh[l] = new Parameter(gates * hiddenSize, l == 0 ? inputSize : hiddenSize);
                weightIh[l].InitUniform(random, bound);
                weightHh[l] = new Parameter(gates * hiddenSize, hiddenSize);
                weightHh[l].InitUniform(random, bound);
                if (bias)
                {
                    biasIh[l] = new Parameter(gates * hiddenSize);
                    biasIh[l]!.InitUniform(random, bound);
                    biasHh[l] = new Parameter(gates * hiddenSize);
                    biasHh[l]!.InitUniform(random, bound);
                }
            }
        }

        /// <summary>Features per step of the input.</summary>
        public int InputSize { get; }

        /// <summary>Features of the hidden state.</summary>
        public int HiddenSize { get; }

        /// <summary>Stacked layers.</summary>
        public int NumLayers { get; }

        /// <summary>W_ih of layer <paramref name="layer"/> (PyTorch's <c>weight_ih_l{layer}</c>).</summary>
        /// <param name="layer">0 to <see cref="NumLayers"/> − 1.</param>
        /// <returns>The parameter.</returns>
        public Parameter WeightIh(int layer) => weightIh[layer];

        /// <summary>W_hh of layer <paramref name="layer"/> (PyTorch's <c>weight_hh_l{layer}</c>).</summary>
        /// <param name="layer">0 to <see cref="NumLayers"/> − 1.</param>
        /// <returns>The parameter.</returns>
        public Parameter WeightHh(int layer) => weightHh[layer];

        /// <summary>b_ih of layer <paramref name="layer"/>, or <see langword="null"/> without biases.</summary>
        /// <param name="layer">0 to <see cref="NumLayers"/> − 1.</param>
        /// <returns>The parameter or <see langword="null"/>.</returns>
        public Parameter? BiasIh(int layer) => biasIh[layer];

        /// <summary>b_hh of layer <paramref name="layer"/>, or <see langword="null"/> without biases.</summary>
        /// <param name="layer">0 to <see cref="NumLayers"/> − 1.</param>
        /// <returns>The parameter or <see langword="null"/>.</returns>
        public Parameter? BiasHh(int layer) => biasHh[layer];

        /// <inheritdoc/>
        protected override void Visit(ModuleVisitor visitor)
        {
            ArgumentNullException.ThrowIfNull(visitor);
            for (int l = 0; l < NumLayers; l++)
            {
                string k = l.ToString(CultureInfo.InvariantCulture);
                visitor.Parameter("weight_ih_l" + k, weightIh[l]);
                visitor.Parameter("weight_hh_l" + k, weightHh[l]);
                if (biasIh[l] is { } bi) visitor.Parameter("bias_ih_l" + k, bi);
                if (biasHh[l] is { } bh) visitor.Parameter("bias_hh_l" + k, bh);
            }
        }

        /// <summary>Checks that <paramref name="x"/> is steps × <see cref="InputSize"/> per example; returns the steps.</summary>
        private protected int Steps(Tensor x)
        {
            ArgumentNullException.ThrowIfNull(x);
            if (x.Rank != 2 || x.Size(1) != InputSize)
                throw new ArgumentException($"{this} expects a sequence per example (steps × {InputSize}), but received {Shapes.Format(x.Shape)}.", nameof(x));
            return x.Size(0);
        }

        /// <summary>The pre-activation of gate row <paramref name="row"/> of layer <paramref name="layer"/>: W_ih·x + b_ih + W_hh·h + b_hh.</summary>
        private protected float Gate(int layer, int row, ReadOnlySpan<float> x, ReadOnlySpan<float> h) =>
            Affine(WeightIh(layer), BiasIh(layer), row, x) + Affine(WeightHh(layer), BiasHh(layer), row, h);

        /// <summary>Σ W[row, :]·v + b[row] for every row of a [rows, v.Length] parameter: one gate block's pre-activations.</summary>
        private protected static float Affine(Parameter weight, Parameter? bias, int row, ReadOnlySpan<float> v)
        {
            ReadOnlySpan<float> w = weight.Data.Slice(row * v.Length, v.Length);
            float sum = bias is null ? 0f : bias.Data[row];
            for (int i = 0; i < v.Length; i++)
                sum += w[i] * v[i];
            return sum;
        }

        private protected static float Sigmoid(float x) => 1f / (1f + MathF.Exp(-x));
    }

    /// <summary>
    /// PyTorch's <c>nn.GRU(input_size, hidden_size, num_layers, bias, batch_first=True)</c>, h₀ = 0:
    /// <c>r = σ(W_ir·x + b_ir + W_hr·h + b_hr)</c>, <c>z = σ(W_iz·x + b_iz + W_hz·h + b_hz)</c>,
    /// <c>n = tanh(W_in·x + b_in + r ⊙ (W_hn·h + b_hn))</c>, <c>h' = (1 − z) ⊙ n + z ⊙ h</c>; the gates r, z, n in that order in the weights.
    /// </summary>
    public sealed class GRU : RecurrentModule
    {
        /// <summary>Creates the layers with PyTorch's initialisation, U(±1/√hiddenSize) (see <see cref="Module.ManualSeed"/>).</summary>
        /// <param name="inputSize">Features per step of the input.</param>
        /// <param name="hiddenSize">Features of the hidden state.</param>
        /// <param name="numLayers">Stacked layers, 1 to 8; each layer above the first reads the states of the one below.</param>
        /// <param name="bias">Whether the layers have b_ih and b_hh.</param>
        /// <param name="batchFirst">Must be <see langword="true"/>: the batch is always the leading dimension in StaticGrad.</param>
        public GRU(int inputSize, int hiddenSize, int numLayers = 1, bool bias = true, bool batchFirst = true)
            : base(3, inputSize, hiddenSize, numLayers, bias, batchFirst)
        {
        }

        /// <summary>Runs the layers over each sequence.</summary>
        /// <param name="x">Per example, steps × <see cref="RecurrentModule.InputSize"/>.</param>
        /// <returns>
        /// <c>Output</c>: the top layer's state at every step (steps × hidden); <c>Hidden</c>: every layer's final state
        /// (layers × hidden) — PyTorch's <c>(output, h_n)</c>, with the batch first in both.
        /// </returns>
        /// <exception cref="ArgumentException"><paramref name="x"/> is not steps × inputSize per example.</exception>
        public (Tensor Output, Tensor Hidden) Forward(Tensor x)
        {
            int steps = Steps(x), h = HiddenSize;
            var output = new Tensor(x.Batch, steps, h);
            var hidden = new Tensor(x.Batch, NumLayers, h);
            var state = new float[h];
            var next = new float[h];
            for (int b = 0; b < x.Batch; b++)
            {
                float[] sequence = x.AsSpan().Slice(b * x.ExampleSize, x.ExampleSize).ToArray();
                int width = InputSize;
                for (int l = 0; l < NumLayers; l++)
                {
                    var states = new float[steps * h];
                    Array.Clear(state);
                    for (int t = 0; t < steps; t++)
                    {
                        ReadOnlySpan<float> input = sequence.AsSpan(t * width, width);
                        for (int j = 0; j < h; j++)
                        {
                            float r = Sigmoid(Affine(WeightIh(l), BiasIh(l), j, input) + Affine(WeightHh(l), BiasHh(l), j, state));
                            float z = Sigmoid(Affine(WeightIh(l), BiasIh(l), h + j, input) + Affine(WeightHh(l), BiasHh(l), h + j, state));
                            float n = MathF.Tanh(Affine(WeightIh(l), BiasIh(l), 2 * h + j, input) + r * Affine(WeightHh(l), BiasHh(l), 2 * h + j, state));
                            next[j] = (1 - z) * n + z * state[j];
                        }

                        next.CopyTo(state, 0);
                        state.CopyTo(states, t * h);
                    }

                    state.CopyTo(hidden.AsSpan().Slice((b * NumLayers + l) * h, h));
                    sequence = states;
                    width = h;
                }

                sequence.CopyTo(output.AsSpan().Slice(b * steps * h, steps * h));
            }

            return (output, hidden);
        }

        /// <summary>Describes the module like PyTorch: <c>GRU(3, 16, num_layers=2, batch_first=True)</c>.</summary>
        /// <returns>The description.</returns>
        public override string ToString() =>
            $"GRU({InputSize}, {HiddenSize}{(NumLayers != 1 ? $", num_layers={NumLayers}" : string.Empty)}{(BiasIh(0) is null ? ", bias=False" : string.Empty)}, batch_first=True)";
    }

    /// <summary>
    /// PyTorch's <c>nn.LSTM(input_size, hidden_size, num_layers, bias, batch_first=True)</c>, h₀ = c₀ = 0:
    /// <c>i, f, o = σ(W_i·x + b_i + U_i·h + c_i …)</c>, <c>g = tanh(…)</c>, <c>c' = f ⊙ c + i ⊙ g</c>, <c>h' = o ⊙ tanh(c')</c>;
    /// the gates i, f, g, o in that order in the weights.
    /// </summary>
    public sealed class LSTM : RecurrentModule
    {
        /// <summary>Creates the layers with PyTorch's initialisation, U(±1/√hiddenSize) (see <see cref="Module.ManualSeed"/>).</summary>
        /// <param name="inputSize">Features per step of the input.</param>
        /// <param name="hiddenSize">Features of the hidden and cell states.</param>
        /// <param name="numLayers">Stacked layers, 1 to 8.</param>
        /// <param name="bias">Whether the layers have b_ih and b_hh.</param>
        /// <param name="batchFirst">Must be <see langword="true"/>: the batch is always the leading dimension in StaticGrad.</param>
        public LSTM(int inputSize, int hiddenSize, int numLayers = 1, bool bias = true, bool batchFirst = true)
            : base(4, inputSize, hiddenSize, numLayers, bias, batchFirst)
        {
        }

        /// <summary>Runs the layers over each sequence.</summary>
        /// <param name="x">Per example, steps × <see cref="RecurrentModule.InputSize"/>.</param>
        /// <returns>
        /// <c>Output</c>: the top layer's hidden state at every step (steps × hidden); then every layer's final hidden and cell
        /// states (layers × hidden each) — PyTorch's <c>(output, (h_n, c_n))</c>, with the batch first.
        /// </returns>
        /// <exception cref="ArgumentException"><paramref name="x"/> is not steps × inputSize per example.</exception>
        public (Tensor Output, (Tensor Hidden, Tensor Cell) Final) Forward(Tensor x)
        {
            int steps = Steps(x), h = HiddenSize;
            var output = new Tensor(x.Batch, steps, h);
            var hidden = new Tensor(x.Batch, NumLayers, h);
            var cells = new Tensor(x.Batch, NumLayers, h);
            var state = new float[h];
            var cell = new float[h];
            var next = new float[h];
            for (int b = 0; b < x.Batch; b++)
            {
                float[] sequence = x.AsSpan().Slice(b * x.ExampleSize, x.ExampleSize).ToArray();
                int width = InputSize;
                for (int l = 0; l < NumLayers; l++)
                {
                    var states = new float[steps * h];
                    Array.Clear(state);
                    Array.Clear(cell);
                    for (int t = 0; t < steps; t++)
                    {
                        ReadOnlySpan<float> input = sequence.AsSpan(t * width, width);
                        for (int j = 0; j < h; j++)
                        {
                            float i = Sigmoid(Gate(l, j, input, state));
                            float f = Sigmoid(Gate(l, h + j, input, state));
                            float g = MathF.Tanh(Gate(l, 2 * h + j, input, state));
                            float o = Sigmoid(Gate(l, 3 * h + j, input, state));
                            cell[j] = f * cell[j] + i * g;
                            next[j] = o * MathF.Tanh(cell[j]);
                        }

                        next.CopyTo(state, 0);
                        state.CopyTo(states, t * h);
                    }

                    state.CopyTo(hidden.AsSpan().Slice((b * NumLayers + l) * h, h));
                    cell.CopyTo(cells.AsSpan().Slice((b * NumLayers + l) * h, h));
                    sequence = states;
                    width = h;
                }

                sequence.CopyTo(output.AsSpan().Slice(b * steps * h, steps * h));
            }

            return (output, (hidden, cells));
        }

        /// <summary>Describes the module like PyTorch: <c>LSTM(3, 16, num_layers=2, batch_first=True)</c>.</summary>
        /// <returns>The description.</returns>
        public override string ToString() =>
            $"LSTM({InputSize}, {HiddenSize}{(NumLayers != 1 ? $", num_layers={NumLayers}" : string.Empty)}{(BiasIh(0) is null ? ", bias=False" : string.Empty)}, batch_first=True)";
    }
}
