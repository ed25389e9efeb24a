using System.Collections.Generic;
using StaticGrad.Generators.Emit;
using StaticGrad.Generators.Emit.Graph;
using StaticGrad.Generators.Helpers;

namespace StaticGrad.Generators.Graph.Ops
{
    /// <summary>
    /// <c>BatchNorm2d(numFeatures, eps: 1e-5, momentum: 0.1)</c> on C×H×W and <c>BatchNorm1d</c> on C or C×L, as PyTorch's:
    /// training normalises by the batch's statistics per channel and updates the running ones (momentum, unbiased running
    /// variance, <c>num_batches_tracked</c>); evaluation uses the running statistics.
    /// </summary>
    internal class BatchNormOp : OpDefinition
    {
        public static readonly BatchNormOp TwoD = new("BatchNorm2d");

        public static readonly BatchNormOp OneD = new("BatchNorm1d");

        private readonly string _name;

        private BatchNormOp(string name) => _name = name;

        public override string Key => _name;

        public override string? ModuleClass => _name;

        public override string Formula => "y = (x − μ)/√(σ² + ε)·γ + β per channel; μ, σ² of the batch in training (running ones updated), the running ones in evaluation";

        public override string BackwardFormula => "dγ += Σ dY·x̂, dβ += Σ dY, dX = γ/(n·σ)·(n·dY − Σ dY − x̂·Σ dY·x̂) (training); dX = γ·dY/√(running σ² + ε) (evaluation)";

        public override OpSettings ReadSettings(IOpArguments arguments)
        {
            int features = arguments.Int("numFeatures");
            double epsilon = arguments.Real("eps"), momentum = arguments.Real("momentum");
            LinearOp.Positive(arguments, "numFeatures", features);
            if (!(epsilon > 0))
            {
                arguments.Error("eps", $"eps must be positive, got {epsilon}");
            }

            if (!(momentum >= 0 && momentum <= 1))
            {
                arguments.Error("momentum", $"momentum must be between 0 and 1, got {momentum}");
            }

            return new OpSettings(EquatableArray.Of(features), EquatableArray.Of(epsilon, momentum), string.Empty);
        }

        public override IEnumerable<StateDeclaration> State(OpSettings settings)
        {
            EquatableArray<int> shape = Shapes.Of(settings.Int(0));
            yield return new StateDeclaration("weight", StateKind.Parameter, shape, InitKind.Ones, 0, IsWeight: false);
            yield return new StateDeclaration("bias", StateKind.Parameter, shape, InitKind.Zeros, 0, IsWeight: false);
            yield return new StateDeclaration("running_mean", StateKind.Buffer, shape, InitKind.Zeros, 0, IsWeight: false);
            yield return new StateDeclaration("running_var", StateKind.Buffer, shape, InitKind.Ones, 0, IsWeight: false);
            yield return new StateDeclaration("num_batches_tracked", StateKind.Counter, Shapes.Of(), InitKind.Zeros, 0, IsWeight: false);
        }

        public override bool AlwaysWritesInputGradient => true;

        /// <summary>A ReLU that reads only this normalisation is applied in its passes: its values go through memory once, not three times.</summary>
        public override bool FoldsActivation(GraphCode code, GraphNode node, string activation) => activation == "Relu";

        /// <summary>
        /// A 2-D max pooling after the folded ReLU (a ResNet's stem): in training the pooled values come straight from the
        /// normalised planes (<c>Normalization.BatchNormReluMaxPoolTraining</c>), and the backward pass reads the pooled gradient,
        /// values and indices (<c>Normalization.BatchNormReluMaxPoolBackward</c>).
        /// </summary>
        public override bool FoldsPool(GraphCode code, GraphNode node, GraphNode pool) =>
            node.Shape.Count == 3 && Pool2dOp.IsMaxPool(pool);

        /// <summary>
        /// With its pooling folded, the weight gradient of the convolution before it when that convolution is a stem's (one
        /// input channel, 3×3, stride 1): <c>Normalization.BatchNormReluMaxPoolBackward</c> with the convolution makes each
        /// plane of the convolution's output gradient in a scratch and adds it to the weight gradient at once.
        /// </summary>
        public override bool FoldsWeightGradient(GraphCode code, GraphNode node, GraphNode producer) =>
            code.FoldedPool(node) is not null && Conv2dOp.HasPlaneWeightGradient(producer);

        /// <summary>
        /// A residual block's end after this normalisation, <c>skip + bn(h)</c> and the ReLU folded into that addition: the
        /// forward pass adds the skip as it writes (<c>residual:</c>), the backward reads the sum's gradient and the ReLU's
        /// stored values and writes the skip's gradient as it reads (<c>output:</c>, <c>residualGradient:</c>). The
        /// normalisation's own values, the addition's pass and one gradient buffer's write and read are gone.
        /// </summary>
        public override bool FoldsResidual(GraphCode code, GraphNode node, GraphNode add) => true;

