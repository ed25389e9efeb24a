using System.Collections.Generic;
using System.Globalization;
using StaticGrad.Generators.Emit;
using StaticGrad.Generators.Emit.Graph;
using StaticGrad.Generators.Emit.Kernels;
using StaticGrad.Generators.Helpers;

namespace StaticGrad.Generators.Graph.Ops
{
    /// <summary>
    /// PyTorch's <c>nn.GRU</c> and <c>nn.LSTM</c> with <c>batch_first=True</c>: <c>GRU(inputSize, hiddenSize, numLayers: 1, bias: true)</c>
    /// on a sequence per example (steps × inputSize). <c>Forward</c> returns a C# tuple as PyTorch returns a Python one —
    /// <c>(output, hₙ)</c> for a GRU, <c>(output, (hₙ, cₙ))</c> for an LSTM — where output is the top layer's state at every step
    /// (steps × hidden) and hₙ, cₙ the final states of every layer (layers × hidden: PyTorch's [layers, batch, hidden] with
    /// the batch first, as everywhere in StaticGrad). The node's value holds them stacked (steps + layers (+ layers) rows of
    /// hidden); the tuple's parts are <see cref="NarrowOp"/>s of it. Parameters <c>weight_ih_l{k}</c>, <c>weight_hh_l{k}</c>,
    /// <c>bias_ih_l{k}</c>, <c>bias_hh_l{k}</c> with the gates in PyTorch's order, all U(±1/√hidden); backward through time
    /// for the fixed number of steps, in StaticGrad.Runtime's <c>Kernels.Recurrent</c>.
    /// </summary>
    internal abstract class RecurrentOp : OpDefinition
    {
        /// <summary>Gates per layer: 3 (GRU: r, z, n) or 4 (LSTM: i, f, g, o).</summary>
        protected abstract int GateCount { get; }

        /// <summary>Whether the layer has a cell state (LSTM), returned and stacked after the hidden states.</summary>
        protected abstract bool HasCells { get; }

        public override string? ModuleClass => Key;

        public override OpSettings ReadSettings(IOpArguments arguments)
        {
            int inputs = arguments.Int("inputSize"), hidden = arguments.Int("hiddenSize"), layers = arguments.Int("numLayers");
            bool bias = arguments.Bool("bias");
            LinearOp.Positive(arguments, "inputSize", inputs);
            LinearOp.Positive(arguments, "hiddenSize", hidden);
            if (layers < 1 || layers > 8)
            {
                arguments.Error("numLayers", $"numLayers must be 1 to 8, got {layers}");
            }

            if (!arguments.Bool("batchFirst"))
            {
                arguments.Error("batchFirst", "only batchFirst: true is supported: in StaticGrad the batch is always the leading dimension, and a sequence is steps × features per example");
            }

            return new OpSettings(EquatableArray.Of(inputs, hidden, layers, bias ? 1 : 0), EquatableArray.Empty<double>(), string.Empty);
        }

        public override IEnumerable<StateDeclaration> State(OpSettings settings)
        {
            int inputs = settings.Int(0), hidden = settings.Int(1), layers = settings.Int(2), gates = GateCount * hidden;
            for (int l = 0; l < layers; l++)
            {
                string k = l.ToString(CultureInfo.InvariantCulture);
                yield return new StateDeclaration($"weight_ih_l{k}", StateKind.Parameter, Shapes.Of(gates, l == 0 ? inputs : hidden), InitKind.UniformFanIn, hidden, IsWeight: true);
                yield return new StateDeclaration($"weight_hh_l{k}", StateKind.Parameter, Shapes.Of(gates, hidden), InitKind.UniformFanIn, hidden, IsWeight: true);
                if (settings.Int(3) != 0)
                {
                    yield return new StateDeclaration($"bias_ih_l{k}", StateKind.Parameter, Shapes.Of(gates), InitKind.UniformFanIn, hidden, IsWeight: false);
                    yield return new StateDeclaration($"bias_hh_l{k}", StateKind.Parameter, Shapes.Of(gates), InitKind.UniformFanIn, hidden, IsWeight: false);
                }
            }
        }

