using System.Collections.Generic;
using StaticGrad.Generators.Emit;
using StaticGrad.Generators.Emit.Graph;
using StaticGrad.Generators.Helpers;

namespace StaticGrad.Generators.Graph.Ops
{
    /// <summary>
    /// What the element-wise activations share: a <c>Functional</c> method of one tensor, the shape kept, and a forward and
    /// backward that are one call each to a run-time kernel.
    /// </summary>
    internal abstract class ElementwiseOp : OpDefinition
    {
        public override string? Function => Key;

        public override bool ReadsInputsAsSpans => true;

        public override EquatableArray<int>? InferShape(OpSettings settings, IReadOnlyList<EquatableArray<int>> inputs, IShapeErrors errors) => inputs[0];

        /// <summary>The forward call, given the input and output spans.</summary>
        protected abstract string ForwardCall(GraphNode node, string x, string y);

        /// <summary>The backward call, given the input, the output, the output's gradient and the input's gradient.</summary>
        protected abstract string BackwardCall(GraphNode node, string x, string y, string dY, string dX);

        /// <summary>The forward call with the model's code names at hand (its worker team); by default <see cref="ForwardCall(GraphNode, string, string)"/>.</summary>
        protected virtual string ForwardCall(GraphCode code, GraphNode node, string x, string y) => ForwardCall(node, x, y);

        /// <summary>The backward call with the model's code names at hand; by default <see cref="BackwardCall(GraphNode, string, string, string, string)"/>.</summary>
        protected virtual string BackwardCall(GraphCode code, GraphNode node, string x, string y, string dY, string dX) => BackwardCall(node, x, y, dY, dX);

        public override void WriteForward(SourceWriter w, GraphCode code, GraphNode node) =>
            w.Line(ForwardCall(code, node, code.ValueSpan(node.Inputs[0]), code.OutputSpan(node)) + ";");

        public override void WriteBackward(SourceWriter w, GraphCode code, GraphNode node, IReadOnlyList<string?> inputGradients)
        {
            if (inputGradients[0] is { } dX)
            {
                w.Line(BackwardCall(code, node, code.ValueSpan(node.Inputs[0]), code.ValueSpan(node.Id), code.GradientSpan(node.Id), code.TargetSpan(dX, node.Inputs[0])) + ";");
            }
        }

        /// <summary>The ONNX operator of the same name (<c>Relu</c>, <c>Sigmoid</c>, <c>Tanh</c>), when there is one.</summary>
        protected virtual string? OnnxOpType => null;

        public override IEnumerable<string> OnnxImports => OnnxOpType is { } type ? new[] { type } : System.Array.Empty<string>();

        /// <summary>The ONNX operator of the same name, on a computed value.</summary>
        public override void ImportOnnx(IOnnxImport import)
        {
            if (!import.IsValue(0))
            {
                import.Unsupported("its input is a constant");
                return;
            }

            int id = import.Add(this, OpSettings.None, new[] { import.Value(0) });
            if (id >= 0)
            {
                import.Output(id);
            }
        }
    }
}
