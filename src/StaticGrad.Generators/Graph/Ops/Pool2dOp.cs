using System.Collections.Generic;
using StaticGrad.Generators.Emit;
using StaticGrad.Generators.Emit.Graph;
using StaticGrad.Generators.Helpers;

namespace StaticGrad.Generators.Graph.Ops
{
    /// <summary>
    /// <c>MaxPool2d(x, kernelSize, stride: kernelSize)</c> and <c>AvgPool2d(...)</c>, PyTorch's <c>F.max_pool2d</c> and
    /// <c>F.avg_pool2d</c> without padding: the max (first one) or mean of each window per channel, out side <c>(H − k)/s + 1</c>.
    /// </summary>
    internal sealed class Pool2dOp : OpDefinition
    {
        public static readonly Pool2dOp Max = new(max: true);

        public static readonly Pool2dOp Average = new(max: false);

        private readonly bool _max;

        private Pool2dOp(bool max) => _max = max;

        public override string Key => _max ? "MaxPool2d" : "AvgPool2d";

        public override string? Function => Key;

        public override bool ReadsInputsAsSpans => true;

        public override string Formula => _max ? "y = the max of each k×k window, per channel" : "y = the mean of each k×k window, per channel";

        public override string BackwardFormula => _max ? "dX gets each dY at the position its max came from" : "dX gets dY/k² at every position of the window";

        public override OpSettings ReadSettings(IOpArguments arguments)
        {
            int kernel = arguments.Int("kernelSize"), stride = arguments.Int("stride");
            LinearOp.Positive(arguments, "kernelSize", kernel);
            if (stride < 0)
            {
                arguments.Error("stride", $"stride must be positive (or 0 for the kernel size), got {stride}");
            }

            return new OpSettings(EquatableArray.Of(kernel, stride == 0 ? kernel : stride), EquatableArray.Empty<double>(), string.Empty);
        }

        public override string Describe(OpSettings s) => $"{Key}({s.Int(0)}{(s.Int(1) != s.Int(0) ? $", stride: {s.Int(1)}" : string.Empty)})";

        public override EquatableArray<int>? InferShape(OpSettings s, IReadOnlyList<EquatableArray<int>> inputs, IShapeErrors errors)
        {
            EquatableArray<int> x = inputs[0];
            if (x.Count != 3)
            {
                errors.Error($"{Describe(s)} expects an image C×H×W, but receives {Shapes.Text(x)}");
                return null;
            }

            if (x[1] < s.Int(0) || x[2] < s.Int(0))
            {
                errors.Error($"{Describe(s)} has a {s.Int(0)}×{s.Int(0)} window, larger than its input {Shapes.Text(x)}");
                return null;
            }

            return Shapes.Of(x[0], ((x[1] - s.Int(0)) / s.Int(1)) + 1, ((x[2] - s.Int(0)) / s.Int(1)) + 1);
        }

        public override void WriteFields(SourceWriter w, GraphCode code, GraphNode node)
        {
            if (_max)
            {
                w.Line($"private readonly int[] _node{node.Id}Indices; // where each maximum came from");
            }
        }

        public override void WriteAllocation(SourceWriter w, GraphCode code, GraphNode node)
        {
            if (_max)
            {
                w.Line($"_node{node.Id}Indices = new int[maxBatchSize * {node.Size}];");
            }
        }

        public override void WriteForward(SourceWriter w, GraphCode code, GraphNode node)
        {
            string geometry = Geometry(code, node);
            w.Line(_max
                ? $"global::StaticGrad.Kernels.Pooling.MaxPool({code.ValueSpan(node.Inputs[0])}, batch, {geometry}, {code.OutputSpan(node)}, _node{node.Id}Indices);"
                : $"global::StaticGrad.Kernels.Pooling.AvgPool({code.ValueSpan(node.Inputs[0])}, batch, {geometry}, {code.OutputSpan(node)});");
        }

        public override void WriteBackward(SourceWriter w, GraphCode code, GraphNode node, IReadOnlyList<string?> inputGradients)
        {
            if (inputGradients[0] is not { } dX)
            {
                return;
            }

            bool folded = code.IsFoldedPool(node.Id);
            if (folded)
            {
                GraphNode normalisation = code.Spec.Nodes[code.Spec.Nodes[node.Inputs[0]].Inputs[0]];
                w.Line($"// In training Node{normalisation.Id}Backward reads this gradient, the pooled values and the indices directly; evaluation's backward reads the ReLU's gradient this writes.");
                w.Open("if (!_training)");
            }

            w.Line(_max
                ? $"global::StaticGrad.Kernels.Pooling.MaxPoolBackward({code.GradientSpan(node.Id)}, _node{node.Id}Indices, batch, {Geometry(code, node)}, {code.TargetSpan(dX, node.Inputs[0])});"
                : $"global::StaticGrad.Kernels.Pooling.AvgPoolBackward({code.GradientSpan(node.Id)}, batch, {Geometry(code, node)}, {code.TargetSpan(dX, node.Inputs[0])});");
            if (folded)
            {
                w.Close();
            }
        }

