using System.Collections.Generic;
using StaticGrad.Generators.Emit;
using StaticGrad.Generators.Emit.Graph;
using StaticGrad.Generators.Helpers;

namespace StaticGrad.Generators.Graph.Ops
{
    /// <summary><c>LayerNorm(normalizedShape, eps: 1e-5)</c>, PyTorch's <c>nn.LayerNorm</c> over the last dimension, with γ and β.</summary>
    internal sealed class LayerNormOp : OpDefinition
    {
        public static readonly LayerNormOp Instance = new();

        /// <summary>The kernel adds dX to what the value's other uses wrote when asked to.</summary>
        public override bool AccumulatesInputGradient => true;

        public override string Key => "LayerNorm";

        public override string? ModuleClass => "LayerNorm";

        public override string Formula => "y = (x − μ)/√(σ² + ε)·γ + β, μ and σ² (biased) over the last dimension of each row";

        public override string BackwardFormula => "dγ += Σ_r dY·x̂, dβ += Σ_r dY, dX = γ/(n·σ)·(n·dY − Σ dY − x̂·Σ dY·x̂) per row";

        public override OpSettings ReadSettings(IOpArguments arguments)
        {
            int features = arguments.Int("normalizedShape");
            double epsilon = arguments.Real("eps");
            LinearOp.Positive(arguments, "normalizedShape", features);
            if (!(epsilon > 0))
            {
                arguments.Error("eps", $"eps must be positive, got {epsilon}");
            }

            return new OpSettings(EquatableArray.Of(features), EquatableArray.Of(epsilon), string.Empty);
        }

        public override IEnumerable<StateDeclaration> State(OpSettings settings)
        {
            yield return new StateDeclaration("weight", StateKind.Parameter, Shapes.Of(settings.Int(0)), InitKind.Ones, 0, IsWeight: false);
            yield return new StateDeclaration("bias", StateKind.Parameter, Shapes.Of(settings.Int(0)), InitKind.Zeros, 0, IsWeight: false);
        }

        public override bool AlwaysWritesInputGradient => true;

        public override string Describe(OpSettings settings) => $"LayerNorm({settings.Int(0)})";

        public override EquatableArray<int>? InferShape(OpSettings settings, IReadOnlyList<EquatableArray<int>> inputs, IShapeErrors errors)
        {
            EquatableArray<int> x = inputs[0];
            if (x[x.Count - 1] != settings.Int(0))
            {
                errors.Error($"{Describe(settings)} normalises {settings.Int(0)} features, but the last dimension of {Shapes.Text(x)} is {x[x.Count - 1]}", "normalizedShape", x[x.Count - 1]);
                return null;
            }

            return x;
        }

        public override void WriteFields(SourceWriter w, GraphCode code, GraphNode node) =>
            w.Line($"private readonly {code.T}[] _node{node.Id}Mean, _node{node.Id}InverseDeviation; // per row, kept for backward");

        public override void WriteAllocation(SourceWriter w, GraphCode code, GraphNode node)
        {
            int rows = node.Size / node.Settings.Int(0);
            w.Line($"_node{node.Id}Mean = new {code.T}[maxBatchSize * {rows}];");
            w.Line($"_node{node.Id}InverseDeviation = new {code.T}[maxBatchSize * {rows}];");
        }

        public override void WriteForward(SourceWriter w, GraphCode code, GraphNode node)
        {
            int features = node.Settings.Int(0), rows = node.Size / features;
            w.Line($"global::StaticGrad.Kernels.Normalization.LayerNorm({code.ValueSpan(node.Inputs[0])}, batch * {rows}, {features}, {code.ParameterSpan(code.Parameter(node, "weight"))}, {code.ParameterSpan(code.Parameter(node, "bias"))}, {GraphCode.Real(node.Settings.Real(0))},");
            w.Line($"    {code.OutputSpan(node)}, _node{node.Id}Mean, _node{node.Id}InverseDeviation, {code.Team});");
        }

