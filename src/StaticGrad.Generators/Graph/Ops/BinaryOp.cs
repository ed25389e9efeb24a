using System.Collections.Generic;
using StaticGrad.Generators.Emit;
using StaticGrad.Generators.Emit.Graph;
using StaticGrad.Generators.Helpers;

namespace StaticGrad.Generators.Graph.Ops
{
    /// <summary>
    /// <c>a + b</c>, <c>a − b</c>, <c>a * b</c> between tensors, element-wise with PyTorch's broadcasting over the dimensions of
    /// each example (aligned from the right; a dimension of 1 stretches).
    /// </summary>
    internal sealed class BinaryOp : OpDefinition
    {
        public static readonly BinaryOp Add = new("Add", "op_Addition", "add", "+", "Add");

        public static readonly BinaryOp Subtract = new("Subtract", "op_Subtraction", "subtract", "−", "Sub");

        public static readonly BinaryOp Multiply = new("Multiply", "op_Multiply", "multiply", "·", "Mul");

        private readonly string _key, _operator, _verb, _symbol, _onnx;

        private BinaryOp(string key, string @operator, string verb, string symbol, string onnx)
        {
            _key = key;
            _operator = @operator;
            _verb = verb;
            _symbol = symbol;
            _onnx = onnx;
        }

        public override string Key => _key;

        public override string? TensorMember => _operator;

        public override int Arity => 2;

        public override string Formula => $"y = a {_symbol} b, broadcast";

        public override string BackwardFormula => _key switch
        {
            "Multiply" => "da = dY·b, db = dY·a, each summed over the dimensions it was stretched along",
            "Subtract" => "da = dY, db = −dY, each summed over the dimensions it was stretched along",
            _ => "da = dY, db = dY, each summed over the dimensions it was stretched along",
        };

        public override string Describe(OpSettings settings) => _key;

        public override EquatableArray<int>? InferShape(OpSettings settings, IReadOnlyList<EquatableArray<int>> inputs, IShapeErrors errors)
        {
            EquatableArray<int> a = inputs[0], b = inputs[1];
            int rank = System.Math.Max(a.Count, b.Count);
            var dims = new int[rank];
            for (int i = 0; i < rank; i++)
            {
                int da = i < rank - a.Count ? 1 : a[i - (rank - a.Count)];
                int db = i < rank - b.Count ? 1 : b[i - (rank - b.Count)];
                if (da != db && da != 1 && db != 1)
                {
                    string where = a.Count == b.Count ? Shapes.Dimension(rank, i) : $"dimension {i} of the aligned shapes";
                    errors.Error($"cannot {_verb} {Shapes.Text(a)} and {Shapes.Text(b)}: {where} differs ({da} and {db}), and neither is 1 to broadcast");
                    return null;
                }

                dims[i] = System.Math.Max(da, db);
            }

            return EquatableArray.Of(dims);
        }

        private static bool Plain(GraphCode code, GraphNode node) =>
            code.Spec.Nodes[node.Inputs[0]].Shape == node.Shape && code.Spec.Nodes[node.Inputs[1]].Shape == node.Shape;

        public override void WriteFields(SourceWriter w, GraphCode code, GraphNode node)
        {
            EquatableArray<int> a = code.Spec.Nodes[node.Inputs[0]].Shape, b = code.Spec.Nodes[node.Inputs[1]].Shape;
            w.Line($"private static readonly global::StaticGrad.Kernels.BroadcastShape Node{node.Id}Broadcast = new global::StaticGrad.Kernels.BroadcastShape(new int[] {{ {string.Join(", ", a)} }}, new int[] {{ {string.Join(", ", b)} }});");
        }

        /// <summary>An addition of two values of its own shape applies the ReLU that alone reads it in the same pass (a residual block's end).</summary>
        public override bool FoldsActivation(GraphCode code, GraphNode node, string activation) => _key == "Add" && activation == "Relu" && Plain(code, node);

