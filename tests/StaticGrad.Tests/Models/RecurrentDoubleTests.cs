using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;
using StaticGrad.Interchange;
using StaticGrad.Kernels;
using Xunit;

namespace StaticGrad.Tests.Models;

/// <summary>
/// The recurrent kernels in double against PyTorch 1.13's float64 nn.GRU and nn.LSTM (Golden/make_recurrent_golden.py):
/// the same float32 weights, inputs and output gradient (exact in double), layers chained as the generated code chains them
/// (the first batch-major, the next time-major over the states below), outputs, final states and every parameter's
/// gradient within 1e-10. The models are float; this is the double check of the arithmetic they run.
/// </summary>
public sealed class RecurrentDoubleTests
{
    private const int Steps = 6, Inputs = 3, Hidden = 5;

    public interface IConstant
    {
        int Value { get; }
    }

    private readonly struct Three : IConstant { public int Value => 3; }

    private readonly struct Four : IConstant { public int Value => 4; }

    private readonly struct Five : IConstant { public int Value => 5; }

    // The products of RecurrentOp.WriteShared, for G gates (TG) and an input of TI features; H is 5.
    private readonly struct InputProduct<TG, TI> : IGemmShape
        where TG : struct, IConstant
        where TI : struct, IConstant
    {
        public int M => 0;
        public int N => default(TG).Value * Hidden;
        public int K => default(TI).Value;
        public int LeadingA => default(TI).Value;
        public int LeadingB => default(TI).Value;
        public bool TransposeA => false;
        public bool TransposeB => true;
        public bool Accumulate => false;
    }

    private readonly struct HiddenProduct<TG> : IGemmShape
        where TG : struct, IConstant
    {
        public int M => 0;
        public int N => default(TG).Value * Hidden;
        public int K => Hidden;
        public int LeadingA => Hidden;
        public int LeadingB => Hidden;
        public bool TransposeA => false;
        public bool TransposeB => true;
        public bool Accumulate => false;
    }

    private readonly struct StateGradient<TG> : IGemmShape
        where TG : struct, IConstant
    {
        public int M => 0;
        public int N => Hidden;
        public int K => default(TG).Value * Hidden;
        public int LeadingA => default(TG).Value * Hidden;
        public int LeadingB => Hidden;
        public bool TransposeA => false;
        public bool TransposeB => false;
        public bool Accumulate => default(TG).Value == 3;   // a GRU adds dh ⊙ z first; an LSTM overwrites
    }

    private readonly struct HiddenWeightGradient<TG> : IGemmShape
        where TG : struct, IConstant
    {
        public int M => default(TG).Value * Hidden;
        public int N => Hidden;
        public int K => 0;
        public int LeadingA => default(TG).Value * Hidden;
        public int LeadingB => Hidden;
        public bool TransposeA => true;
        public bool TransposeB => false;
        public bool Accumulate => true;
    }

    private readonly struct InputWeightGradient<TG, TI> : IGemmShape
        where TG : struct, IConstant
        where TI : struct, IConstant
    {
        public int M => default(TG).Value * Hidden;
        public int N => default(TI).Value;
        public int K => 0;
        public int LeadingA => default(TG).Value * Hidden;
        public int LeadingB => default(TI).Value;
        public bool TransposeA => true;
        public bool TransposeB => false;
        public bool Accumulate => true;
    }

    private readonly struct InputGradient<TG, TI> : IGemmShape
        where TG : struct, IConstant
        where TI : struct, IConstant
    {
        public int M => 0;
        public int N => default(TI).Value;
        public int K => default(TG).Value * Hidden;
        public int LeadingA => default(TG).Value * Hidden;
        public int LeadingB => default(TI).Value;
        public bool TransposeA => false;
        public bool TransposeB => false;
        public bool Accumulate => false;
    }

