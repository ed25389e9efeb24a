using System.Collections.Generic;
using StaticGrad.Generators.Emit;
using StaticGrad.Generators.Emit.Graph;
using StaticGrad.Generators.Helpers;

namespace StaticGrad.Generators.Graph.Ops
{
    /// <summary>
    /// A model input (a parameter of the model's <c>Forward</c> with <c>[Shape(...)]</c>): its value is copied in by the caller.
    /// <see cref="Instance"/> is a <c>Tensor</c> of floats; <see cref="Tokens"/> a <c>Tokens</c> input of int ids, which only an
    /// op that indexes by them (<c>Embedding</c>) reads.
    /// </summary>
    internal sealed class InputOp : OpDefinition
    {
        /// <summary>A float input: <c>[Shape(1, 28, 28)] Tensor x</c>.</summary>
        public static readonly InputOp Instance = new("Input", integers: false);

        /// <summary>An input of token ids: <c>[Shape(64)] Tokens ids</c>.</summary>
        public static readonly InputOp Tokens = new("Tokens", integers: true);

        private readonly bool _integers;

        private InputOp(string key, bool integers)
        {
            Key = key;
            _integers = integers;
        }

        public override string Key { get; }

        public override int Arity => 0;

        public override bool IsInput => true;

        public override bool HoldsIntegers => _integers;

        public override string Formula => _integers ? "the caller's ids, one example after another" : "the caller's batch, row-major, one example after another";

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
