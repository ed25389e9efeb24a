using System.Collections.Generic;
using StaticGrad.Generators.Emit;
using StaticGrad.Generators.Emit.Graph;
using StaticGrad.Generators.Emit.Kernels;
using StaticGrad.Generators.Helpers;
using StaticGrad.Generators.Model;

namespace StaticGrad.Generators.Graph.Ops
{
    /// <summary>
    /// <c>Linear(inFeatures, outFeatures, bias: true)</c>, PyTorch's <c>nn.Linear</c> on the last dimension: <c>y = x·Wᵀ + b</c>,
    /// W [out, in]. Every leading dimension is a row of one product on StaticGrad's GEMM kernels.
    /// </summary>
    internal sealed class LinearOp : OpDefinition
    {
        public static readonly LinearOp Instance = new();

        public override bool ReplacesParameterGradients => true;

        public override bool ReadsInputsAsSpans => true;

        public override string Key => "Linear";

        public override string? ModuleClass => "Linear";

        public override string Formula => "y[r,o] = Σₖ x[r,k]·W[o,k] + b[o] for every row r of the leading dimensions";

        public override string BackwardFormula => "dW += dYᵀ·X, db += Σ_r dY[r,:], dX = dY·W (or dX += dY·W where X is used again)";

        /// <summary>dX comes out of a GEMM, which adds to C as cheaply as it writes it.</summary>
        public override bool AccumulatesInputGradient => true;

        public override OpSettings ReadSettings(IOpArguments arguments)
        {
            int inputs = arguments.Int("inFeatures"), outputs = arguments.Int("outFeatures");
            bool bias = arguments.Bool("bias");
            Positive(arguments, "inFeatures", inputs);
            Positive(arguments, "outFeatures", outputs);
            return new OpSettings(EquatableArray.Of(inputs, outputs, bias ? 1 : 0), EquatableArray.Empty<double>(), string.Empty);
        }

        public override IEnumerable<StateDeclaration> State(OpSettings settings)
        {
            int inputs = settings.Int(0), outputs = settings.Int(1);
            yield return new StateDeclaration("weight", StateKind.Parameter, Shapes.Of(outputs, inputs), InitKind.UniformFanIn, inputs, IsWeight: true);
            if (settings.Int(2) != 0)
            {
                yield return new StateDeclaration("bias", StateKind.Parameter, Shapes.Of(outputs), InitKind.UniformFanIn, inputs, IsWeight: false);
            }
        }

        public override string Describe(OpSettings settings) =>
            $"Linear({settings.Int(0)}, {settings.Int(1)}{(settings.Int(2) == 0 ? ", bias: false" : string.Empty)})";

        public override EquatableArray<int>? InferShape(OpSettings settings, IReadOnlyList<EquatableArray<int>> inputs, IShapeErrors errors)
        {
            EquatableArray<int> x = inputs[0];
            int last = x[x.Count - 1];
            if (last != settings.Int(0))
            {
                if (x.Count == 1)
                {
                    errors.Error($"{Describe(settings)} expects {settings.Int(0)} features, but receives {last}", "inFeatures", last);
                }
                else
                {
                    errors.Error($"{Describe(settings)} expects {settings.Int(0)} features in the last dimension, but receives {Shapes.Text(x)} ({last} there){(Shapes.Size(x) == settings.Int(0) ? "; call Flatten() first" : string.Empty)}");
                }

                return null;
            }

            var output = new int[x.Count];
            for (int i = 0; i < x.Count - 1; i++)
            {
                output[i] = x[i];
            }

            output[x.Count - 1] = settings.Int(1);
            return EquatableArray.Of(output);
        }