        /// <summary>GRU: (output, hₙ); LSTM: (output, (hₙ, cₙ)) — rows of the stacked value.</summary>
        public override OutputParts? Parts(OpSettings settings, EquatableArray<int> shape)
        {
            int layers = settings.Int(2), steps = shape[0] - (HasCells ? 2 * layers : layers);
            OutputParts output = OutputParts.Rows(0, steps), final = OutputParts.Rows(steps, layers);
            return HasCells ? OutputParts.Tuple(output, OutputParts.Tuple(final, OutputParts.Rows(steps + layers, layers))) : OutputParts.Tuple(output, final);
        }

        public override string Describe(OpSettings settings) =>
            $"{Key}({settings.Int(0)}, {settings.Int(1)}{(settings.Int(2) != 1 ? $", numLayers: {settings.Int(2)}" : string.Empty)}{(settings.Int(3) == 0 ? ", bias: false" : string.Empty)})";

        public override EquatableArray<int>? InferShape(OpSettings settings, IReadOnlyList<EquatableArray<int>> inputs, IShapeErrors errors)
        {
            EquatableArray<int> x = inputs[0];
            if (x.Count != 2)
            {
                errors.Error($"{Describe(settings)} takes a sequence per example (steps × {settings.Int(0)} features), but receives {Shapes.Text(x)}{(x.Count == 1 ? "; Reshape it to steps × features" : string.Empty)}");
                return null;
            }

            if (x[1] != settings.Int(0))
            {
                errors.Error($"{Describe(settings)} expects {settings.Int(0)} features per step, but receives {Shapes.Text(x)} ({x[1]} per step)", "inputSize", x[1]);
                return null;
            }

            int layers = settings.Int(2);
            return Shapes.Of(x[0] + (HasCells ? 2 * layers : layers), settings.Int(1));
        }

        /// <summary>The products of each layer (input side for every step at once, hidden side per step, and their gradients), as Gemm shape structs.</summary>
        public override void WriteShared(SourceWriter w, GraphCode code, GraphNode node, HashSet<string> written)
        {
            (_, int inputs, int hidden, int layers) = Dimensions(code.Spec, node);
            int width = GateCount * hidden;
            void Shape(string name, string formula, int m, int n, int k, int leadingA, int leadingB, bool transposeA, bool transposeB, bool accumulate)
            {
                if (written.Add(name))
                {
                    w.Line();
                    GemmShapeEmitter.WriteShape(w, new GemmShapeEmitter.Product(name, $"{Key} {formula}", m, n, k, leadingA, leadingB, transposeA, transposeB, accumulate));
                }
            }

            foreach (int input in layers > 1 ? new[] { inputs, hidden } : new[] { inputs })
            {
                Shape(InputProduct(input, hidden), $"gate inputs G[rows×{width}] = X[rows×{input}]·W_ihᵀ + b_ih", 0, width, input, input, input, false, true, false);
                Shape(InputWeightGradient(input, hidden), $"dW_ih[{width}×{input}] += dGᵀ·X over every step", width, input, 0, width, input, true, false, true);
                Shape(InputGradient(input, hidden), $"dX[rows×{input}] = dG[rows×{width}]·W_ih", 0, input, width, width, input, false, false, false);
            }

            Shape(HiddenProduct(hidden), $"one step's H[batch×{hidden}]·W_hhᵀ + b_hh [batch×{width}]", 0, width, hidden, hidden, hidden, false, true, false);
            Shape(StateGradient(hidden), $"one step's dH_prev[batch×{hidden}] {(HasCells ? "=" : "+=")} dS[batch×{width}]·W_hh", 0, hidden, width, width, hidden, false, false, !HasCells);
            Shape(HiddenWeightGradient(hidden), $"one step's dW_hh[{width}×{hidden}] += dSᵀ·H_prev", width, hidden, 0, width, hidden, true, false, true);
        }