        public override string Describe(OpSettings settings) => $"{_name}({settings.Int(0)})";

        public override EquatableArray<int>? InferShape(OpSettings settings, IReadOnlyList<EquatableArray<int>> inputs, IShapeErrors errors)
        {
            EquatableArray<int> x = inputs[0];
            bool rankFits = _name == "BatchNorm2d" ? x.Count == 3 : x.Count is 1 or 2;
            if (!rankFits)
            {
                errors.Error(_name == "BatchNorm2d"
                    ? $"{Describe(settings)} expects an image C×H×W, but receives {Shapes.Text(x)}"
                    : $"{Describe(settings)} expects C or C×L values per example, but receives {Shapes.Text(x)}");
                return null;
            }

            if (x[0] != settings.Int(0))
            {
                errors.Error($"{Describe(settings)} expects {settings.Int(0)} channels, but receives {Shapes.Text(x)}: {Shapes.Dimension(x.Count, 0)} is {x[0]}", "numFeatures", x[0]);
                return null;
            }

            return x;
        }

        public override void WriteFields(SourceWriter w, GraphCode code, GraphNode node)
        {
            w.Line($"private readonly {code.T}[] _node{node.Id}Mean = new {code.T}[{node.Shape[0]}], _node{node.Id}InverseDeviation = new {code.T}[{node.Shape[0]}]; // the batch's statistics, kept for backward");
            if (code.FoldedPool(node) is { } pool)
            {
                w.Line($"private readonly {code.T}[] _node{node.Id}Plane = new {code.T}[{node.Size / node.Shape[0]}]; // one normalised plane, pooled into %{pool.Id} before the next");
            }
        }

        public override void WriteForward(SourceWriter w, GraphCode code, GraphNode node)
        {
            int channels = node.Shape[0], plane = node.Size / channels;
            string epsilon = GraphCode.Real(node.Settings.Real(0)), momentum = GraphCode.Real(node.Settings.Real(1));
            GraphNode? add = code.FoldedResidual(node);
            GraphNode? relu = add is null ? code.FoldedActivation(node) : code.FoldedActivation(add);
            string x = code.ValueSpan(node.Inputs[0]), y = code.OutputSpan(code.FoldedOutput(node) ?? node), folded = relu is null ? string.Empty : ", relu: true";
            GraphNode? pool = code.FoldedPool(node);
            if (add is not null)
            {
                int skip = code.ResidualOperand(node);
                folded += $", residual: {code.ValueSpan(skip)}";
                w.Line(relu is null
                    ? $"// Add %{add.Id} is folded in: this pass writes its value, %{skip} + y; this node's own values are never stored."
                    : $"// Add %{add.Id} and ReLU %{relu.Id} are folded in: this pass writes the ReLU's value, max(0, %{skip} + y); this node's own values are never stored.");
            }
            else if (relu is not null)
            {
                w.Line(pool is null
                    ? $"// ReLU %{relu.Id} is folded in: this pass writes its value, max(0, y)."
                    : $"// ReLU %{relu.Id} and MaxPool %{pool.Id} are folded in: in training each plane is normalised, ReLU'd and pooled in turn, the ReLU's values never stored.");
            }

            string weight = code.ParameterSpan(code.Parameter(node, "weight")), bias = code.ParameterSpan(code.Parameter(node, "bias"));
            string mean = code.BufferSpan(code.Buffer(node, "running_mean")), variance = code.BufferSpan(code.Buffer(node, "running_var"));
            w.Open("if (_training)");
            if (pool is not null)
            {
                w.Line($"global::StaticGrad.Kernels.Normalization.BatchNormReluMaxPoolTraining({x}, batch, {channels}, {node.Shape[1]}, {node.Shape[2]}, {weight}, {bias}, {epsilon}, {momentum},");
                w.Line($"    {mean}, {variance}, _node{node.Id}Mean, _node{node.Id}InverseDeviation, {Pool2dOp.Window(pool)}, {code.OutputSpan(pool)}, {Pool2dOp.IndicesField(pool)}, _node{node.Id}Plane);");
            }
            else
            {
                w.Line($"global::StaticGrad.Kernels.Normalization.BatchNormTraining({x}, batch, {channels}, {plane}, {weight}, {bias}, {epsilon}, {momentum},");
                w.Line($"    {mean}, {variance}, {y}, _node{node.Id}Mean, _node{node.Id}InverseDeviation{folded});");
            }

            w.Line($"_counters[{code.Counter(node, "num_batches_tracked").Offset}]++;");
            w.Close();
            w.Open("else");
            w.Line($"global::StaticGrad.Kernels.Normalization.BatchNormInference({x}, batch, {channels}, {plane}, {weight}, {bias}, {mean}, {variance}, {epsilon}, {y}{folded});");
            if (pool is not null)
            {
                w.Line("// Evaluation stores the ReLU's values, which its backward pass reads, then pools them.");
                OpCatalogue.Of(pool.Op).WriteForward(w, code, pool);
            }

            w.Close();
        }

