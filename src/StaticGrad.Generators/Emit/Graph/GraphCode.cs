using System.Globalization;
using StaticGrad.Generators.Graph;
using StaticGrad.Generators.Graph.Ops;
using StaticGrad.Generators.Model;

namespace StaticGrad.Generators.Emit.Graph
{
    /// <summary>The names generated code of a model uses, for the ops' writers: buffers of values and gradients, state offsets.</summary>
    internal sealed class GraphCode
    {
        public GraphCode(GraphSpec spec) => Spec = spec;

        public GraphSpec Spec { get; }

        /// <summary>
        /// The array expression holding a (non-view) node's value, when the class names its buffers otherwise than
        /// <c>_v{id}</c>: an attribute network lowered onto the graph keeps its <c>_activations[i]</c>.
        /// </summary>
        public System.Func<int, string>? ValueNames { get; init; }

        /// <summary>
        /// A bool field of the generated class that is true while a backward pass should write the parameters' gradients
        /// instead of adding to them (TrainStep, which then clears only what no node writes); null: they are always added.
        /// The nodes of <see cref="ReplacingNodes"/> honour it.
        /// </summary>
        public string? ReplaceGradients { get; init; }

        /// <summary>
        /// The nodes whose backward writes their parameters' gradients while <see cref="ReplaceGradients"/> is true: an op that
        /// <see cref="OpDefinition.ReplacesParameterGradients"/>, of a module no other node calls, whose backward runs (set by
        /// the emitter; see <c>ModelEmitter.FindReplacingNodes</c>).
        /// </summary>
        public System.Collections.Generic.HashSet<int> ReplacingNodes { get; } = new();

        /// <summary>The flag <paramref name="node"/>'s backward tests to write instead of add its parameters' gradients, or null: it always adds.</summary>
        public string? ReplaceGradientsOf(GraphNode node) => ReplacingNodes.Contains(node.Id) ? ReplaceGradients : null;

        /// <summary><c>accumulate: true</c>, or <c>accumulate: !_replaceGradients</c> for a node that replaces (<see cref="ReplaceGradientsOf"/>).</summary>
        public string AccumulateArgumentOf(GraphNode node) => ReplaceGradientsOf(node) is { } replace ? $"accumulate: !{replace}" : "accumulate: true";

        /// <summary>The array expression holding a node's gradient when it is not <c>_g{id}</c> (a lowered network's two scratch buffers).</summary>
        public System.Func<int, string>? GradientNames { get; init; }

        /// <summary>The element type keyword: <c>float</c>, or <c>double</c> for <c>[Model&lt;double&gt;]</c>.</summary>
        public string T => Spec.Element.Keyword();

        public string Span => $"global::System.Span<{T}>";

        public string ReadOnlySpan => $"global::System.ReadOnlySpan<{T}>";

        /// <summary>The math class of the element type: <c>global::System.MathF</c> or <c>global::System.Math</c>.</summary>
        public string Math => Spec.Element == ElementKind.Double ? "global::System.Math" : "global::System.MathF";

        /// <summary>A constant of the element type: <c>1E-05f</c> for float, <c>1E-05</c> for double.</summary>
        public string Number(double value) => Spec.Element == ElementKind.Double ? Real(value) : $"{Real((float)value)}f";

        /// <summary>The model's worker team (null on one thread), for kernels that split their work: <c>_team</c>.</summary>
        public string Team => "_team";

        /// <summary>The (node, input) pairs whose backward adds to the input's gradient, in the backward pass being written.</summary>
        public System.Collections.Generic.HashSet<(int Node, int Input)> Accumulating { get; set; } = new();

        /// <summary>The (node, input) pairs that add to the input's gradient in any backward pass (for the shared declarations).</summary>
        public System.Collections.Generic.HashSet<(int Node, int Input)> EverAccumulating { get; } = new();

        /// <summary>Producer id → the activation node folded into it (see <see cref="OpDefinition.FoldableActivation"/>); set by the emitter.</summary>
        public System.Collections.Generic.Dictionary<int, int> Folds { get; } = new();