    [Theory]
    [InlineData(nameof(GruOneLayer), "gru", 1)]
    [InlineData(nameof(GruTwoLayers), "gru", 2)]
    [InlineData(nameof(LstmOneLayer), "lstm", 1)]
    [InlineData(nameof(LstmTwoLayers), "lstm", 2)]
    public void InDouble_MatchesPyTorchsFloat64Run_Within1e10(string model, string module, int layers)
    {
        string golden = Path.Combine(AppContext.BaseDirectory, "Models", "Golden");
        JsonElement run = JsonDocument.Parse(File.ReadAllText(Path.Combine(golden, "Recurrent.json"))).RootElement.GetProperty(model);
        int batch = run.GetProperty("batch").GetInt32();
        bool lstm = module == "lstm";
        int gates = lstm ? 4 : 3, width = gates * Hidden, rows = Steps + (lstm ? 2 : 1) * layers, stride = rows * Hidden;
        Dictionary<string, double[]> weights = InitialWeights(model, Path.Combine(golden, $"{model}.initial.safetensors"));
        double[] W(string name, int l) => weights.TryGetValue($"{module}.{name}_l{l}", out double[]? w) ? w : [];
        // x and dy are float32 values written as their shortest decimals: read them as floats, then widen (exact).
        double[] x = Widened(run.GetProperty("x")), dy = Widened(run.GetProperty("dy"));

        // Forward, layer by layer, then the stacked output: every step's top state, hₙ per layer, cₙ per layer.
        var gateInputs = new double[layers][];
        var gateValues = new double[layers][];
        var saved = new double[layers][];
        var states = new double[layers][];
        var output = new double[batch * stride];
        for (int l = 0; l < layers; l++)
        {
            gateInputs[l] = new double[batch * Steps * width];
            gateValues[l] = new double[batch * Steps * width];
            saved[l] = new double[(Steps + 1) * batch * Hidden];
            states[l] = new double[(Steps + 1) * batch * Hidden];
            ReadOnlySpan<double> input = l == 0 ? x : states[l - 1].AsSpan(batch * Hidden, batch * Steps * Hidden);
            switch ((lstm, l == 0))
            {
                case (false, true): Recurrent.GruForward<InputProduct<Three, Three>, HiddenProduct<Three>, double>(input, false, batch, Steps, Inputs, Hidden, W("weight_ih", l), W("weight_hh", l), W("bias_ih", l), W("bias_hh", l), gateInputs[l], gateValues[l], saved[l], states[l]); break;
                case (false, false): Recurrent.GruForward<InputProduct<Three, Five>, HiddenProduct<Three>, double>(input, true, batch, Steps, Hidden, Hidden, W("weight_ih", l), W("weight_hh", l), W("bias_ih", l), W("bias_hh", l), gateInputs[l], gateValues[l], saved[l], states[l]); break;
                case (true, true): Recurrent.LstmForward<InputProduct<Four, Three>, HiddenProduct<Four>, double>(input, false, batch, Steps, Inputs, Hidden, W("weight_ih", l), W("weight_hh", l), W("bias_ih", l), W("bias_hh", l), gateInputs[l], gateValues[l], saved[l], states[l]); break;
                default: Recurrent.LstmForward<InputProduct<Four, Five>, HiddenProduct<Four>, double>(input, true, batch, Steps, Hidden, Hidden, W("weight_ih", l), W("weight_hh", l), W("bias_ih", l), W("bias_hh", l), gateInputs[l], gateValues[l], saved[l], states[l]); break;
            }
        }

        Recurrent.CopySequence<double>(states[layers - 1], batch, Steps, Hidden, output, stride);
        for (int l = 0; l < layers; l++)
        {
            Recurrent.CopyFinal<double>(states[l], batch, Steps, Hidden, output.AsSpan((Steps + l) * Hidden), stride);
            if (lstm)
            {
                Recurrent.CopyFinal<double>(saved[l], batch, Steps, Hidden, output.AsSpan((Steps + layers + l) * Hidden), stride);
            }
        }

        AssertClose(Doubles(run.GetProperty("outputs64")), output, $"{model} outputs");

        // Backward, top layer first; each layer's input gradient is the output gradient of the one below.
        var gradients = new Dictionary<string, double[]>();
        double[] sequence = new double[batch * Steps * Hidden], gateGradient = new double[batch * Steps * width], step = new double[batch * width];
        double[] state = new double[batch * Hidden], cell = new double[batch * Hidden], dx = new double[x.Length];
        for (int l = layers - 1; l >= 0; l--)
        {
            double[] dWih = new double[W("weight_ih", l).Length], dWhh = new double[W("weight_hh", l).Length], dbih = new double[W("bias_ih", l).Length], dbhh = new double[W("bias_hh", l).Length];
            ReadOnlySpan<double> input = l == 0 ? x : states[l - 1].AsSpan(batch * Hidden, batch * Steps * Hidden);
            bool top = l == layers - 1;
            double[] outputGradient = top ? dy : sequence.ToArray();
            int batchStride = top ? stride : Hidden, timeStride = top ? Hidden : batch * Hidden;
            ReadOnlySpan<double> final = dy.AsSpan((Steps + l) * Hidden), finalCell = lstm ? dy.AsSpan((Steps + layers + l) * Hidden) : default;
            Span<double> inputGradient = l == 0 ? dx : sequence;
            switch ((lstm, l == 0))
            {
                case (false, true): Recurrent.GruBackward<StateGradient<Three>, HiddenWeightGradient<Three>, InputWeightGradient<Three, Three>, InputGradient<Three, Three>, double>(input, false, batch, Steps, Inputs, Hidden, W("weight_ih", l), W("weight_hh", l), gateValues[l], saved[l], states[l], outputGradient, batchStride, timeStride, final, stride, dWih, dWhh, dbih, dbhh, gateGradient, step, state, inputGradient); break;
                case (false, false): Recurrent.GruBackward<StateGradient<Three>, HiddenWeightGradient<Three>, InputWeightGradient<Three, Five>, InputGradient<Three, Five>, double>(input, true, batch, Steps, Hidden, Hidden, W("weight_ih", l), W("weight_hh", l), gateValues[l], saved[l], states[l], outputGradient, batchStride, timeStride, final, stride, dWih, dWhh, dbih, dbhh, gateGradient, step, state, inputGradient); break;
                case (true, true): Recurrent.LstmBackward<StateGradient<Four>, HiddenWeightGradient<Four>, InputWeightGradient<Four, Three>, InputGradient<Four, Three>, double>(input, false, batch, Steps, Inputs, Hidden, W("weight_ih", l), W("weight_hh", l), gateValues[l], saved[l], states[l], outputGradient, batchStride, timeStride, final, finalCell, stride, dWih, dWhh, dbih, dbhh, gateGradient, step, state, cell, inputGradient); break;
                default: Recurrent.LstmBackward<StateGradient<Four>, HiddenWeightGradient<Four>, InputWeightGradient<Four, Five>, InputGradient<Four, Five>, double>(input, true, batch, Steps, Hidden, Hidden, W("weight_ih", l), W("weight_hh", l), gateValues[l], saved[l], states[l], outputGradient, batchStride, timeStride, final, finalCell, stride, dWih, dWhh, dbih, dbhh, gateGradient, step, state, cell, inputGradient); break;
            }

            gradients[$"{module}.weight_ih_l{l}"] = dWih;
            gradients[$"{module}.weight_hh_l{l}"] = dWhh;
            if (dbih.Length > 0)
            {
                gradients[$"{module}.bias_ih_l{l}"] = dbih;
                gradients[$"{module}.bias_hh_l{l}"] = dbhh;
            }
        }

        JsonElement expected = run.GetProperty("gradients64");
        Assert.Equal(expected.EnumerateObject().Select(p => p.Name).OrderBy(n => n, StringComparer.Ordinal), gradients.Keys.OrderBy(n => n, StringComparer.Ordinal));
        foreach (JsonProperty tensor in expected.EnumerateObject())
        {
            AssertClose(Doubles(tensor.Value), gradients[tensor.Name], $"{model} ∂/∂{tensor.Name}");
        }
    }

