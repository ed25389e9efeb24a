using System.Collections.Generic;
using StaticGrad.Generators.Emit;
using StaticGrad.Generators.Emit.Graph;
using StaticGrad.Generators.Helpers;

namespace StaticGrad.Generators.Graph.Ops
{
    /// <summary>A model input (a parameter of the model's <c>Forward</c> with <c>[Shape(...)]</c>): its value is copied in by the caller.</summary>
    internal sealed class InputOp : OpDefinition
    {
        public static readonly InputOp Instance = new();

        public override string Key => "Input";

        public override int Arity => 0;

        public override string Formula => "the caller's batch, row-major, one example after another";

        public override string BackwardFormula => "none (inputs are not trained)";

        public override EquatableArray<int>? InferShape(OpSettings settings, IReadOnlyList<EquatableArray<int>> inputs, IShapeErrors errors) =>
            settings.Ints;

        public override void WriteForward(SourceWriter w, GraphCode code, GraphNode node)
        {
        }

        public override void WriteBackward(SourceWriter w, GraphCode code, GraphNode node, IReadOnlyList<string?> inputGradients)
        {
        }

        /// <summary>No node: the value is one of the graph's inputs, named as the <c>Forward</c> parameter.</summary>
        public override void WriteOnnx(OnnxBuilder onnx, GraphNode node)
        {
        }
    }
}