        /// <summary>
        /// <c>MaxPool</c> or <c>AveragePool</c> with the kernel and stride, no padding and floor rounding (ONNX's defaults),
        /// so every window lies inside the image: <c>count_include_pad = 0</c> divides by k², as the kernel here does.
        /// </summary>
        public override void WriteOnnx(OnnxBuilder onnx, GraphNode node)
        {
            int kernel = node.Settings.Int(0), stride = node.Settings.Int(1);
            var attributes = new System.Collections.Generic.List<OnnxBuilder.Attribute>
            {
                OnnxBuilder.Attribute.Ints("kernel_shape", kernel, kernel),
                OnnxBuilder.Attribute.Ints("strides", stride, stride),
            };
            if (!_max)
            {
                attributes.Add(OnnxBuilder.Attribute.Int("count_include_pad", 0));
            }

            onnx.Add(node, _max ? "MaxPool" : "AveragePool", onnx.Output(node), new[] { onnx.Input(node, 0) }, attributes.ToArray());
        }

        /// <summary>Whether <paramref name="node"/> is a max pooling (an op that folds it in then writes its value and <see cref="IndicesField"/>).</summary>
        internal static bool IsMaxPool(GraphNode node) => node.Op == Max.Key;

        /// <summary>The field holding where each of a max pooling's maxima came from, as its backward pass reads them.</summary>
        internal static string IndicesField(GraphNode node) => $"_node{node.Id}Indices";

        /// <summary>The window's side, its step, and the output's height and width: the arguments after the input's shape.</summary>
        internal static string Window(GraphNode node) => $"{node.Settings.Int(0)}, {node.Settings.Int(1)}, {node.Shape[1]}, {node.Shape[2]}";

        private static string Geometry(GraphCode code, GraphNode node)
        {
            EquatableArray<int> x = code.Spec.Nodes[node.Inputs[0]].Shape;
            return $"{x[0]}, {x[1]}, {x[2]}, {node.Settings.Int(0)}, {node.Settings.Int(1)}, {node.Shape[1]}, {node.Shape[2]}";
        }

        public override IEnumerable<string> OnnxImports => new[] { _max ? "MaxPool" : "AveragePool" };

        /// <summary>
        /// <c>MaxPool</c> or <c>AveragePool</c> on [batch, C, H, W] with a square kernel, one stride, no padding, floor rounding
        /// and no dilation (ONNX's default stride is 1, PyTorch's the kernel: the file's strides are read as they are).
        /// </summary>
        public override void ImportOnnx(IOnnxImport import)
        {
            if (!import.IsValue(0))
            {
                import.Unsupported("its input is a constant");
                return;
            }

            long[] kernel = import.Ints("kernel_shape") ?? System.Array.Empty<long>();
            long[] strides = import.Ints("strides") ?? new long[] { 1, 1 };
            long[] pads = import.Ints("pads") ?? new long[] { 0, 0, 0, 0 };
            long[] dilations = import.Ints("dilations") ?? new long[] { 1, 1 };
            bool noPads = System.Linq.Enumerable.All(pads, p => p == 0), noDilation = System.Linq.Enumerable.All(dilations, d => d == 1);
            if (kernel.Length != 2 || kernel[0] != kernel[1] || kernel[0] < 1 || strides.Length != 2 || strides[0] != strides[1] || strides[0] < 1
                || !noPads || !noDilation || import.Int("ceil_mode", 0) != 0 || import.Text("auto_pad", "NOTSET") != "NOTSET" || import.Int("storage_order", 0) != 0)
            {
                import.Unsupported($"kernel_shape [{string.Join(", ", kernel)}], strides [{string.Join(", ", strides)}], pads [{string.Join(", ", pads)}], ceil_mode {import.Int("ceil_mode", 0)}: {Key} takes a square window, one stride, no padding or dilation, floor rounding");
                return;
            }

            int id = import.Add(this, new OpSettings(EquatableArray.Of((int)kernel[0], (int)strides[0]), EquatableArray.Empty<double>(), string.Empty), new[] { import.Value(0) });
            if (id >= 0)
            {
                import.Output(id);
            }
        }
    }
}
