using System.Collections.Generic;
using StaticGrad.Generators.Emit;
using StaticGrad.Generators.Emit.Graph;
using StaticGrad.Generators.Emit.Kernels;
using StaticGrad.Generators.Helpers;
using StaticGrad.Generators.Model;

namespace StaticGrad.Generators.Graph.Ops
{
    /// <summary>
    /// <c>Conv2d(inChannels, outChannels, kernelSize, stride: 1, padding: 0, bias: true)</c>, PyTorch's <c>nn.Conv2d</c> on
    /// C×H×W: W [out, in, k, k], b [out], zero padding, out side <c>(H + 2p − k)/s + 1</c>. Stride 1 runs on
    /// <c>PlaneConvolution</c> (shifted rows of padded planes); other strides turn the windows into rows (im2row) for one GEMM.
    /// </summary>
    internal sealed class Conv2dOp : OpDefinition
    {
        public static readonly Conv2dOp Instance = new();

        public override bool ReplacesParameterGradients => true;

        /// <summary>∂X is added where the input is read again (a residual block's input): the kernels add as they write, so the value needs no scratch and no separate addition.</summary>
        public override bool AccumulatesInputGradient => true;

        public override bool ReadsInputsAsSpans => true;

        public override string Key => "Conv2d";

        public override string? ModuleClass => "Conv2d";

        public override string Formula => "y[o] = b[o] + Σ_c W[o, c] ⋆ x[c] (cross-correlation over k×k windows)";

        public override string BackwardFormula => "dW += Σ dY[o] ⋆ x[c], db += Σ dY[o], dX[c] = Σ_o dY[o] ∗ W[o, c] (full convolution)";

        public override OpSettings ReadSettings(IOpArguments arguments)
        {
            int inputs = arguments.Int("inChannels"), outputs = arguments.Int("outChannels"), kernel = arguments.Int("kernelSize");
            int stride = arguments.Int("stride"), padding = arguments.Int("padding");
            bool bias = arguments.Bool("bias");
            LinearOp.Positive(arguments, "inChannels", inputs);
            LinearOp.Positive(arguments, "outChannels", outputs);
            LinearOp.Positive(arguments, "kernelSize", kernel);
            LinearOp.Positive(arguments, "stride", stride);
            if (padding < 0)
            {
                arguments.Error("padding", $"padding must be 0 or more, got {padding}");
            }

            return new OpSettings(EquatableArray.Of(inputs, outputs, kernel, stride, padding, bias ? 1 : 0), EquatableArray.Empty<double>(), string.Empty);
        }

        public override IEnumerable<StateDeclaration> State(OpSettings s)
        {
            int fanIn = s.Int(0) * s.Int(2) * s.Int(2);
            yield return new StateDeclaration("weight", StateKind.Parameter, Shapes.Of(s.Int(1), s.Int(0), s.Int(2), s.Int(2)), InitKind.UniformFanIn, fanIn, IsWeight: true);
            if (s.Int(5) != 0)
            {
                yield return new StateDeclaration("bias", StateKind.Parameter, Shapes.Of(s.Int(1)), InitKind.UniformFanIn, fanIn, IsWeight: false);
            }
        }

        public override string Describe(OpSettings s) =>
            $"Conv2d({s.Int(0)}, {s.Int(1)}, {s.Int(2)}{(s.Int(3) != 1 ? $", stride: {s.Int(3)}" : string.Empty)}{(s.Int(4) != 0 ? $", padding: {s.Int(4)}" : string.Empty)}{(s.Int(5) == 0 ? ", bias: false" : string.Empty)})";