        /// <summary>An addition of two values of its own shape: a residual connection's end, which the producer of one operand may compute (see <see cref="BatchNormOp.FoldsResidual"/>).</summary>
        public override bool IsPlainAddition(GraphCode code, GraphNode node) => _key == "Add" && Plain(code, node);

        public override void WriteForward(SourceWriter w, GraphCode code, GraphNode node)
        {
            if (code.FoldedActivation(node) is { } relu)
            {
                w.Line($"// ReLU %{relu.Id} is folded in: this pass writes its value, max(0, a + b).");
                w.Line($"global::StaticGrad.Kernels.Elementwise.AddRelu({code.ValueSpan(node.Inputs[0])}, {code.ValueSpan(node.Inputs[1])}, {code.OutputSpan(relu)});");
                return;
            }

            w.Line($"global::StaticGrad.Kernels.Broadcast.Forward(global::StaticGrad.Kernels.BinaryOperator.{_key}, Node{node.Id}Broadcast, {code.ValueSpan(node.Inputs[0])}, {code.ValueSpan(node.Inputs[1])}, batch, {code.OutputSpan(node)});");
        }

        /// <summary>
        /// ONNX's <c>Add</c>, <c>Sub</c> or <c>Mul</c>, whose broadcasting is PyTorch's. Shapes here are per example, so
        /// with the batch in front an operand of lower rank is first reshaped to [batch, 1, …, 1, its dimensions]: otherwise
        /// ONNX would align its batch with a dimension of the other (4×5×5 + 5 is [batch, 4, 5, 5] + [batch, 1, 1, 5]).
        /// </summary>
        public override void WriteOnnx(OnnxBuilder onnx, GraphNode node)
        {
            int rank = node.Shape.Count;
            var inputs = new string[2];
            for (int k = 0; k < 2; k++)
            {
                EquatableArray<int> shape = onnx.InputShape(node, k);
                inputs[k] = onnx.Input(node, k);
                if (shape.Count < rank)
                {
                    var aligned = new long[rank + 1];
                    for (int i = 1; i <= rank; i++)
                    {
                        int from = i - 1 - (rank - shape.Count);
                        aligned[i] = from < 0 ? 1 : shape[from];
                    }

                    string side = k == 0 ? "a" : "b";
                    inputs[k] = onnx.Add(node, "Reshape", onnx.Temporary(node, side + "_aligned"), new[] { inputs[k], onnx.Int64s(node, side + "_shape", aligned) });
                }
            }

            onnx.Add(node, _onnx, onnx.Output(node), inputs);
        }

        public override void WriteBackward(SourceWriter w, GraphCode code, GraphNode node, IReadOnlyList<string?> inputGradients)
        {
            string left = inputGradients[0] is { } da ? code.TargetSpan(da, node.Inputs[0]) : "default";
            string right = inputGradients[1] is { } db ? code.TargetSpan(db, node.Inputs[1]) : "default";
            if (inputGradients[0] is null && inputGradients[1] is null)
            {
                return;
            }

            if (code.FoldedActivation(node) is { } relu)
            {
                w.Line($"// ReLU %{relu.Id} is folded in: both operands get the gradient of its value where that value is positive.");
                w.Line($"global::StaticGrad.Kernels.Elementwise.AddReluBackward({code.ValueSpan(relu.Id)}, {code.GradientSpan(relu.Id)}, {left}, {right});");
                return;
            }

            w.Line($"global::StaticGrad.Kernels.Broadcast.Backward(global::StaticGrad.Kernels.BinaryOperator.{_key}, Node{node.Id}Broadcast, {code.ValueSpan(node.Inputs[0])}, {code.ValueSpan(node.Inputs[1])},");
            w.Line($"    {code.GradientSpan(node.Id)}, batch, {left}, {right}, accumulate: false);");
        }

        public override IEnumerable<string> OnnxImports => _onnx == "Mul" ? new[] { "Mul", "Div" } : new[] { _onnx };

