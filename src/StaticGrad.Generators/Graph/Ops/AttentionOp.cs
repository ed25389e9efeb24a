using System.Collections.Generic;
using StaticGrad.Generators.Emit;
using StaticGrad.Generators.Emit.Graph;
using StaticGrad.Generators.Helpers;

namespace StaticGrad.Generators.Graph.Ops
{
    /// <summary>
    /// <c>ScaledDotProductAttention(q, k, v, causal: false)</c>, PyTorch 2's <c>F.scaled_dot_product_attention</c> without
    /// dropout: q [… × tq × d], k [… × tk × d], v [… × tk × dv] give <c>softmax(q·kᵀ/√d + mask)·v</c> [… × tq × dv]; the causal
    /// mask hides key j from query i when j &gt; i. The probabilities are kept for the backward pass.
    /// </summary>
    internal sealed class AttentionOp : OpDefinition
    {
        public static readonly AttentionOp Instance = new();

        public override string Key => "ScaledDotProductAttention";

        public override string? Function => "ScaledDotProductAttention";

        public override int Arity => 3;

        public override bool AlwaysWritesInputGradient => true;

        public override string Formula => "P = softmax(q·kᵀ/√d + mask), y = P·v";

        public override string BackwardFormula => "dv = Pᵀ·dY, dS = P ⊙ (dY·vᵀ − Σⱼ P⊙(dY·vᵀ)), dq = dS·k/√d, dk = dSᵀ·q/√d";

        public override OpSettings ReadSettings(IOpArguments arguments) =>
            new(EquatableArray.Of(arguments.Bool("causal") ? 1 : 0), EquatableArray.Empty<double>(), string.Empty);

        public override string Describe(OpSettings settings) => settings.Int(0) != 0 ? "ScaledDotProductAttention(causal: true)" : "ScaledDotProductAttention";

        public override EquatableArray<int>? InferShape(OpSettings settings, IReadOnlyList<EquatableArray<int>> inputs, IShapeErrors errors)
        {
            EquatableArray<int> q = inputs[0], k = inputs[1], v = inputs[2];
            if (q.Count < 2 || q.Count != k.Count || q.Count != v.Count)
            {
                errors.Error($"attention takes q, k and v of one rank, 2 or more (… × positions × features), but receives {Shapes.Text(q)}, {Shapes.Text(k)} and {Shapes.Text(v)}");
                return null;
            }

            int r = q.Count;
            for (int i = 0; i < r - 2; i++)
            {
                if (q[i] != k[i] || q[i] != v[i])
                {
                    errors.Error($"attention: q {Shapes.Text(q)}, k {Shapes.Text(k)} and v {Shapes.Text(v)} differ in leading dimension {i} ({q[i]}, {k[i]}, {v[i]})");
                    return null;
                }
            }

            if (q[r - 1] != k[r - 1])
            {
                errors.Error($"q·kᵀ: {q[r - 2]}×{q[r - 1]} by {k[r - 1]}×{k[r - 2]} — inner dimensions {q[r - 1]} and {k[r - 1]} differ");
                return null;
            }

            if (k[r - 2] != v[r - 2])
            {
                errors.Error($"attention: k has {k[r - 2]} positions ({Shapes.Text(k)}) but v has {v[r - 2]} ({Shapes.Text(v)})");
                return null;
            }

            var output = new int[r];
            for (int i = 0; i < r - 1; i++)
            {
                output[i] = q[i];
            }

            output[r - 1] = v[r - 1];
            return EquatableArray.Of(output);
        }

        public override void WriteFields(SourceWriter w, GraphCode code, GraphNode node)
        {
            w.Line($"private readonly {code.T}[] _node{node.Id}Probabilities; // softmax(q·kᵀ/√d + mask) of the last forward pass");
            (_, int tq, int tk, _, _) = Dimensions(code, node);
            w.Line($"private readonly {code.T}[] _node{node.Id}Scratch = new {code.T}[{tq * tk}]; // one item's gradient of the scores");
        }

        public override void WriteShared(SourceWriter w, GraphCode code, GraphNode node, HashSet<string> written)
        {
            (_, int tq, int tk, int d, int dv) = Dimensions(code, node);
            if (written.Add(ShapeName(code, node)))
            {
                w.Line();
                w.Line($"/// <summary>Attention of {tq} queries over {tk} keys, {d} features per query and key, {dv} per value: the sizes StaticGrad's attention kernels are specialised for (the JIT folds every member in as a constant).</summary>");
                w.Open($"private readonly struct {ShapeName(code, node)} : global::StaticGrad.Kernels.IAttentionShape");
                w.Line($"public int Tq => {tq};");
                w.Line($"public int Tk => {tk};");
                w.Line($"public int D => {d};");
                w.Line($"public int Dv => {dv};");
                w.Close();
            }
        }

