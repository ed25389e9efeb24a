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
            w.Line($"private readonly float[] _node{node.Id}Mean, _node{node.Id}InverseDeviation; // per row, kept for backward");

        public override void WriteAllocation(SourceWriter w, GraphCode code, GraphNode node)
        {
            int rows = node.Size / node.Settings.Int(0);
            w.Line($"_node{node.Id}Mean = new float[maxBatchSize * {rows}];");
            w.Line($"_node{node.Id}InverseDeviation = new float[maxBatchSize * {rows}];");
        }

        public override void WriteForward(SourceWriter w, GraphCode code, GraphNode node)
        {
            int features = node.Settings.Int(0), rows = node.Size / features;
            w.Line($"global::StaticGrad.Kernels.Normalization.LayerNorm({code.ValueSpan(node.Inputs[0])}, batch * {rows}, {features}, {code.ParameterSpan(code.Parameter(node, "weight"))}, {code.ParameterSpan(code.Parameter(node, "bias"))}, {GraphCode.Real(node.Settings.Real(0))},");
            w.Line($"    {code.OutputSpan(node)}, _node{node.Id}Mean, _node{node.Id}InverseDeviation);");
        }

        public override void WriteBackward(SourceWriter w, GraphCode code, GraphNode node, IReadOnlyList<string?> inputGradients)
        {
            int features = node.Settings.Int(0), rows = node.Size / features;
            StateTensor weight = code.Parameter(node, "weight"), bias = code.Parameter(node, "bias");
            string dX = inputGradients[0]!;
            w.Line($"global::StaticGrad.Kernels.Normalization.LayerNormBackward({code.ValueSpan(node.Inputs[0])}, {code.GradientSpan(node.Id)}, batch * {rows}, {features}, {code.ParameterSpan(weight)},");
            w.Line($"    _node{node.Id}Mean, _node{node.Id}InverseDeviation, {code.ParameterGradientSpan(weight)}, {code.ParameterGradientSpan(bias)}, {code.TargetSpan(dX, node.Inputs[0])});");
        }
    }
}