        /// <summary>
        /// <c>BatchNormalization(x, γ, β, running mean, running variance)</c> in inference mode: [batch, C], [batch, C, L] and
        /// [batch, C, H, W] are all ONNX's N×C×D… layout, the channel at dimension 1.
        /// </summary>
        public override void WriteOnnx(OnnxBuilder onnx, GraphNode node) =>
            onnx.Add(node, "BatchNormalization", onnx.Output(node),
                new[] { onnx.Input(node, 0), onnx.Parameter(node, "weight"), onnx.Parameter(node, "bias"), onnx.Buffer(node, "running_mean"), onnx.Buffer(node, "running_var") },
                OnnxBuilder.Attribute.Float("epsilon", node.Settings.Real(0)));

        public override void WriteBackward(SourceWriter w, GraphCode code, GraphNode node, IReadOnlyList<string?> inputGradients)
        {
            int channels = node.Shape[0], plane = node.Size / channels;
            StateTensor weight = code.Parameter(node, "weight"), bias = code.Parameter(node, "bias");
            string dX = inputGradients[0]!;
            GraphNode? add = code.FoldedResidual(node);
            GraphNode? relu = add is null ? code.FoldedActivation(node) : code.FoldedActivation(add);
            GraphNode? foldedPool = relu is null ? null : code.FoldedPool(node);
            GraphNode output = code.FoldedOutput(node) ?? node;
            int skip = add is null ? -1 : code.ResidualOperand(node);
            string? skipGradient = add is null ? null : code.Targets[add.Id][add.Inputs[0] == skip ? 0 : 1].Target;
            if (add is not null)
            {
                string other = skipGradient is null ? $"; %{skip}'s is not needed in this pass" : $": this pass writes %{skip}'s too";
                w.Line(relu is null
                    ? $"// Add %{add.Id} is folded in: the gradient of its value reaches both operands{other}."
                    : $"// Add %{add.Id} and ReLU %{relu.Id} are folded in: the ReLU's gradient counts where its stored value is positive, and reaches both operands{other}.");
            }
            else if (relu is not null)
            {
                w.Line(foldedPool is null
                    ? $"// ReLU %{relu.Id} is folded in: the gradient of its value counts where that value is positive (in training, recomputed from x and β)."
                    : $"// ReLU %{relu.Id} is folded in: the gradient of its value counts where that value is positive (in training, the kernel tells it from the pooled values, or recomputes it from x and β).");
            }

            w.Open("if (_training)");
            if (relu is not null && foldedPool is { } pool)
            {
                w.Line($"// MaxPool %{pool.Id}'s backward is folded in: the ReLU's gradient is made from %{pool.Id}'s gradient, values and indices as it is read (stored only where the kernel has no such path).");
                GraphNode? convolution = code.WritingToInput ? null : code.FoldedWeightGradient(node);
                if (convolution is not null)
                {
                    w.Line($"// %{convolution.Id}'s weight gradient is folded in too: each plane of %{convolution.Id}'s gradient is made in a scratch and added to it at once (stored only where the kernel has no such path).");
                }

                w.Line($"global::StaticGrad.Kernels.Normalization.BatchNormReluMaxPoolBackward({code.ValueSpan(node.Inputs[0])}, {code.GradientSpan(pool.Id)}, {code.ValueSpan(pool.Id)}, {Pool2dOp.IndicesField(pool)}, batch, {channels}, {node.Shape[1]}, {node.Shape[2]}, {Pool2dOp.Window(pool)},");
                string arguments = $"    {code.ParameterSpan(weight)}, {code.ParameterSpan(bias)}, _node{node.Id}Mean, _node{node.Id}InverseDeviation, {code.ParameterGradientSpan(weight)}, {code.ParameterGradientSpan(bias)}, {code.TargetSpan(dX, node.Inputs[0])}, {code.TargetSpan(code.Gradient(relu.Id), relu.Id)}";
                if (convolution is null)
                {
                    w.Line(arguments + ");");
                }
                else
                {
                    w.Line(arguments + ",");
                    w.Line($"    {Conv2dOp.FoldedWeightGradientArguments(code, convolution)});");
                }
            }
            else
            {
                // The ReLU's mask: recomputed from x and β, or after a folded addition read from its stored values.
                string folded = relu is null ? string.Empty : add is null ? $", relu: true, bias: {code.ParameterSpan(bias)}" : $", relu: true, output: {code.ValueSpan(relu.Id)}";
                if (skipGradient is not null)
                {
                    folded += $", residualGradient: {code.TargetSpan(skipGradient, skip)}";
                }

                w.Line($"global::StaticGrad.Kernels.Normalization.BatchNormBackward({code.ValueSpan(node.Inputs[0])}, {code.GradientSpan(output.Id)}, batch, {channels}, {plane}, {code.ParameterSpan(weight)},");
                w.Line($"    _node{node.Id}Mean, _node{node.Id}InverseDeviation, {code.ParameterGradientSpan(weight)}, {code.ParameterGradientSpan(bias)}, {code.TargetSpan(dX, node.Inputs[0])}{folded});");
            }

            w.Close();
            w.Open("else");
            w.Line("// Evaluation mode: the running statistics are constants, so each channel is an affine map.");
            string dR = skipGradient is null ? string.Empty : $", dR = {skipGradient}";
            w.Line(relu is null
                ? $"{code.T}[] x = {code.Value(node.Inputs[0])}, dY = {code.Gradient(output.Id)}, dX = {dX}{dR};"
                : $"{code.T}[] x = {code.Value(node.Inputs[0])}, dY = {code.Gradient(relu.Id)}, z = {code.Value(relu.Id)}, dX = {dX}{dR};");
            w.Open($"for (int c = 0; c < {channels}; c++)");
            StateTensor runningMean = code.Buffer(node, "running_mean"), runningVar = code.Buffer(node, "running_var");
            w.Line($"{code.T} mean = _buffers[{runningMean.Offset} + c], inverse = {code.Number(1)} / {code.Math}.Sqrt(_buffers[{runningVar.Offset} + c] + {code.Number(node.Settings.Real(0))}), gamma = _parameters[{weight.Offset} + c];");
            w.Line($"{code.T} sumDy = 0, sumDyXHat = 0;");
            w.Open("for (int b = 0; b < batch; b++)");
            w.Open($"for (int i = (b * {node.Size}) + (c * {plane}), end = i + {plane}; i < end; i++)");
            w.Line($"{code.T} xHat = (x[i] - mean) * inverse{(relu is null ? ", g = dY[i]" : ", g = z[i] > 0 ? dY[i] : 0")};");
            w.Line("sumDy += g;");
            w.Line("sumDyXHat += g * xHat;");
            if (skipGradient is not null)
            {
                w.Line("dR[i] = g;");
            }

            w.Line("dX[i] = gamma * inverse * g;");
            w.Close();
            w.Close();
            w.Line($"_gradients[{weight.Offset} + c] += sumDyXHat;");
            w.Line($"_gradients[{bias.Offset} + c] += sumDy;");
            w.Close();
            w.Close();
        }