        public override EquatableArray<int>? InferShape(OpSettings s, IReadOnlyList<EquatableArray<int>> inputs, IShapeErrors errors)
        {
            EquatableArray<int> x = inputs[0];
            if (x.Count != 3)
            {
                errors.Error($"{Describe(s)} expects an image C×H×W, but receives {Shapes.Text(x)}");
                return null;
            }

            if (x[0] != s.Int(0))
            {
                errors.Error($"{Describe(s)} expects {s.Int(0)} channels, but receives {Shapes.Text(x)}: dimension 0 (channels) is {x[0]}", "inChannels", x[0]);
                return null;
            }

            long height = ((long)x[1] + (2L * s.Int(4)) - s.Int(2)) / s.Int(3) + 1, width = ((long)x[2] + (2L * s.Int(4)) - s.Int(2)) / s.Int(3) + 1;
            if ((long)x[1] + (2L * s.Int(4)) < s.Int(2) || (long)x[2] + (2L * s.Int(4)) < s.Int(2))
            {
                errors.Error($"{Describe(s)} has a {s.Int(2)}×{s.Int(2)} window, larger than its padded input {x[1] + (2 * s.Int(4))}×{x[2] + (2 * s.Int(4))} ({Shapes.Text(x)} with padding {s.Int(4)})");
                return null;
            }

            if ((long)s.Int(1) * height * width > int.MaxValue / 64)
            {
                errors.Error($"{Describe(s)} on {Shapes.Text(x)} gives {s.Int(1)}×{height}×{width} values per example, too many for an array");
                return null;
            }

            return Shapes.Of(s.Int(1), (int)height, (int)width);
        }

        private static bool Direct(GraphNode node) => node.Settings.Int(3) == 1;

        /// <summary>Whether the runtime may take this convolution's weight gradient one output-gradient plane at a time (a stem: one input channel, 3×3, stride 1), so the op after it can fold it in (<see cref="OpDefinition.FoldsWeightGradient"/>).</summary>
        public static bool HasPlaneWeightGradient(GraphNode node) => Direct(node) && node.Settings.Int(0) == 1 && node.Settings.Int(2) == 3;

        /// <summary>The convolution's arguments to a kernel that computes its weight gradient (<c>Normalization.BatchNormReluMaxPoolBackward</c>): shape, input, weights, gradients, accumulate, workspace, team.</summary>
        public static string FoldedWeightGradientArguments(GraphCode code, GraphNode node)
        {
            StateTensor weight = code.Parameter(node, "weight");
            string biasGradient = code.HasParameter(node, "bias") ? code.ParameterGradientSpan(code.Parameter(node, "bias")) : "default";
            string accumulate = code.ReplaceGradientsOf(node) is { } replace ? $"!{replace}" : "true";
            return $"Node{node.Id}Convolution, {code.ValueSpan(node.Inputs[0])}, {code.ParameterSpan(weight)}, {code.ParameterGradientSpan(weight)}, {biasGradient}, {accumulate}, _node{node.Id}Workspace, {code.Team}";
        }

        private static int Patch(GraphNode node) => node.Settings.Int(0) * node.Settings.Int(2) * node.Settings.Int(2);

        private static int Plane(GraphNode node) => node.Shape[1] * node.Shape[2];

        public override void WriteFields(SourceWriter w, GraphCode code, GraphNode node)
        {
            int id = node.Id;
            GraphNode input = code.Spec.Nodes[node.Inputs[0]];
            if (Direct(node))
            {
                w.Line($"private static readonly global::StaticGrad.Kernels.PlaneConvolutionShape Node{id}Convolution = new global::StaticGrad.Kernels.PlaneConvolutionShape({input.Shape[0]}, {input.Shape[1]}, {input.Shape[2]}, {node.Shape[0]}, {node.Settings.Int(2)}, {node.Settings.Int(4)});");
                w.Line($"private readonly global::StaticGrad.Kernels.PlaneConvolutionWorkspace<{code.T}> _node{id}Workspace;");
                return;
            }

            w.Line($"private readonly {code.T}[] _node{id}Rows, _node{id}RowGradients, _node{id}ChannelsLast; // im2row patches, their gradient, the output channels-last");
        }

        public override void WriteAllocation(SourceWriter w, GraphCode code, GraphNode node)
        {
            int id = node.Id;
            if (Direct(node))
            {
                w.Line($"_node{id}Workspace = new global::StaticGrad.Kernels.PlaneConvolutionWorkspace<{code.T}>(Node{id}Convolution);");
                return;
            }

            w.Line($"_node{id}Rows = new {code.T}[maxBatchSize * {Plane(node) * Patch(node)}];");
            w.Line($"_node{id}RowGradients = new {code.T}[maxBatchSize * {Plane(node) * Patch(node)}];");
            w.Line($"_node{id}ChannelsLast = new {code.T}[maxBatchSize * {node.Size}];");
        }

