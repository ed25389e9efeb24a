using System.Collections.Generic;
using StaticGrad.Generators.Emit;
using StaticGrad.Generators.Emit.Graph;
using StaticGrad.Generators.Helpers;

namespace StaticGrad.Generators.Graph.Ops
{
    /// <summary>
    /// A <c>Parameter</c> field, PyTorch's <c>nn.Parameter(torch.zeros(...))</c> registered on a module: a learned tensor of the
    /// given shape (zeros at first), used where C# converts it to a Tensor (<c>x + position</c>). Its value is the same for
    /// every example of the batch; its name in the state is the field's (<c>position</c>).
    /// </summary>
    internal sealed class ParameterOp : OpDefinition
    {
        public static readonly ParameterOp Instance = new();

        public override string Key => "Parameter";

        public override string? ModuleClass => "Parameter";

        public override int Arity => 0;

        public override string Formula => "y[b, …] = P[…] for every example b";

        public override string BackwardFormula => "dP += Σ_b dY[b, …]";

        public override OpSettings ReadSettings(IOpArguments arguments)
        {
            int[] shape = arguments.Ints("shape");
            if (shape.Length is < 1 or > 4)
            {
                arguments.Error("shape", $"a Parameter in a model has 1 to 4 dimensions (it is added to values whose batch is left out), got {shape.Length}");
            }

            for (int i = 0; i < shape.Length; i++)
            {
                if (shape[i] <= 0)
                {
                    arguments.Error("shape", i, $"every dimension of a Parameter must be positive, got [{string.Join(", ", shape)}]");
                    break;
                }
            }

            return new OpSettings(EquatableArray.From(shape), EquatableArray.Empty<double>(), string.Empty);
        }

        public override IEnumerable<StateDeclaration> State(OpSettings settings)
        {
            // Weight decay applies as nanoGPT's configure_optimizers applies it: to tensors of two or more dimensions.
            yield return new StateDeclaration(string.Empty, StateKind.Parameter, settings.Ints, InitKind.Zeros, 0, IsWeight: settings.Ints.Count >= 2);
        }

        public override string Describe(OpSettings settings) => $"Parameter({string.Join(", ", settings.Ints)})";

        public override EquatableArray<int>? InferShape(OpSettings settings, IReadOnlyList<EquatableArray<int>> inputs, IShapeErrors errors) => settings.Ints;

        public override void WriteForward(SourceWriter w, GraphCode code, GraphNode node) =>
            w.Line($"global::StaticGrad.Kernels.Lookup.Repeat({code.ParameterSpan(code.Parameter(node, string.Empty))}, batch, {code.OutputSpan(node)});");

        /// <summary>The parameter with a batch dimension of 1 in front, which ONNX broadcasts over the batch as the generated code copies it.</summary>
        public override void WriteOnnx(OnnxBuilder onnx, GraphNode node) =>
            onnx.Add(node, "Unsqueeze", onnx.Output(node), new[] { onnx.Parameter(node, string.Empty), onnx.Int64s(node, "axes", 0) });

        public override void WriteBackward(SourceWriter w, GraphCode code, GraphNode node, IReadOnlyList<string?> inputGradients) =>
            w.Line($"global::StaticGrad.Kernels.Elementwise.SumRows({code.GradientSpan(node.Id)}, {code.ParameterGradientSpan(code.Parameter(node, string.Empty))}, accumulate: true);");
    }
}