        public override IEnumerable<string> OnnxImports => _name == "BatchNorm2d" ? new[] { "BatchNormalization" } : System.Array.Empty<string>();

        /// <summary>
        /// <c>BatchNormalization(x, γ, β, mean, var)</c> in inference mode: BatchNorm2d on C×H×W, BatchNorm1d on C or C×L, the
        /// running statistics as buffers; ONNX's momentum m (running = m·running + (1 − m)·batch) is PyTorch's 1 − m.
        /// </summary>
        public override void ImportOnnx(IOnnxImport import)
        {
            if (!import.IsValue(0))
            {
                import.Unsupported("its input is a constant");
                return;
            }

            if (import.Int("training_mode", 0) != 0)
            {
                import.Unsupported("training_mode = 1 (export the model in evaluation mode)");
                return;
            }

            int x = import.Value(0);
            OnnxConstant? scale = import.Constant(1), bias = import.Constant(2), mean = import.Constant(3), variance = import.Constant(4);
            if (scale is null || bias is null || mean is null || variance is null)
            {
                return;
            }

            EquatableArray<int> shape = import.Shape(x);
            BatchNormOp op = shape.Count == 3 ? TwoD : OneD;
            int channels = shape.Count == 0 ? 0 : shape[0];
            foreach (OnnxConstant c in new[] { scale, bias, mean, variance })
            {
                if (c.Values.Length != channels)
                {
                    import.Unsupported($"{c.Describe()} does not hold one value per channel ({channels} in {Shapes.Text(shape)})");
                    return;
                }
            }

            double momentum = 1 - import.Float("momentum", 0.9);
            var settings = new OpSettings(EquatableArray.Of(channels), EquatableArray.Of((double)(float)import.Float("epsilon", 1e-5), System.Math.Round(momentum, 6)), string.Empty);
            var state = new Dictionary<string, OnnxConstant>
            {
                ["weight"] = scale.Reshaped(channels),
                ["bias"] = bias.Reshaped(channels),
                ["running_mean"] = mean.Reshaped(channels),
                ["running_var"] = variance.Reshaped(channels),
            };
            int id = import.Add(op, settings, new[] { x }, state);
            if (id >= 0)
            {
                import.Output(id);
            }
        }
    }
}