        /// <summary>The activation node folded into <paramref name="producer"/>'s passes, or null: the producer then writes that node's value and reads its gradient.</summary>
        public GraphNode? FoldedActivation(GraphNode producer) => Folds.TryGetValue(producer.Id, out int activation) ? Spec.Nodes[activation] : null;

        /// <summary>Producer id → a pooling node folded in after its folded activation (see <see cref="OpDefinition.FoldsPool"/>); set by the emitter.</summary>
        public System.Collections.Generic.Dictionary<int, int> PoolFolds { get; } = new();

        /// <summary>The pooling node whose forward pass <paramref name="producer"/> computes with its folded activation's, or null.</summary>
        public GraphNode? FoldedPool(GraphNode producer) => PoolFolds.TryGetValue(producer.Id, out int pool) ? Spec.Nodes[pool] : null;

        /// <summary>Whether <paramref name="id"/> is a pooling node whose forward pass its producer's producer writes: it has a backward method only.</summary>
        public bool IsFoldedPool(int id) => PoolFolds.ContainsValue(id);

        /// <summary>Producer id → the node whose training backward pass computes the producer's weight gradient (see <see cref="OpDefinition.FoldsWeightGradient"/>); set by the emitter.</summary>
        public System.Collections.Generic.Dictionary<int, int> WeightGradientFolds { get; } = new();

        /// <summary>The producer of <paramref name="node"/>'s input whose weight gradient <paramref name="node"/>'s training backward computes, or null.</summary>
        public GraphNode? FoldedWeightGradient(GraphNode node) =>
            node.Inputs.Count == 1 && WeightGradientFolds.TryGetValue(node.Inputs[0], out int into) && into == node.Id ? Spec.Nodes[node.Inputs[0]] : null;

        /// <summary>Producer id → the addition folded into it (see <see cref="OpDefinition.FoldsResidual"/>); set by the emitter.</summary>
        public System.Collections.Generic.Dictionary<int, int> ResidualFolds { get; } = new();

        /// <summary>The addition whose passes <paramref name="producer"/>'s compute (its value plus the other operand, then the addition's folded activation), or null.</summary>
        public GraphNode? FoldedResidual(GraphNode producer) => ResidualFolds.TryGetValue(producer.Id, out int add) ? Spec.Nodes[add] : null;

        /// <summary>The operand of <paramref name="producer"/>'s folded addition that is not the producer: the residual its passes read, and whose gradient its backward writes.</summary>
        public int ResidualOperand(GraphNode producer)
        {
            GraphNode add = FoldedResidual(producer) ?? throw new System.InvalidOperationException($"%{producer.Id} has no folded addition.");
            return add.Inputs[0] == producer.Id ? add.Inputs[1] : add.Inputs[0];
        }

        /// <summary>Whether <paramref name="id"/> is an addition folded into the producer of one of its operands: it has no methods of its own.</summary>
        public bool IsFoldedResidual(int id) => ResidualFolds.ContainsValue(id);

        /// <summary>
        /// The node whose value and gradient <paramref name="producer"/>'s passes write and read in place of its own, when it is a
        /// folded producer: its folded activation, or its folded addition (or that addition's folded activation).
        /// </summary>
        public GraphNode? FoldedOutput(GraphNode producer) =>
            FoldedResidual(producer) is { } add ? FoldedActivation(add) ?? add : FoldedActivation(producer);

        /// <summary>The node whose methods compute <paramref name="id"/>: itself, or the producer it is folded into (through an addition's activation too).</summary>
        public int Host(int id)
        {
            foreach (var fold in Folds)
            {
                if (fold.Value == id)
                {
                    return Host(fold.Key);
                }
            }

            foreach (var fold in ResidualFolds)
            {
                if (fold.Value == id)
                {
                    return Host(fold.Key);
                }
            }

            return id;
        }

        /// <summary>Per node, per input, the buffer the backward pass being written writes the input's gradient to (null: not needed); set by the emitter, read where a node writes a folded addition's other gradient.</summary>
        public System.Collections.Generic.IReadOnlyDictionary<int, (string? Target, bool Add)[]> Targets { get; set; } = new System.Collections.Generic.Dictionary<int, (string? Target, bool Add)[]>();