        public override void WriteShared(SourceWriter w, GraphCode code, GraphNode node, HashSet<string> written)
        {
            if (Direct(node))
            {
                return;
            }

            int id = node.Id, patch = Patch(node), outChannels = node.Shape[0];
            w.Line();
            GemmShapeEmitter.WriteShape(w, new GemmShapeEmitter.Product(
                $"Node{id}ForwardProduct", $"node {id}: Y[rows×{outChannels}] = patches[rows×{patch}]·Wᵀ",
                M: 0, N: outChannels, K: patch, LeadingA: patch, LeadingB: patch, TransposeA: false, TransposeB: true, Accumulate: false));
            w.Line();
            GemmShapeEmitter.WriteShape(w, new GemmShapeEmitter.Product(
                $"Node{id}WeightGradientProduct", $"node {id}: dW[{outChannels}×{patch}] += dYᵀ·patches",
                M: outChannels, N: patch, K: 0, LeadingA: outChannels, LeadingB: patch, TransposeA: true, TransposeB: false, Accumulate: true));
            if (code.ReplaceGradientsOf(node) is not null)
            {
                w.Line();
                GemmShapeEmitter.WriteShape(w, new GemmShapeEmitter.Product(
                    $"Node{id}WeightGradientReplaceProduct", $"node {id}: dW[{outChannels}×{patch}] = dYᵀ·patches (the gradients replaced)",
                    M: outChannels, N: patch, K: 0, LeadingA: outChannels, LeadingB: patch, TransposeA: true, TransposeB: false, Accumulate: false));
            }

            w.Line();
            GemmShapeEmitter.WriteShape(w, new GemmShapeEmitter.Product(
                $"Node{id}InputGradientProduct", $"node {id}: dPatches[rows×{patch}] = dY[rows×{outChannels}]·W[{outChannels}×{patch}]",
                M: 0, N: patch, K: outChannels, LeadingA: outChannels, LeadingB: patch, TransposeA: false, TransposeB: false, Accumulate: false));
        }

        public override void WriteForward(SourceWriter w, GraphCode code, GraphNode node)
        {
            int id = node.Id;
            StateTensor weight = code.Parameter(node, "weight");
            string bias = code.HasParameter(node, "bias") ? code.ParameterSpan(code.Parameter(node, "bias")) : "default";
            GraphNode input = code.Spec.Nodes[node.Inputs[0]];
            if (Direct(node))
            {
                w.Line($"global::StaticGrad.Kernels.PlaneConvolution.Forward(Node{id}Convolution, {code.ValueSpan(input.Id)}, batch, {code.ParameterSpan(weight)}, {bias}, {code.OutputSpan(node)}, _node{id}Workspace, {code.Team});");
                return;
            }

            int plane = Plane(node), patch = Patch(node);
            w.Open("for (int b = 0; b < batch; b++)");
            w.Line($"global::StaticGrad.Kernels.Convolution.Im2Row({code.ValueSlice(input.Id, $"b * {input.Size}", GraphCode.Int(input.Size))}, {Window(node, input)}, new {code.Span}(_node{id}Rows, b * {plane * patch}, {plane * patch}));");
            w.Close();
            w.Line(GemmShapeEmitter.Call($"Node{id}ForwardProduct", code.Spec.Element, $"_node{id}Rows[0]", $"_parameters[{weight.Offset}]", $"_node{id}ChannelsLast[0]",
                bias: code.HasParameter(node, "bias") ? $"_parameters[{code.Parameter(node, "bias").Offset}]" : null, rows: $"batch * {plane}", team: code.Team));
            w.Open("for (int b = 0; b < batch; b++)");
            w.Line($"global::StaticGrad.Kernels.Convolution.ToChannelsFirst(new {code.ReadOnlySpan}(_node{id}ChannelsLast, b * {node.Size}, {node.Size}), new {code.Span}({code.Value(id)}, b * {node.Size}, {node.Size}), {node.Shape[0]}, {plane});");
            w.Close();
        }

