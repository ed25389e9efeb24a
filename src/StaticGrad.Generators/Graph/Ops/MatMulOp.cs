using System.Collections.Generic;
using StaticGrad.Generators.Emit;
using StaticGrad.Generators.Emit.Graph;
using StaticGrad.Generators.Helpers;

namespace StaticGrad.Generators.Graph.Ops
{
    /// <summary>
    /// <c>MatMul(a, b)</c>, PyTorch's <c>torch.matmul</c> on values of rank 2 or more: a [… × m × k] times b [… × k × n] gives
    /// [… × m × n], one product per example and per index of the leading dimensions (which must be equal: attention's heads).
    /// </summary>
    internal sealed class MatMulOp : OpDefinition
    {
        public static readonly MatMulOp Instance = new();

        public override string Key => "MatMul";

        public override string? Function => "MatMul";

        public override int Arity => 2;

        public override string Formula => "C[…, i, j] = Σₚ A[…, i, p]·B[…, p, j]";

        public override string BackwardFormula => "dA = dC·Bᵀ, dB = Aᵀ·dC";

        public override EquatableArray<int>? InferShape(OpSettings settings, IReadOnlyList<EquatableArray<int>> inputs, IShapeErrors errors)
        {
            EquatableArray<int> a = inputs[0], b = inputs[1];
            if (a.Count < 2 || b.Count < 2)
            {
                errors.Error($"MatMul multiplies matrices (values of rank 2 or more besides the batch), but receives {Shapes.Text(a)} and {Shapes.Text(b)}");
                return null;
            }

            if (a.Count != b.Count)
            {
                errors.Error($"MatMul: {Shapes.Text(a)} by {Shapes.Text(b)} — the ranks differ ({a.Count} and {b.Count}); the leading dimensions must be the same");
                return null;
            }

            for (int i = 0; i < a.Count - 2; i++)
            {
                if (a[i] != b[i])
                {
                    errors.Error($"MatMul: {Shapes.Text(a)} by {Shapes.Text(b)} — leading dimension {i} differs ({a[i]} and {b[i]})");
                    return null;
                }
            }

            int k = a[a.Count - 1], inner = b[b.Count - 2];
            if (k != inner)
            {
                errors.Error($"MatMul: {a[a.Count - 2]}×{k} by {inner}×{b[b.Count - 1]} — inner dimensions {k} and {inner} differ");
                return null;
            }

            var output = new int[a.Count];
            for (int i = 0; i < a.Count - 1; i++)
            {
                output[i] = a[i];
            }

            output[a.Count - 1] = b[b.Count - 1];
            return EquatableArray.Of(output);
        }

        public override void WriteForward(SourceWriter w, GraphCode code, GraphNode node)
        {
            (int count, int m, int k, int n) = Dimensions(code, node);
            w.Line($"global::StaticGrad.Kernels.Attention.MatMul({code.ValueSpan(node.Inputs[0])}, {code.ValueSpan(node.Inputs[1])}, {code.OutputSpan(node)}, {Count(count)}, {m}, {k}, {n}, transposeA: false, transposeB: false, accumulate: false);");
        }

        public override void WriteOnnx(OnnxBuilder onnx, GraphNode node) =>
            onnx.Add(node, "MatMul", onnx.Output(node), new[] { onnx.Input(node, 0), onnx.Input(node, 1) });

        public override void WriteBackward(SourceWriter w, GraphCode code, GraphNode node, IReadOnlyList<string?> inputGradients)
        {
            (int count, int m, int k, int n) = Dimensions(code, node);
            if (inputGradients[0] is { } dA)
            {
                w.Line($"global::StaticGrad.Kernels.Attention.MatMul({code.GradientSpan(node.Id)}, {code.ValueSpan(node.Inputs[1])}, {code.TargetSpan(dA, node.Inputs[0])}, {Count(count)}, {m}, {n}, {k}, transposeA: false, transposeB: true, accumulate: false); // dA = dC·Bᵀ");
            }

            if (inputGradients[1] is { } dB)
            {
                w.Line($"global::StaticGrad.Kernels.Attention.MatMul({code.ValueSpan(node.Inputs[0])}, {code.GradientSpan(node.Id)}, {code.TargetSpan(dB, node.Inputs[1])}, {Count(count)}, {k}, {m}, {n}, transposeA: true, transposeB: false, accumulate: false); // dB = Aᵀ·dC");
            }
        }

        private static string Count(int count) => count == 1 ? "batch" : $"batch * {count}";

        private static (int Count, int M, int K, int N) Dimensions(GraphCode code, GraphNode node)
        {
            EquatableArray<int> a = code.Spec.Nodes[node.Inputs[0]].Shape;
            int m = a[a.Count - 2], k = a[a.Count - 1], n = node.Shape[node.Shape.Count - 1];
            return (Shapes.Size(a) / (m * k), m, k, n);
        }
    }
}