        /// <summary>
        /// ONNX's <c>Add</c>, <c>Sub</c>, <c>Mul</c>, and <c>Div</c> by a constant (a <c>Mul</c> by its reciprocal), with the batch
        /// in front of both operands. A constant operand becomes a <see cref="ConstantOp"/> node (its shape per example: ONNX's
        /// leading batch dimension of 1 dropped, or 1s in front up to the other operand's rank).
        /// </summary>
        public override void ImportOnnx(IOnnxImport import)
        {
            bool divide = import.Node.OpType == "Div";
            if (!import.IsValue(0) && !import.IsValue(1))
            {
                import.Unsupported("both operands are constants");
                return;
            }

            if (divide && !import.IsValue(0) || divide && import.IsValue(1))
            {
                import.Unsupported("only a division of a computed value by a constant imports");
                return;
            }

            int rank = import.Shape(import.Value(import.IsValue(0) ? 0 : 1)).Count;
            var operands = new int[2];
            for (int k = 0; k < 2; k++)
            {
                if (import.IsValue(k))
                {
                    operands[k] = import.Value(k);
                    continue;
                }

                if (import.Constant(k) is not { } constant)
                {
                    return;
                }

                if (divide)
                {
                    var reciprocal = new float[constant.Values.Length];
                    for (int i = 0; i < reciprocal.Length; i++)
                    {
                        reciprocal[i] = 1 / constant.Values[i];
                    }

                    constant = new OnnxConstant(constant.Name, constant.Dims, reciprocal);
                }

                // ONNX aligns from the right with the batch in front: a full-rank constant must have 1 there.
                var dims = new List<long>(constant.Dims);
                if (dims.Count == rank + 1)
                {
                    if (dims[0] != 1)
                    {
                        import.Unsupported($"the constant {constant.Describe()} varies along the batch dimension");
                        return;
                    }

                    dims.RemoveAt(0);
                }

                if (dims.Count > rank)
                {
                    import.Unsupported($"the constant {constant.Describe()} has more dimensions than the value it meets");
                    return;
                }

                while (dims.Count < rank)
                {
                    dims.Insert(0, 1);
                }

                var shape = new int[dims.Count];
                for (int i = 0; i < shape.Length; i++)
                {
                    shape[i] = (int)dims[i];
                }

                // A tensor the file names as PyTorch's state dict does (`position`, not a folded `onnx::Add_12` nor a Constant
                // node's `/Constant_output_0`), added to a value of its own shape, is a learned nn.Parameter: it trains.
                OpDefinition kind = !divide && import.Node.OpType == "Add" && IsStateName(constant.Name) && constant.Dims.Length == rank
                    && System.Linq.Enumerable.SequenceEqual(System.Array.ConvertAll(shape, d => (long)d), constant.Dims)
                    ? ParameterOp.Instance : ConstantOp.Instance;
                operands[k] = import.Add(kind, new OpSettings(EquatableArray.Of(shape), EquatableArray.Empty<double>(), string.Empty), System.Array.Empty<int>(),
                    new Dictionary<string, OnnxConstant> { [string.Empty] = constant.Reshaped(System.Array.ConvertAll(shape, d => (long)d)) });
                if (operands[k] < 0)
                {
                    return;
                }
            }

            if (import.Shape(operands[0]).Count != import.Shape(operands[1]).Count)
            {
                import.Unsupported($"its operands have different ranks ({Shapes.Text(import.Shape(operands[0]))} and {Shapes.Text(import.Shape(operands[1]))} per example), so ONNX would align the batch of one with a dimension of the other");
                return;
            }

            int id = import.Add(divide ? Multiply : this, OpSettings.None, operands);
            if (id >= 0)
            {
                import.Output(id);
            }
        }

        private static bool IsStateName(string name) =>
            name.Length > 0 && name.IndexOf('/') < 0 && name.IndexOf(':') < 0;
    }
}