        /// <summary><c>Conv(x, W, b)</c> with the kernel, stride and zero padding on all four sides.</summary>
        public override void WriteOnnx(OnnxBuilder onnx, GraphNode node)
        {
            OpSettings s = node.Settings;
            string x = onnx.Input(node, 0), weight = onnx.Parameter(node, "weight");
            string[] inputs = onnx.HasParameter(node, "bias") ? new[] { x, weight, onnx.Parameter(node, "bias") } : new[] { x, weight };
            onnx.Add(node, "Conv", onnx.Output(node), inputs,
                OnnxBuilder.Attribute.Ints("kernel_shape", s.Int(2), s.Int(2)),
                OnnxBuilder.Attribute.Ints("strides", s.Int(3), s.Int(3)),
                OnnxBuilder.Attribute.Ints("pads", s.Int(4), s.Int(4), s.Int(4), s.Int(4)));
        }

        public override void WriteBackward(SourceWriter w, GraphCode code, GraphNode node, IReadOnlyList<string?> inputGradients)
        {
            int id = node.Id;
            StateTensor weight = code.Parameter(node, "weight");
            string biasGradient = code.HasParameter(node, "bias") ? code.ParameterGradientSpan(code.Parameter(node, "bias")) : "default";
            GraphNode input = code.Spec.Nodes[node.Inputs[0]];
            string? dX = inputGradients[0];
            int into = -1;
            bool folded = !code.WritingToInput && code.WeightGradientFolds.TryGetValue(id, out into);
            if (folded)
            {
                w.Line($"// In training Node{into}Backward computes this weight gradient as it makes %{id}'s gradient, plane by plane (never stored); evaluation's backward reads the stored gradient here.");
                w.Open("if (!_training)");
            }

            if (Direct(node))
            {
                w.Line($"global::StaticGrad.Kernels.PlaneConvolution.Backward(Node{id}Convolution, {code.ValueSpan(input.Id)}, {code.GradientSpan(id)}, batch, {code.ParameterSpan(weight)},");
                string addInput = dX is not null && code.Accumulates(node, 0) ? ", accumulateInputGradient: true" : string.Empty;
                w.Line($"    {code.ParameterGradientSpan(weight)}, {biasGradient}, {code.AccumulateArgumentOf(node)}, {(dX is null ? "default" : code.TargetSpan(dX, input.Id))}, _node{id}Workspace, {code.Team}{addInput});");
                if (folded)
                {
                    w.Close(); // only direct convolutions fold (HasPlaneWeightGradient)
                }

                return;
            }

            int plane = Plane(node), patch = Patch(node);
            w.Open("for (int b = 0; b < batch; b++)");
            w.Line($"global::StaticGrad.Kernels.Convolution.ToChannelsLast(new {code.ReadOnlySpan}({code.Gradient(id)}, b * {node.Size}, {node.Size}), new {code.Span}(_node{id}ChannelsLast, b * {node.Size}, {node.Size}), {node.Shape[0]}, {plane});");
            w.Close();
            string weightGradient = GemmShapeEmitter.Call($"Node{id}WeightGradientProduct", code.Spec.Element, $"_node{id}ChannelsLast[0]", $"_node{id}Rows[0]", $"_gradients[{weight.Offset}]", depth: $"batch * {plane}", team: code.Team);
            if (code.ReplaceGradientsOf(node) is { } replace)
            {
                w.Open($"if ({replace})");
                w.Line(GemmShapeEmitter.Call($"Node{id}WeightGradientReplaceProduct", code.Spec.Element, $"_node{id}ChannelsLast[0]", $"_node{id}Rows[0]", $"_gradients[{weight.Offset}]", depth: $"batch * {plane}", team: code.Team));
                w.Close();
                w.Open("else");
                w.Line(weightGradient);
                w.Close();
                w.Line();
            }
            else
            {
                w.Line(weightGradient);
            }

            if (code.HasParameter(node, "bias"))
            {
                w.Line($"global::StaticGrad.Kernels.Elementwise.SumRows(new {code.ReadOnlySpan}(_node{id}ChannelsLast, 0, batch * {node.Size}), {biasGradient}, {code.AccumulateArgumentOf(node)});");
            }

            if (dX is null)
            {
                return;
            }

            w.Line(GemmShapeEmitter.Call($"Node{id}InputGradientProduct", code.Spec.Element, $"_node{id}ChannelsLast[0]", $"_parameters[{weight.Offset}]", $"_node{id}RowGradients[0]", rows: $"batch * {plane}", team: code.Team));
            if (!code.Accumulates(node, 0))
            {
                w.Line($"{code.TargetSpan(dX, input.Id)}.Clear();");
            }

            w.Open("for (int b = 0; b < batch; b++)");
            w.Line($"global::StaticGrad.Kernels.Convolution.Row2ImAdd(new {code.ReadOnlySpan}(_node{id}RowGradients, b * {plane * patch}, {plane * patch}), {Window(node, input)}, new {code.Span}({dX}, b * {input.Size}, {input.Size}));");
            w.Close();
        }