        private string InputProduct(int inputs, int hidden) => $"{Key}{inputs}x{hidden}InputProduct";

        private string InputWeightGradient(int inputs, int hidden) => $"{Key}{inputs}x{hidden}InputWeightGradientProduct";

        private string InputGradient(int inputs, int hidden) => $"{Key}{inputs}x{hidden}InputGradientProduct";

        private string HiddenProduct(int hidden) => $"{Key}{hidden}HiddenProduct";

        private string StateGradient(int hidden) => $"{Key}{hidden}StateGradientProduct";

        private string HiddenWeightGradient(int hidden) => $"{Key}{hidden}HiddenWeightGradientProduct";

        public override void WriteFields(SourceWriter w, GraphCode code, GraphNode node)
        {
            string n = $"_node{node.Id}";
            w.Line($"private readonly {code.T}[][] {n}GateInputs, {n}Gates, {n}{Saved}, {n}States; // per layer, kept for backward through time");
            w.Line($"private readonly {code.T}[] {n}GateGradient, {n}StepGradient, {n}StateGradient{(HasCells ? $", {n}CellGradient" : string.Empty)}, {n}SequenceGradient; // backward scratch");
        }

        public override void WriteAllocation(SourceWriter w, GraphCode code, GraphNode node)
        {
            (int steps, _, int hidden, int layers) = Dimensions(code.Spec, node);
            string n = $"_node{node.Id}";
            int width = GateCount * hidden;
            w.Line($"{n}GateInputs = new {code.T}[{layers}][];");
            w.Line($"{n}Gates = new {code.T}[{layers}][];");
            w.Line($"{n}{Saved} = new {code.T}[{layers}][];");
            w.Line($"{n}States = new {code.T}[{layers}][];");
            w.Open($"for (int layer = 0; layer < {layers}; layer++)");
            w.Line($"{n}GateInputs[layer] = new {code.T}[maxBatchSize * {steps * width}];");
            w.Line($"{n}Gates[layer] = new {code.T}[maxBatchSize * {steps * width}];");
            w.Line($"{n}{Saved}[layer] = new {code.T}[maxBatchSize * {(HasCells ? steps + 1 : steps) * hidden}];");
            w.Line($"{n}States[layer] = new {code.T}[maxBatchSize * {(steps + 1) * hidden}];");
            w.Close();
            w.Line($"{n}GateGradient = new {code.T}[maxBatchSize * {steps * width}];");
            w.Line($"{n}StepGradient = new {code.T}[maxBatchSize * {width}];");
            w.Line($"{n}StateGradient = new {code.T}[maxBatchSize * {hidden}];");
            if (HasCells)
            {
                w.Line($"{n}CellGradient = new {code.T}[maxBatchSize * {hidden}];");
            }

            w.Line($"{n}SequenceGradient = new {code.T}[{(layers > 1 ? $"maxBatchSize * {steps * hidden}" : "0")}];");
        }