        public override void WriteAllocation(SourceWriter w, GraphCode code, GraphNode node)
        {
            (int count, int tq, int tk, _, _) = Dimensions(code, node);
            w.Line($"_node{node.Id}Probabilities = new {code.T}[maxBatchSize * {count * tq * tk}];");
        }

        public override void WriteForward(SourceWriter w, GraphCode code, GraphNode node)
        {
            (int count, _, _, int d, _) = Dimensions(code, node);
            w.Line($"global::StaticGrad.Kernels.Attention.ScaledDotProduct<{ShapeName(code, node)}, {code.T}>({code.ValueSpan(node.Inputs[0])}, {code.ValueSpan(node.Inputs[1])}, {code.ValueSpan(node.Inputs[2])}, {code.OutputSpan(node)}, _node{node.Id}Probabilities, {Count(count)}, causal: {(node.Settings.Int(0) != 0 ? "true" : "false")}, {Scale(code, d)}, {code.Team});");
        }

        /// <summary>Written out: <c>Softmax(MatMul(q, Transpose(k))·(1/√d) + mask)</c> then MatMul with v (ONNX has no attention op before opset 23).</summary>
        public override void WriteOnnx(OnnxBuilder onnx, GraphNode node)
        {
            (_, int tq, int tk, int d, _) = Dimensions(onnx.Spec, node);
            int rank = node.Shape.Count + 1;
            var perm = new long[rank];
            for (int i = 0; i < rank; i++)
            {
                perm[i] = i;
            }

            (perm[rank - 2], perm[rank - 1]) = (perm[rank - 1], perm[rank - 2]);
            string keys = onnx.Add(node, "Transpose", onnx.Temporary(node, "keys_t"), new[] { onnx.Input(node, 1) }, OnnxBuilder.Attribute.Ints("perm", perm));
            string scores = onnx.Add(node, "MatMul", onnx.Temporary(node, "scores"), new[] { onnx.Input(node, 0), keys });
            string scaled = onnx.Add(node, "Mul", onnx.Temporary(node, "scaled"), new[] { scores, onnx.Scalar((float)(1 / System.Math.Sqrt(d))) });
            if (node.Settings.Int(0) != 0)
            {
                scaled = onnx.Add(node, "Add", onnx.Temporary(node, "masked"), new[] { scaled, onnx.CausalMask(tq, tk) });
            }

            string probabilities = onnx.Add(node, "Softmax", onnx.Temporary(node, "probabilities"), new[] { scaled }, OnnxBuilder.Attribute.Int("axis", -1));
            onnx.Add(node, "MatMul", onnx.Output(node), new[] { probabilities, onnx.Input(node, 2) });
        }

        public override void WriteBackward(SourceWriter w, GraphCode code, GraphNode node, IReadOnlyList<string?> inputGradients)
        {
            (int count, _, _, int d, _) = Dimensions(code, node);
            w.Line($"global::StaticGrad.Kernels.Attention.ScaledDotProductBackward<{ShapeName(code, node)}, {code.T}>({code.ValueSpan(node.Inputs[0])}, {code.ValueSpan(node.Inputs[1])}, {code.ValueSpan(node.Inputs[2])}, _node{node.Id}Probabilities, {code.GradientSpan(node.Id)},");
            w.Line($"    {code.TargetSpan(inputGradients[0]!, node.Inputs[0])}, {code.TargetSpan(inputGradients[1]!, node.Inputs[1])}, {code.TargetSpan(inputGradients[2]!, node.Inputs[2])}, _node{node.Id}Scratch, {Count(count)}, causal: {(node.Settings.Int(0) != 0 ? "true" : "false")}, {Scale(code, d)}, {code.Team});");
        }

        private static string ShapeName(GraphCode code, GraphNode node)
        {
            (_, int tq, int tk, int d, int dv) = Dimensions(code, node);
            return $"Attention{tq}x{tk}x{d}x{dv}Shape";
        }

        private static string Scale(GraphCode code, int d) => $"{code.Number(1 / System.Math.Sqrt(d))} /* 1/√{d} */";

        private static string Count(int count) => count == 1 ? "batch" : $"batch * {count}";

        private static (int Count, int Tq, int Tk, int D, int Dv) Dimensions(GraphCode code, GraphNode node) => Dimensions(code.Spec, node);

        private static (int Count, int Tq, int Tk, int D, int Dv) Dimensions(GraphSpec spec, GraphNode node)
        {
            EquatableArray<int> q = spec.Nodes[node.Inputs[0]].Shape, k = spec.Nodes[node.Inputs[1]].Shape;
            int r = q.Count;
            int tq = q[r - 2], d = q[r - 1], tk = k[r - 2], dv = node.Shape[r - 1];
            return (Shapes.Size(q) / (tq * d), tq, tk, d, dv);
        }
    }
}