        private static string Window(GraphNode node, GraphNode input) =>
            $"{input.Shape[0]}, {input.Shape[1]}, {input.Shape[2]}, {node.Settings.Int(2)}, {node.Settings.Int(3)}, {node.Settings.Int(4)}, {node.Shape[1]}, {node.Shape[2]}";

        public override IEnumerable<string> OnnxImports => new[] { "Conv" };

        /// <summary>
        /// <c>Conv(x, W, b)</c> on [batch, C, H, W] with a square kernel, one stride and one padding for every side, no dilation,
        /// one group: <c>Conv2d(in, out, k, stride, padding)</c> with the file's weight and bias.
        /// </summary>
        public override void ImportOnnx(IOnnxImport import)
        {
            if (!import.IsValue(0))
            {
                import.Unsupported("its input is a constant");
                return;
            }

            int x = import.Value(0);
            if (import.Constant(1) is not { } weight)
            {
                return;
            }

            if (weight.Dims.Length != 4 || weight.Dims[2] != weight.Dims[3])
            {
                import.Unsupported($"the weight {weight.Describe()} is not [out, in, k, k] (a square 2-D kernel)");
                return;
            }

            int kernel = (int)weight.Dims[2];
            long[] strides = import.Ints("strides") ?? new long[] { 1, 1 };
            long[] pads = import.Ints("pads") ?? new long[] { 0, 0, 0, 0 };
            long[] dilations = import.Ints("dilations") ?? new long[] { 1, 1 };
            string autoPad = import.Text("auto_pad", "NOTSET");
            long group = import.Int("group", 1);
            bool samePads = pads.Length == 4 && pads[0] == pads[1] && pads[1] == pads[2] && pads[2] == pads[3];
            if (strides.Length != 2 || strides[0] != strides[1] || strides[0] < 1 || !samePads || pads[0] < 0 || dilations.Length != 2 || dilations[0] != 1 || dilations[1] != 1 || group != 1 || autoPad != "NOTSET")
            {
                import.Unsupported($"strides [{string.Join(", ", strides)}], pads [{string.Join(", ", pads)}], dilations [{string.Join(", ", dilations)}], group {group}, auto_pad {autoPad}: Conv2d takes one stride, the same padding on every side, no dilation, one group");
                return;
            }

            var state = new Dictionary<string, OnnxConstant> { ["weight"] = weight };
            if (import.HasInput(2))
            {
                if (import.Constant(2) is not { } bias)
                {
                    return;
                }

                if (bias.Values.Length != weight.Dims[0])
                {
                    import.Unsupported($"the bias {bias.Describe()} is not one value per output channel ({weight.Dims[0]})");
                    return;
                }

                state["bias"] = bias.Reshaped(weight.Dims[0]);
            }

            var settings = new OpSettings(EquatableArray.Of((int)weight.Dims[1], (int)weight.Dims[0], kernel, (int)strides[0], (int)pads[0], state.Count > 1 ? 1 : 0), EquatableArray.Empty<double>(), string.Empty);
            int id = import.Add(this, settings, new[] { x }, state);
            if (id >= 0)
            {
                import.Output(id);
            }
        }
    }
}