        public override void WriteForward(SourceWriter w, GraphCode code, GraphNode node)
        {
            (int steps, int inputs, int hidden, int layers) = Dimensions(code.Spec, node);
            string n = $"_node{node.Id}";
            int stride = node.Size;
            for (int l = 0; l < layers; l++)
            {
                string input = l == 0 ? code.ValueSpan(node.Inputs[0]) : $"new {code.ReadOnlySpan}({n}States[{l - 1}], batch * {hidden}, batch * {steps * hidden})";
                w.Line($"global::StaticGrad.Kernels.Recurrent.{Key[0]}{Key.Substring(1).ToLowerInvariant()}Forward<{InputProduct(l == 0 ? inputs : hidden, hidden)}, {HiddenProduct(hidden)}, {code.T}>({input}, timeMajor: {(l == 0 ? "false" : "true")}, batch, {steps}, {(l == 0 ? inputs : hidden)}, {hidden},");
                w.Line($"    {Parameters(code, node, l)}, {n}GateInputs[{l}], {n}Gates[{l}], {n}{Saved}[{l}], {n}States[{l}]); // layer {l}");
            }

            w.Line($"global::StaticGrad.Kernels.Recurrent.CopySequence<{code.T}>({n}States[{layers - 1}], batch, {steps}, {hidden}, {code.OutputSpan(node)}, {stride}); // output: the top layer's states, rows 0 to {steps - 1}");
            for (int l = 0; l < layers; l++)
            {
                w.Line($"global::StaticGrad.Kernels.Recurrent.CopyFinal<{code.T}>({n}States[{l}], batch, {steps}, {hidden}, {code.OutputSpan(node)}.Slice({(steps + l) * hidden}), {stride}); // hₙ of layer {l}: row {steps + l}");
                if (HasCells)
                {
                    w.Line($"global::StaticGrad.Kernels.Recurrent.CopyFinal<{code.T}>({n}{Saved}[{l}], batch, {steps}, {hidden}, {code.OutputSpan(node)}.Slice({(steps + layers + l) * hidden}), {stride}); // cₙ of layer {l}: row {steps + layers + l}");
                }
            }
        }

        public override void WriteBackward(SourceWriter w, GraphCode code, GraphNode node, IReadOnlyList<string?> inputGradients)
        {
            (int steps, int inputs, int hidden, int layers) = Dimensions(code.Spec, node);
            string n = $"_node{node.Id}";
            int stride = node.Size;
            string sequence = $"new {code.Span}({n}SequenceGradient, 0, batch * {steps * hidden})";
            for (int l = layers - 1; l >= 0; l--)
            {
                string input = l == 0 ? code.ValueSpan(node.Inputs[0]) : $"new {code.ReadOnlySpan}({n}States[{l - 1}], batch * {hidden}, batch * {steps * hidden})";
                string outputGradient = l == layers - 1 ? $"{code.GradientSpan(node.Id)}, {stride}, {hidden}" : $"{sequence}, {hidden}, batch * {hidden}";
                string final = $"{code.GradientSpan(node.Id)}.Slice({(steps + l) * hidden})";
                if (HasCells)
                {
                    final += $", {code.GradientSpan(node.Id)}.Slice({(steps + layers + l) * hidden})";
                }

                string inputGradient = l > 0 ? sequence : inputGradients[0] is { } dX ? code.TargetSpan(dX, node.Inputs[0]) : "default";
                w.Line($"global::StaticGrad.Kernels.Recurrent.{Key[0]}{Key.Substring(1).ToLowerInvariant()}Backward<{StateGradient(hidden)}, {HiddenWeightGradient(hidden)}, {InputWeightGradient(l == 0 ? inputs : hidden, hidden)}, {InputGradient(l == 0 ? inputs : hidden, hidden)}, {code.T}>({input}, timeMajor: {(l == 0 ? "false" : "true")}, batch, {steps}, {(l == 0 ? inputs : hidden)}, {hidden},");
                w.Line($"    {Parameter(code, node, "weight_ih", l)}, {Parameter(code, node, "weight_hh", l)}, {n}Gates[{l}], {n}{Saved}[{l}], {n}States[{l}],");
                w.Line($"    {outputGradient}, {final}, {stride},");
                w.Line($"    {Gradient(code, node, "weight_ih", l)}, {Gradient(code, node, "weight_hh", l)}, {Gradient(code, node, "bias_ih", l)}, {Gradient(code, node, "bias_hh", l)},");
                w.Line($"    {n}GateGradient, {n}StepGradient, {n}StateGradient, {(HasCells ? $"{n}CellGradient, " : string.Empty)}{inputGradient}); // layer {l}");
            }
        }

