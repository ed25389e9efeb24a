using System.Collections.Generic;
using StaticGrad.Generators.Emit;
using StaticGrad.Generators.Emit.Graph;
using StaticGrad.Generators.Helpers;

namespace StaticGrad.Generators.Graph.Ops
{
    /// <summary>
    /// <c>Embedding(numEmbeddings, embeddingDim)</c>, PyTorch's <c>nn.Embedding</c>: each id of a <c>Tokens</c> input becomes the
    /// row of the table <c>weight [numEmbeddings, embeddingDim]</c> it names (initialised N(0, 1)), adding a last dimension.
    /// Ids outside the table are an ArgumentOutOfRangeException before anything runs.
    /// </summary>
    internal sealed class EmbeddingOp : OpDefinition
    {
        public static readonly EmbeddingOp Instance = new();

        public override string Key => "Embedding";

        public override string? ModuleClass => "Embedding";

        public override string Formula => "y[…, :] = W[id[…], :]";

        public override string BackwardFormula => "dW[id[…], :] += dY[…, :] (ids are not trained)";

        public override int? IndexLimit(OpSettings settings) => settings.Int(0);

        public override OpSettings ReadSettings(IOpArguments arguments)
        {
            int count = arguments.Int("numEmbeddings"), dim = arguments.Int("embeddingDim");
            LinearOp.Positive(arguments, "numEmbeddings", count);
            LinearOp.Positive(arguments, "embeddingDim", dim);
            return new OpSettings(EquatableArray.Of(count, dim), EquatableArray.Empty<double>(), string.Empty);
        }

        public override IEnumerable<StateDeclaration> State(OpSettings settings)
        {
            yield return new StateDeclaration("weight", StateKind.Parameter, Shapes.Of(settings.Int(0), settings.Int(1)), InitKind.Normal, 0, IsWeight: true);
        }

        public override string Describe(OpSettings settings) => $"Embedding({settings.Int(0)}, {settings.Int(1)})";

        public override EquatableArray<int>? InferShape(OpSettings settings, IReadOnlyList<EquatableArray<int>> inputs, IShapeErrors errors)
        {
            EquatableArray<int> ids = inputs[0];
            if (ids.Count >= 4)
            {
                errors.Error($"{Describe(settings)} adds a dimension to {Shapes.Text(ids)}, and a value has at most 4 besides the batch");
                return null;
            }

            var output = new int[ids.Count + 1];
            for (int i = 0; i < ids.Count; i++)
            {
                output[i] = ids[i];
            }

            output[ids.Count] = settings.Int(1);
            return EquatableArray.Of(output);
        }

        public override void WriteForward(SourceWriter w, GraphCode code, GraphNode node)
        {
            GraphNode ids = code.Spec.Nodes[node.Inputs[0]];
            w.Line($"global::StaticGrad.Kernels.Lookup.Gather(new global::System.ReadOnlySpan<int>({code.Value(ids.Id)}, 0, batch * {ids.Size}), {code.ParameterSpan(code.Parameter(node, "weight"))}, {code.OutputSpan(node)}, {node.Settings.Int(1)});");
        }

        public override void WriteOnnx(OnnxBuilder onnx, GraphNode node) =>
            onnx.Add(node, "Gather", onnx.Output(node), new[] { onnx.Parameter(node, "weight"), onnx.Input(node, 0) }, OnnxBuilder.Attribute.Int("axis", 0));

        public override void WriteBackward(SourceWriter w, GraphCode code, GraphNode node, IReadOnlyList<string?> inputGradients)
        {
            GraphNode ids = code.Spec.Nodes[node.Inputs[0]];
            w.Line($"global::StaticGrad.Kernels.Lookup.ScatterAdd(new global::System.ReadOnlySpan<int>({code.Value(ids.Id)}, 0, batch * {ids.Size}), {code.GradientSpan(node.Id)}, {code.ParameterGradientSpan(code.Parameter(node, "weight"))}, {node.Settings.Int(1)});");
        }

        public override IEnumerable<string> OnnxImports => new[] { "Gather" };

        /// <summary>
        /// <c>Gather(table, ids)</c> along axis 0, with a constant 2-D table and int64 token ids from a graph input: PyTorch's
        /// export of <c>nn.Embedding</c>. (A Gather of constant integers, as in a shape computation, the importer folds itself.)
        /// </summary>
        public override void ImportOnnx(IOnnxImport import)
        {
            if (import.Int("axis", 0) != 0 || !import.IsValue(1) || import.IsValue(0))
            {
                import.Unsupported("only a Gather of rows of a constant table (axis 0) by token ids imports, as an embedding");
                return;
            }

            int ids = import.Value(1);
            if (import.Constant(0) is not { } table)
            {
                return;
            }

            if (table.Dims.Length != 2)
            {
                import.Unsupported($"the table {table.Describe()} is not [rows, features]");
                return;
            }

            var settings = new OpSettings(EquatableArray.Of((int)table.Dims[0], (int)table.Dims[1]), EquatableArray.Empty<double>(), string.Empty);
            int id = import.Add(this, settings, new[] { ids }, new Dictionary<string, OnnxConstant> { ["weight"] = table });
            if (id >= 0)
            {
                import.Output(id);
            }
        }
    }
}