        public override void WriteShared(SourceWriter w, GraphCode code, GraphNode node, HashSet<string> written)
        {
            int inputs = node.Settings.Int(0), outputs = node.Settings.Int(1);
            if (written.Add(ForwardProduct(node)))
            {
                w.Line();
                GemmShapeEmitter.WriteShape(w, new GemmShapeEmitter.Product(
                    ForwardProduct(node), $"Linear {inputs} → {outputs}: Y[rows×{outputs}] = X[rows×{inputs}]·Wᵀ, W[{outputs}×{inputs}] read by rows",
                    M: 0, N: outputs, K: inputs, LeadingA: inputs, LeadingB: inputs, TransposeA: false, TransposeB: true, Accumulate: false));
            }

            if (written.Add(WeightGradientProduct(node)))
            {
                w.Line();
                GemmShapeEmitter.WriteShape(w, new GemmShapeEmitter.Product(
                    WeightGradientProduct(node), $"Linear {inputs} → {outputs}: dW[{outputs}×{inputs}] += dYᵀ·X, dY[rows×{outputs}] read by columns",
                    M: outputs, N: inputs, K: 0, LeadingA: outputs, LeadingB: inputs, TransposeA: true, TransposeB: false, Accumulate: true));
            }

            if (code.ReplaceGradientsOf(node) is not null && written.Add(WeightGradientProduct(node, replace: true)))
            {
                w.Line();
                GemmShapeEmitter.WriteShape(w, new GemmShapeEmitter.Product(
                    WeightGradientProduct(node, replace: true), $"Linear {inputs} → {outputs}: dW[{outputs}×{inputs}] = dYᵀ·X (the gradients replaced), dY[rows×{outputs}] read by columns",
                    M: outputs, N: inputs, K: 0, LeadingA: outputs, LeadingB: inputs, TransposeA: true, TransposeB: false, Accumulate: false));
            }

            if (written.Add(InputGradientProduct(node)))
            {
                w.Line();
                GemmShapeEmitter.WriteShape(w, new GemmShapeEmitter.Product(
                    InputGradientProduct(node), $"Linear {inputs} → {outputs}: dX[rows×{inputs}] = dY[rows×{outputs}]·W[{outputs}×{inputs}]",
                    M: 0, N: inputs, K: outputs, LeadingA: outputs, LeadingB: inputs, TransposeA: false, TransposeB: false, Accumulate: false));
            }

            if (code.EverAccumulates(node, 0) && written.Add(InputGradientProduct(node, accumulate: true)))
            {
                w.Line();
                GemmShapeEmitter.WriteShape(w, new GemmShapeEmitter.Product(
                    InputGradientProduct(node, accumulate: true), $"Linear {inputs} → {outputs}: dX[rows×{inputs}] += dY[rows×{outputs}]·W[{outputs}×{inputs}] (X is used again)",
                    M: 0, N: inputs, K: outputs, LeadingA: outputs, LeadingB: inputs, TransposeA: false, TransposeB: false, Accumulate: true));
            }
        }

        public override void WriteForward(SourceWriter w, GraphCode code, GraphNode node)
        {
            StateTensor weight = code.Parameter(node, "weight");
            string? bias = code.HasParameter(node, "bias") ? $"_parameters[{code.Parameter(node, "bias").Offset}]" : null;
            w.Line(GemmShapeEmitter.Call(ForwardProduct(node), code.Spec.Element, code.ValueRef(node.Inputs[0]), $"_parameters[{weight.Offset}]", $"{code.Value(node.Id)}[0]", bias: bias, rows: Rows(node), team: code.Team));
        }

        public override void WriteBackward(SourceWriter w, GraphCode code, GraphNode node, IReadOnlyList<string?> inputGradients)
        {
            StateTensor weight = code.Parameter(node, "weight");
            int outputs = node.Settings.Int(1);
            string dY = code.Gradient(node.Id);
            string x = code.ValueRef(node.Inputs[0]);
            if (code.ReplaceGradientsOf(node) is { } replace)
            {
                w.Open($"if ({replace})");
                w.Line(GemmShapeEmitter.Call(WeightGradientProduct(node, replace: true), code.Spec.Element, $"{dY}[0]", x, $"_gradients[{weight.Offset}]", depth: Rows(node), team: code.Team));
                w.Close();
                w.Open("else");
                w.Line(GemmShapeEmitter.Call(WeightGradientProduct(node), code.Spec.Element, $"{dY}[0]", x, $"_gradients[{weight.Offset}]", depth: Rows(node), team: code.Team));
                w.Close();
                w.Line();
            }
            else
            {
                w.Line(GemmShapeEmitter.Call(WeightGradientProduct(node), code.Spec.Element, $"{dY}[0]", x, $"_gradients[{weight.Offset}]", depth: Rows(node), team: code.Team));
            }

            if (code.HasParameter(node, "bias"))
            {
                w.Line($"global::StaticGrad.Kernels.Elementwise.SumRows(new {code.ReadOnlySpan}({dY}, 0, {Rows(node)} * {outputs}), {code.ParameterGradientSpan(code.Parameter(node, "bias"))}, {code.AccumulateArgumentOf(node)});");
            }

            if (inputGradients[0] is { } dX)
            {
                w.Line(GemmShapeEmitter.Call(InputGradientProduct(node, code.Accumulates(node, 0)), code.Spec.Element, $"{dY}[0]", $"_parameters[{weight.Offset}]", $"{dX}[0]", rows: Rows(node), team: code.Team));
            }
        }

        /// <summary>
        /// On one vector per example, <c>Gemm(x, W, b)</c> with <c>transB = 1</c>. On more dimensions, <c>MatMul</c> with
        /// <c>Transpose(W)</c> (ONNX Runtime folds the transpose of the constant; the initializer stays PyTorch's [out, in]
        /// weight) and an <c>Add</c> of the bias, which broadcasts over the leading dimensions.
        /// </summary>
        public override void WriteOnnx(OnnxBuilder onnx, GraphNode node)
        {
            string x = onnx.Input(node, 0), weight = onnx.Parameter(node, "weight");
            bool bias = onnx.HasParameter(node, "bias");
            if (onnx.InputShape(node, 0).Count == 1)
            {
                string[] inputs = bias ? new[] { x, weight, onnx.Parameter(node, "bias") } : new[] { x, weight };
                onnx.Add(node, "Gemm", onnx.Output(node), inputs, OnnxBuilder.Attribute.Int("transB", 1));
                return;
            }

            string transposed = onnx.Add(node, "Transpose", onnx.Temporary(node, "weight_t"), new[] { weight }, OnnxBuilder.Attribute.Ints("perm", 1, 0));
            string product = onnx.Add(node, "MatMul", bias ? onnx.Temporary(node, "product") : onnx.Output(node), new[] { x, transposed });
            if (bias)
            {
                onnx.Add(node, "Add", onnx.Output(node), new[] { product, onnx.Parameter(node, "bias") });
            }
        }