        /// <summary>
        /// ONNX's own <c>GRU</c> (<c>linear_before_reset=1</c>, PyTorch's variant) or <c>LSTM</c> per layer, on the time-major
        /// sequence, with the weights' gate blocks sliced and concatenated into ONNX's order (GRU z, r, h; LSTM i, o, f, c); the
        /// outputs transposed back to batch-first and stacked as the node's value is.
        /// </summary>
        public override void WriteOnnx(OnnxBuilder onnx, GraphNode node)
        {
            (int steps, _, int hidden, int layers) = Dimensions(onnx.Spec, node);
            int[] order = OnnxGateOrder;
            string Temporary(string what) => onnx.Temporary(node, what);
            string Unsqueeze(string x, string what) => onnx.Add(node, "Unsqueeze", Temporary(what), new[] { x, onnx.Int64s(node, "axis0", 0) });
            string Reordered(string tensor, string what)
            {
                var blocks = new string[order.Length];
                for (int g = 0; g < order.Length; g++)
                {
                    long start = order[g] * (long)hidden;
                    blocks[g] = onnx.Add(node, "Slice", Temporary($"{what}_gate{g}"), new[] { tensor, onnx.Int64s(node, $"{what}_start{g}", start), onnx.Int64s(node, $"{what}_end{g}", start + hidden), onnx.Int64s(node, "axis0", 0) });
                }

                return onnx.Add(node, "Concat", Temporary($"{what}_onnx_order"), blocks, OnnxBuilder.Attribute.Int("axis", 0));
            }

            string x = onnx.Add(node, "Transpose", Temporary("time_major"), new[] { onnx.Input(node, 0) }, OnnxBuilder.Attribute.Ints("perm", 1, 0, 2));
            var finals = new List<string>();
            var cells = new List<string>();
            for (int l = 0; l < layers; l++)
            {
                string k = l.ToString(CultureInfo.InvariantCulture);
                string w = Unsqueeze(Reordered(onnx.Parameter(node, $"weight_ih_l{k}"), $"W{k}"), $"W{k}");
                string r = Unsqueeze(Reordered(onnx.Parameter(node, $"weight_hh_l{k}"), $"R{k}"), $"R{k}");
                var inputs = new List<string> { x, w, r };
                if (onnx.HasParameter(node, $"bias_ih_l{k}"))
                {
                    string b = onnx.Add(node, "Concat", Temporary($"B{k}_flat"), new[] { Reordered(onnx.Parameter(node, $"bias_ih_l{k}"), $"Wb{k}"), Reordered(onnx.Parameter(node, $"bias_hh_l{k}"), $"Rb{k}") }, OnnxBuilder.Attribute.Int("axis", 0));
                    inputs.Add(Unsqueeze(b, $"B{k}"));
                }

                var outputs = new List<string> { Temporary($"Y{k}"), Temporary($"Y_h{k}") };
                if (HasCells)
                {
                    outputs.Add(Temporary($"Y_c{k}"));
                }

                var attributes = new List<OnnxBuilder.Attribute> { OnnxBuilder.Attribute.Int("hidden_size", hidden) };
                if (!HasCells)
                {
                    attributes.Add(OnnxBuilder.Attribute.Int("linear_before_reset", 1));
                }

                onnx.Add(node, Key, outputs.ToArray(), inputs.ToArray(), attributes.ToArray());
                x = onnx.Add(node, "Squeeze", Temporary($"sequence{k}"), new[] { outputs[0], onnx.Int64s(node, "axis1", 1) });   // [steps, batch, hidden]
                finals.Add(onnx.Add(node, "Transpose", Temporary($"final{k}"), new[] { outputs[1] }, OnnxBuilder.Attribute.Ints("perm", 1, 0, 2)));   // [batch, 1, hidden]
                if (HasCells)
                {
                    cells.Add(onnx.Add(node, "Transpose", Temporary($"cell{k}"), new[] { outputs[2] }, OnnxBuilder.Attribute.Ints("perm", 1, 0, 2)));
                }
            }

            var parts = new List<string> { onnx.Add(node, "Transpose", Temporary("sequence_batch_first"), new[] { x }, OnnxBuilder.Attribute.Ints("perm", 1, 0, 2)) };
            parts.AddRange(finals);
            parts.AddRange(cells);
            onnx.Add(node, "Concat", onnx.Output(node), parts.ToArray(), OnnxBuilder.Attribute.Int("axis", 1));
        }