        /// <summary>Whether the backward method being written is a <c>Node{id}BackwardToInput</c> (the pass on to the model's input): weight-gradient folds are not taken there.</summary>
        public bool WritingToInput { get; set; }

        /// <summary>Whether <paramref name="id"/> is a producer whose activation or following addition is folded in: its own value and gradient are never stored.</summary>
        public bool IsFoldedProducer(int id) => Folds.ContainsKey(id) || ResidualFolds.ContainsKey(id);

        /// <summary>Whether <paramref name="id"/> is an activation folded into its producer: it has no methods of its own.</summary>
        public bool IsFoldedActivation(int id) => Folds.ContainsValue(id);

        /// <summary>Whether the backward being written adds input <paramref name="input"/>'s gradient to its buffer instead of overwriting it.</summary>
        public bool Accumulates(GraphNode node, int input) => Accumulating.Contains((node.Id, input));

        /// <summary>Whether some backward pass adds input <paramref name="input"/>'s gradient (the op then declares what that needs).</summary>
        public bool EverAccumulates(GraphNode node, int input) => EverAccumulating.Contains((node.Id, input));

        /// <summary>
        /// The name of a <c>ReadOnlySpan</c> parameter that holds the graph's (single) input over the batch, or null: the input is
        /// in its buffer like any value. Set where every op reading the input <see cref="OpDefinition.ReadsInputsAsSpans"/>
        /// (a lowered network, whose TrainStep and Predict then read the caller's batch in place); the node methods that read it
        /// take it as their first parameter (<see cref="NodeParameters"/>).
        /// </summary>
        public string? InputSpan { get; init; }

        /// <summary>Whether node <paramref name="id"/>'s value is <see cref="InputSpan"/> (the input, or a view of it).</summary>
        public bool IsInputSpan(int id)
        {
            if (InputSpan is null)
            {
                return false;
            }

            GraphNode node = Spec.Nodes[id];
            OpDefinition op = OpCatalogue.Of(node.Op);
            return op.IsView ? IsInputSpan(node.Inputs[0]) : op.IsInput;
        }

        /// <summary>Whether one of the node's inputs is <see cref="InputSpan"/>: its methods then take that span.</summary>
        public bool ReadsInputSpan(GraphNode node)
        {
            foreach (int input in node.Inputs)
            {
                if (IsInputSpan(input))
                {
                    return true;
                }
            }

            return false;
        }

        /// <summary>A node method's parameters: <c>int batch</c>, with the input span first when the node reads it.</summary>
        public string NodeParameters(GraphNode node) => ReadsInputSpan(node) ? $"{ReadOnlySpan} {InputSpan}, int batch" : "int batch";

        /// <summary>The arguments of a call of a node method, to match <see cref="NodeParameters"/>.</summary>
        public string NodeArguments(GraphNode node) => ReadsInputSpan(node) ? $"{InputSpan}, batch" : "batch";

        /// <summary>The array holding a node's value over the batch (a view's is its input's); never the input span (see <see cref="OpDefinition.ReadsInputsAsSpans"/>).</summary>
        public string Value(int id)
        {
            if (IsInputSpan(id))
            {
                throw new System.InvalidOperationException($"%{id} is the caller's span {InputSpan}: an op that reads it must use ValueSpan, ValueRef or ValueSlice.");
            }

            GraphNode node = Spec.Nodes[id];
            return OpCatalogue.Of(node.Op).IsView ? Value(node.Inputs[0]) : ValueNames?.Invoke(id) ?? $"_v{id}";
        }

        /// <summary>A reference to the first element of a node's value, for kernels that take <c>ref T</c> (the GEMM).</summary>
        public string ValueRef(int id) =>
            IsInputSpan(id) ? $"global::System.Runtime.InteropServices.MemoryMarshal.GetReference({InputSpan})" : $"{Value(id)}[0]";

        /// <summary><c>length</c> values of a node's value from <c>start</c> (both C# expressions), read-only.</summary>
        public string ValueSlice(int id, string start, string length) =>
            IsInputSpan(id) ? $"{InputSpan}.Slice({start}, {length})" : $"new {ReadOnlySpan}({Value(id)}, {start}, {length})";