    /// <summary>The initial state_dict, read by the generated float model of the same name and widened (float32 values are exact in double).</summary>
    private static Dictionary<string, double[]> InitialWeights(string model, string path)
    {
        (NetworkDescription description, float[] values) = model switch
        {
            nameof(GruOneLayer) => Load(new GruOneLayer(), m => m.LoadSafetensors(path), GruOneLayer.Description, m => m.Parameters.ToArray()),
            nameof(GruTwoLayers) => Load(new GruTwoLayers(), m => m.LoadSafetensors(path), GruTwoLayers.Description, m => m.Parameters.ToArray()),
            nameof(LstmOneLayer) => Load(new LstmOneLayer(), m => m.LoadSafetensors(path), LstmOneLayer.Description, m => m.Parameters.ToArray()),
            _ => Load(new LstmTwoLayers(), m => m.LoadSafetensors(path), LstmTwoLayers.Description, m => m.Parameters.ToArray()),
        };
        return description.Tensors.ToDictionary(t => t.Name, t => values.AsSpan(t.Offset, t.Count).ToArray().Select(v => (double)v).ToArray());

        static (NetworkDescription, float[]) Load<TModel>(TModel m, Action<TModel> load, NetworkDescription d, Func<TModel, float[]> parameters)
        {
            load(m);
            return (d, parameters(m));
        }
    }

    private static double[] Doubles(JsonElement array) => array.EnumerateArray().Select(e => e.GetDouble()).ToArray();

    private static double[] Widened(JsonElement array) => array.EnumerateArray().Select(e => (double)e.GetSingle()).ToArray();

    private static void AssertClose(double[] expected, double[] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            double error = Math.Abs(expected[i] - actual[i]) / Math.Max(Math.Abs(expected[i]), 1);
            Assert.True(error <= 1e-10, $"{what}[{i}]: PyTorch float64 {expected[i]:R}, StaticGrad double {actual[i]:R} (error {error:E2} > 1e-10)");
        }
    }
}