        /// <summary>Where ONNX's gate g is among PyTorch's gate blocks.</summary>
        protected abstract int[] OnnxGateOrder { get; }

        /// <summary>What the op keeps per layer besides gates and states: GRU the hidden parts of n, LSTM the cells.</summary>
        private string Saved => HasCells ? "Cells" : "HiddenParts";

        private static (int Steps, int Inputs, int Hidden, int Layers) Dimensions(GraphSpec spec, GraphNode node) =>
            (spec.Nodes[node.Inputs[0]].Shape[0], node.Settings.Int(0), node.Settings.Int(1), node.Settings.Int(2));

        private static string Parameters(GraphCode code, GraphNode node, int layer) =>
            $"{Parameter(code, node, "weight_ih", layer)}, {Parameter(code, node, "weight_hh", layer)}, {Parameter(code, node, "bias_ih", layer)}, {Parameter(code, node, "bias_hh", layer)}";

        private static string Parameter(GraphCode code, GraphNode node, string name, int layer)
        {
            string full = $"{name}_l{layer.ToString(CultureInfo.InvariantCulture)}";
            return code.HasParameter(node, full) ? code.ParameterSpan(code.Parameter(node, full)) : "default";
        }

        private static string Gradient(GraphCode code, GraphNode node, string name, int layer)
        {
            string full = $"{name}_l{layer.ToString(CultureInfo.InvariantCulture)}";
            return code.HasParameter(node, full) ? code.ParameterGradientSpan(code.Parameter(node, full)) : "default";
        }
    }

    /// <summary><c>GRU(inputSize, hiddenSize, numLayers: 1, bias: true, batchFirst: true)</c>: <c>var (output, hidden) = gru.Forward(x);</c>.</summary>
    internal sealed class GruOp : RecurrentOp
    {
        public static readonly GruOp Instance = new();

        public override string Key => "GRU";

        protected override int GateCount => 3;

        protected override bool HasCells => false;

        protected override int[] OnnxGateOrder => new[] { 1, 0, 2 };   // ONNX z, r, h from PyTorch r, z, n

        public override string Formula => "r = σ(W_ir·x + b_ir + W_hr·h + b_hr), z = σ(…z…), n = tanh(W_in·x + b_in + r ⊙ (W_hn·h + b_hn)), h' = (1 − z) ⊙ n + z ⊙ h, per step and layer";

        public override string BackwardFormula => "backward through time: dn = dh ⊙ (1 − z), dz = dh ⊙ (h − n), dh_prev = dh ⊙ z + [dr, dz, dn ⊙ r]·W_hh, dW += gate gradients ⊗ inputs";
    }

    /// <summary><c>LSTM(inputSize, hiddenSize, numLayers: 1, bias: true, batchFirst: true)</c>: <c>var (output, (hidden, cell)) = lstm.Forward(x);</c>.</summary>
    internal sealed class LstmOp : RecurrentOp
    {
        public static readonly LstmOp Instance = new();

        public override string Key => "LSTM";

        protected override int GateCount => 4;

        protected override bool HasCells => true;

        protected override int[] OnnxGateOrder => new[] { 0, 3, 1, 2 };   // ONNX i, o, f, c from PyTorch i, f, g, o

        public override string Formula => "i, f, o = σ(W·x + b + U·h + c), g = tanh(…), c' = f ⊙ c + i ⊙ g, h' = o ⊙ tanh(c'), per step and layer";

        public override string BackwardFormula => "backward through time: dc = dc' ⊙ f + dh ⊙ o ⊙ (1 − tanh²c), gate gradients through σ′ and tanh′, dh_prev = gate gradients·W_hh";
    }
}