        /// <summary>
        /// From opset 17, <c>LayerNormalization(x, γ, β)</c> over the last axis. Below it, the same arithmetic in nodes:
        /// <c>d = x − ReduceMean(x)</c>, <c>y = d / Sqrt(ReduceMean(d·d) + ε)·γ + β</c> (ReduceMean with the <c>axes</c>
        /// attribute, as opsets below 18 take it).
        /// </summary>
        public override void WriteOnnx(OnnxBuilder onnx, GraphNode node)
        {
            string x = onnx.Input(node, 0), weight = onnx.Parameter(node, "weight"), bias = onnx.Parameter(node, "bias");
            onnx.Add(node, "LayerNormalization", onnx.Output(node), new[] { x, weight, bias }, 17, int.MaxValue,
                OnnxBuilder.Attribute.Int("axis", -1), OnnxBuilder.Attribute.Float("epsilon", node.Settings.Real(0)));

            string Add(string op, string output, params string[] inputs) => onnx.Add(node, op, onnx.Temporary(node, output), inputs, 0, 16);
            string mean = onnx.Add(node, "ReduceMean", onnx.Temporary(node, "mean"), new[] { x }, 0, 16, OnnxBuilder.Attribute.Ints("axes", -1), OnnxBuilder.Attribute.Int("keepdims", 1));
            string centred = Add("Sub", "centred", x, mean);
            string squares = Add("Mul", "squares", centred, centred);
            string variance = onnx.Add(node, "ReduceMean", onnx.Temporary(node, "variance"), new[] { squares }, 0, 16, OnnxBuilder.Attribute.Ints("axes", -1), OnnxBuilder.Attribute.Int("keepdims", 1));
            string deviation = Add("Sqrt", "deviation", Add("Add", "variance_eps", variance, onnx.Scalar(node.Settings.Real(0))));
            string normalised = Add("Div", "normalised", centred, deviation);
            string scaled = Add("Mul", "scaled", normalised, weight);
            onnx.Add(node, "Add", onnx.Output(node), new[] { scaled, bias }, 0, 16);
        }

        public override void WriteBackward(SourceWriter w, GraphCode code, GraphNode node, IReadOnlyList<string?> inputGradients)
        {
            int features = node.Settings.Int(0), rows = node.Size / features;
            StateTensor weight = code.Parameter(node, "weight"), bias = code.Parameter(node, "bias");
            string dX = inputGradients[0]!;
            w.Line($"global::StaticGrad.Kernels.Normalization.LayerNormBackward({code.ValueSpan(node.Inputs[0])}, {code.GradientSpan(node.Id)}, batch * {rows}, {features}, {code.ParameterSpan(weight)},");
            w.Line($"    _node{node.Id}Mean, _node{node.Id}InverseDeviation, {code.ParameterGradientSpan(weight)}, {code.ParameterGradientSpan(bias)}, {code.TargetSpan(dX, node.Inputs[0])}, {code.Team}{(code.Accumulates(node, 0) ? ", accumulateInput: true" : string.Empty)});");
        }

        public override IEnumerable<string> OnnxImports => new[] { "LayerNormalization" };

        /// <summary><c>LayerNormalization(x, γ, β)</c> over the last dimension (axis −1), as PyTorch's opset-17 export writes it.</summary>
        public override void ImportOnnx(IOnnxImport import)
        {
            if (!import.IsValue(0))
            {
                import.Unsupported("its input is a constant");
                return;
            }

            int x = import.Value(0);
            EquatableArray<int> shape = import.Shape(x);
            long axis = import.Int("axis", -1);
            if (axis != -1 && axis != shape.Count)
            {
                import.Unsupported($"axis {axis}: only a normalisation over the last dimension imports");
                return;
            }

            if (import.Constant(1) is not { } scale)
            {
                return;
            }

            int features = shape[shape.Count - 1];
            OnnxConstant? bias = import.HasInput(2)
                ? import.Constant(2)
                : new OnnxConstant(scale.Name.Replace("weight", "bias"), new long[] { features }, new float[features]); // no bias: zeros, as PyTorch's bias=False
            if (bias is null)
            {
                return;
            }

            if (scale.Values.Length != features || bias.Values.Length != features)
            {
                import.Unsupported($"the scale and bias do not hold one value per feature ({features})");
                return;
            }

            var settings = new OpSettings(EquatableArray.Of(features), EquatableArray.Of((double)(float)import.Float("epsilon", 1e-5)), string.Empty);
            var state = new Dictionary<string, OnnxConstant> { ["weight"] = scale.Reshaped(features), ["bias"] = bias.Reshaped(features) };
            int id = import.Add(this, settings, new[] { x }, state);
            if (id >= 0)
            {
                import.Output(id);
            }
        }
    }
}