        /// <summary>The array holding the gradient of the loss with respect to a node's value.</summary>
        public string Gradient(int id) => GradientNames?.Invoke(id) ?? $"_g{id}";

        /// <summary><c>new ReadOnlySpan&lt;float&gt;(_v3, 0, batch * 784)</c>: a node's value over the batch.</summary>
        public string ValueSpan(int id) => ValueSlice(id, "0", $"batch * {Int(Spec.Nodes[id].Size)}");

        /// <summary>A node's value over the batch, writable (the node's own output).</summary>
        public string OutputSpan(GraphNode node) => $"new {Span}({Value(node.Id)}, 0, batch * {Int(node.Size)})";

        /// <summary>The gradient of a node's value over the batch.</summary>
        public string GradientSpan(int id) => $"new {ReadOnlySpan}({Gradient(id)}, 0, batch * {Int(Spec.Nodes[id].Size)})";

        /// <summary>An input gradient buffer as a writable span of the input's size.</summary>
        public string TargetSpan(string buffer, int inputId) => $"new {Span}({buffer}, 0, batch * {Int(Spec.Nodes[inputId].Size)})";

        /// <summary>The parameter of the node's module called <paramref name="name"/> (<c>weight</c>).</summary>
        public StateTensor Parameter(GraphNode node, string name) => Find(Spec.Parameters, node, name);

        /// <summary>The float buffer of the node's module called <paramref name="name"/> (<c>running_mean</c>).</summary>
        public StateTensor Buffer(GraphNode node, string name) => Find(Spec.Buffers, node, name);

        /// <summary>The counter of the node's module called <paramref name="name"/>.</summary>
        public StateTensor Counter(GraphNode node, string name) => Find(Spec.Counters, node, name);

        /// <summary>Whether the node's module has a parameter called <paramref name="name"/> (a bias may be left out).</summary>
        public bool HasParameter(GraphNode node, string name)
        {
            string full = FullName(node, name);
            foreach (StateTensor tensor in Spec.Parameters)
            {
                if (tensor.Name == full)
                {
                    return true;
                }
            }

            return false;
        }

        public string ParameterSpan(StateTensor tensor) => $"new {ReadOnlySpan}(_parameters, {Int(tensor.Offset)}, {Int(tensor.Count)})";

        public string ParameterGradientSpan(StateTensor tensor) => $"new {Span}(_gradients, {Int(tensor.Offset)}, {Int(tensor.Count)})";

        public string BufferSpan(StateTensor tensor) => $"new {Span}(_buffers, {Int(tensor.Offset)}, {Int(tensor.Count)})";

        /// <summary>
        /// How the node's module reads in comments: <c>block1.conv1, Conv2d(4, 4, 3, padding: 1)</c>, or for a lowered network,
        /// whose modules are named by position as in nn.Sequential, <c>layer 0, Linear(64, 32)</c>.
        /// </summary>
        public string ModuleText(GraphNode node)
        {
            if (node.Module < 0)
            {
                return string.Empty;
            }

            string path = Spec.Modules[node.Module].Path;
            bool position = path.Length > 0 && System.Linq.Enumerable.All(path, char.IsDigit);
            return $"{(position ? "layer " : string.Empty)}{path}, {Spec.Modules[node.Module].Display}";
        }

        /// <summary>The state name of a module's tensor: <c>block1.conv1.weight</c>, or the module's own path for a Parameter field (an empty name).</summary>
        private string FullName(GraphNode node, string name) => name.Length == 0 ? Spec.Modules[node.Module].Path : Spec.Modules[node.Module].Path + "." + name;

        public static string Int(int value) => value.ToString(CultureInfo.InvariantCulture);

        public static string Real(double value) => value.ToString("R", CultureInfo.InvariantCulture);

        private StateTensor Find(Helpers.EquatableArray<StateTensor> tensors, GraphNode node, string name)
        {
            string full = FullName(node, name);
            foreach (StateTensor tensor in tensors)
            {
                if (tensor.Name == full)
                {
                    return tensor;
                }
            }

            throw new System.InvalidOperationException($"No state tensor '{full}'.");
        }
    }
}