        private static string Rows(GraphNode node)
        {
            int leading = node.Size / node.Settings.Int(1);
            return leading == 1 ? "batch" : $"batch * {leading}";
        }

        private static string ForwardProduct(GraphNode node) => $"Linear{node.Settings.Int(0)}To{node.Settings.Int(1)}ForwardProduct";

        private static string WeightGradientProduct(GraphNode node, bool replace = false) =>
            $"Linear{node.Settings.Int(0)}To{node.Settings.Int(1)}WeightGradient{(replace ? "Replace" : string.Empty)}Product";

        private static string InputGradientProduct(GraphNode node, bool accumulate = false) =>
            $"Linear{node.Settings.Int(0)}To{node.Settings.Int(1)}InputGradient{(accumulate ? "Accumulate" : string.Empty)}Product";

        internal static void Positive(IOpArguments arguments, string name, int value)
        {
            if (value <= 0)
            {
                arguments.Error(name, $"{name} must be positive, got {value}");
            }
        }

        public override IEnumerable<string> OnnxImports => new[] { "Gemm", "MatMul" };

        /// <summary>
        /// <c>Gemm(x, B, C)</c> with α = β = 1 and x not transposed: W = B (transB = 1, PyTorch's export) or Bᵀ, b = C. <c>MatMul(x, B)</c>
        /// with a constant 2-D B (PyTorch's export of nn.Linear on more than one dimension): W = Bᵀ, and the <c>Add</c> of a
        /// constant [out] that alone reads it becomes the bias. <c>MatMul</c> of two computed values is <see cref="MatMulOp"/>.
        /// </summary>
        public override void ImportOnnx(IOnnxImport import)
        {
            bool gemm = import.Node.OpType == "Gemm";
            if (!gemm && import.IsValue(0) && import.IsValue(1))
            {
                // The product of two computed values (attention's q·kᵀ and P·v): the graph's MatMul, not a Linear.
                int product = import.Add(MatMulOp.Instance, OpSettings.None, new[] { import.Value(0), import.Value(1) });
                if (product >= 0)
                {
                    import.Output(product);
                }

                return;
            }

            if (!import.IsValue(0) || (import.HasInput(1) && import.IsValue(1)))
            {
                import.Unsupported(import.IsValue(0)
                    ? "its second operand is computed, not a constant weight (only products with a constant matrix import, as Linear)"
                    : "its first operand is a constant (only x·W with x computed imports, as Linear)");
                return;
            }

            if (gemm && (import.Float("alpha", 1) != 1 || import.Float("beta", 1) != 1 || import.Int("transA", 0) != 0))
            {
                import.Unsupported($"alpha = {import.Float("alpha", 1)}, beta = {import.Float("beta", 1)}, transA = {import.Int("transA", 0)} (Linear is alpha = beta = 1, transA = 0)");
                return;
            }

            int x = import.Value(0);
            if (import.Constant(1) is not { } b)
            {
                return;
            }

            if (b.Dims.Length != 2)
            {
                import.Unsupported($"the weight {b.Describe()} is not a matrix");
                return;
            }

            OnnxConstant weight = gemm && import.Int("transB", 0) != 0 ? b : b.Transposed();
            int outputs = (int)weight.Dims[0], inputs = (int)weight.Dims[1];
            OnnxConstant? bias = null;
            if (gemm && import.HasInput(2))
            {
                if (import.Constant(2) is not { } c)
                {
                    return;
                }

                if (c.Values.Length != outputs || (c.Dims.Length != 1 && !(c.Dims.Length == 2 && c.Dims[0] == 1)))
                {
                    import.Unsupported($"the bias {c.Describe()} is not one value per output ({outputs})");
                    return;
                }

                bias = c.Reshaped(outputs);
            }
            else if (!gemm && import.SoleConsumer() is { OpType: "Add" } add)
            {
                for (int k = 0; k < 2 && bias is null; k++)
                {
                    if (import.ConstantOf(add, k) is { } c && c.Dims.Length == 1 && c.Dims[0] == outputs)
                    {
                        bias = c;
                        import.Absorb(add);
                    }
                }
            }

            var state = new Dictionary<string, OnnxConstant> { ["weight"] = weight };
            if (bias is not null)
            {
                state["bias"] = bias;
            }

            int id = import.Add(this, new OpSettings(EquatableArray.Of(inputs, outputs, bias is null ? 0 : 1), EquatableArray.Empty<double>(), string.Empty), new[] { x }, state);
            if (id >= 0)
            {
                import.Output(id);
            }
        }
    }
}
