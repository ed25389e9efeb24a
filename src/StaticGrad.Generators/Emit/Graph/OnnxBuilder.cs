using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using StaticGrad.Generators.Graph;
using StaticGrad.Generators.Graph.Ops;
using StaticGrad.Generators.Helpers;

namespace StaticGrad.Generators.Emit.Graph
{
    /// <summary>
    /// Collects a model's forward pass (evaluation mode) as ONNX nodes, for the generated <c>OnnxGraph</c>: each op's
    /// <see cref="OpDefinition.WriteOnnx"/> adds its nodes here, naming values through it, and asks for the state tensors
    /// it reads (which become initializers under their <c>state_dict</c> names) and for small constants. The model's
    /// per-example shapes get the batch in front: a value of shape C×H×W is the ONNX tensor [batch, C, H, W].
    /// </summary>
    internal sealed class OnnxBuilder
    {
        private readonly List<Node> _nodes = new();
        private readonly List<Initializer> _initializers = new();
        private readonly HashSet<string> _initializerNames = new();
        private readonly HashSet<string> _nodeNames = new();

        public OnnxBuilder(GraphSpec spec) => Spec = spec;

        public GraphSpec Spec { get; }

        /// <summary>An ONNX node: operator, name, value names and attributes, and the opsets it is for.</summary>
        public sealed record Node(string OpType, string Name, string[] Inputs, string[] Outputs, Attribute[] Attributes, int MinimumOpset, int MaximumOpset);

        /// <summary>A node attribute: <c>Int</c>, <c>Ints</c> or <c>Float</c>, with its value as C# text.</summary>
        public sealed record Attribute(string Name, string Kind, string Value)
        {
            public static Attribute Int(string name, long value) => new(name, "Int", value.ToString(CultureInfo.InvariantCulture));

            public static Attribute Ints(string name, params long[] values) => new(name, "Ints", string.Join(", ", values.Select(v => v.ToString(CultureInfo.InvariantCulture))));

            public static Attribute Float(string name, double value) => new(name, "Float", Single(value));
        }

        /// <summary>An initializer, as the C# expression that makes it.</summary>
        public sealed record Initializer(string Name, string Expression);

        public IReadOnlyList<Node> Nodes => _nodes;

        public IReadOnlyList<Initializer> Initializers => _initializers;

        /// <summary>The ONNX name of a node's value: the Forward parameter's name for an input, <c>output</c> for the graph's output (never an input: SGR0022; a tuple's element names for several), else <c>/{module or op}_{id}/output</c>.</summary>
        public string Value(int id)
        {
            GraphNode node = Spec.Nodes[id];
            if (OpCatalogue.Of(node.Op).IsInput)
            {
                return node.Settings.Text;
            }

            foreach (GraphOutput output in Spec.Outputs)
            {
                if (output.Node == id)
                {
                    return ModelNames.OnnxOutput(Spec.Outputs.Count, output.Name);
                }
            }

            return $"{Prefix(node)}/output";
        }

        /// <summary>The ONNX name of input <paramref name="index"/> of <paramref name="node"/>.</summary>
        public string Input(GraphNode node, int index) => Value(node.Inputs[index]);

        /// <summary>The ONNX name of <paramref name="node"/>'s value.</summary>
        public string Output(GraphNode node) => Value(node.Id);

        /// <summary>The shape per example of input <paramref name="index"/> of <paramref name="node"/>.</summary>
        public EquatableArray<int> InputShape(GraphNode node, int index) => Spec.Nodes[node.Inputs[index]].Shape;

        /// <summary>A name for a value inside the node's own nodes (<c>/block1.conv1_5/erf</c>).</summary>
        public string Temporary(GraphNode node, string what) => $"{Prefix(node)}/{what}";

        /// <summary>The parameter <paramref name="name"/> of the node's module (<c>weight</c>) as an initializer; returns its <c>state_dict</c> name.</summary>
        public string Parameter(GraphNode node, string name) =>
            State(node, name, Spec.Parameters, "Parameter");

        /// <summary>The float buffer <paramref name="name"/> of the node's module (<c>running_mean</c>) as an initializer.</summary>
        public string Buffer(GraphNode node, string name) =>
            State(node, name, Spec.Buffers, "Buffer");

        /// <summary>Whether the node's module has a parameter called <paramref name="name"/> (a bias may be left out).</summary>
        public bool HasParameter(GraphNode node, string name) => Find(Spec.Parameters, node, name) is not null;

        /// <summary>A constant one-dimensional int64 tensor (a shape for <c>Reshape</c>), named after the node.</summary>
        public string Int64s(GraphNode node, string what, params long[] values)
        {
            string name = Temporary(node, what);
            Add(name, $"global::StaticGrad.Interchange.OnnxInitializer.Int64(\"{Escape(name)}\"{string.Concat(values.Select(v => ", " + v.ToString(CultureInfo.InvariantCulture)))})");
            return name;
        }

        /// <summary>The causal mask of attention, [queries × keys] of 0 and −∞, shared by every node of the same size.</summary>
        public string CausalMask(int queries, int keys)
        {
            string name = $"/constants/causal_mask_{queries.ToString(CultureInfo.InvariantCulture)}x{keys.ToString(CultureInfo.InvariantCulture)}";
            Add(name, $"global::StaticGrad.Interchange.OnnxInitializer.CausalMask(\"{Escape(name)}\", {queries.ToString(CultureInfo.InvariantCulture)}, {keys.ToString(CultureInfo.InvariantCulture)})");
            return name;
        }

        /// <summary>A float scalar constant, shared by every node that asks for the same value.</summary>
        public string Scalar(double value)
        {
            string name = $"/constants/{Single(value).TrimEnd('f')}";
            Add(name, $"global::StaticGrad.Interchange.OnnxInitializer.Scalar(\"{Escape(name)}\", {Single(value)})");
            return name;
        }

        /// <summary>Adds a node with one output for every opset; returns the output's name.</summary>
        public string Add(GraphNode node, string opType, string output, string[] inputs, params Attribute[] attributes) =>
            Add(node, opType, output, inputs, 0, int.MaxValue, attributes);

        /// <summary>Adds a node with one output for the opsets from <paramref name="minimumOpset"/> to <paramref name="maximumOpset"/>; returns the output's name.</summary>
        public string Add(GraphNode node, string opType, string output, string[] inputs, int minimumOpset, int maximumOpset, params Attribute[] attributes)
        {
            string name = $"{Prefix(node)}/{opType}";
            for (int n = 1; !_nodeNames.Add(name); n++)
            {
                name = $"{Prefix(node)}/{opType}_{n}";
            }

            _nodes.Add(new Node(opType, name, inputs, new[] { output }, attributes, minimumOpset, maximumOpset));
            return output;
        }

        /// <summary>Adds a node with several outputs (GRU's Y and Y_h) for every opset.</summary>
        public void Add(GraphNode node, string opType, string[] outputs, string[] inputs, params Attribute[] attributes)
        {
            string name = $"{Prefix(node)}/{opType}";
            for (int n = 1; !_nodeNames.Add(name); n++)
            {
                name = $"{Prefix(node)}/{opType}_{n}";
            }

            _nodes.Add(new Node(opType, name, inputs, outputs, attributes, 0, int.MaxValue));
        }

        /// <summary>A float as C# source: the nearest float's shortest round-trip text and an <c>f</c>.</summary>
        public static string Single(double value)
        {
            string text = ((float)value).ToString("R", CultureInfo.InvariantCulture);
            if (text.IndexOf('E') >= 0 && text.IndexOf('.') < 0)
            {
                text = text.Replace("E", ".0E");
            }

            return text + "f";
        }

        public static string Escape(string text) => text.Replace("\\", "\\\\").Replace("\"", "\\\"");

        private string Prefix(GraphNode node) =>
            $"/{(node.Module >= 0 ? Spec.Modules[node.Module].Path : node.Op)}_{node.Id.ToString(CultureInfo.InvariantCulture)}";

        private string State(GraphNode node, string name, EquatableArray<StateTensor> tensors, string factory)
        {
            StateTensor tensor = Find(tensors, node, name) ?? throw new System.InvalidOperationException($"No state tensor '{name}' for node {node.Id}.");
            Add(tensor.Name, $"global::StaticGrad.Interchange.OnnxInitializer.{factory}(\"{Escape(tensor.Name)}\", {tensor.Offset.ToString(CultureInfo.InvariantCulture)}{string.Concat(tensor.Shape.Select(d => ", " + d.ToString(CultureInfo.InvariantCulture)))})");
            return tensor.Name;
        }

        private void Add(string name, string expression)
        {
            if (_initializerNames.Add(name))
            {
                _initializers.Add(new Initializer(name, expression));
            }
        }

        private StateTensor? Find(EquatableArray<StateTensor> tensors, GraphNode node, string name)
        {
            if (node.Module < 0)
            {
                return null;
            }

            string full = name.Length == 0 ? Spec.Modules[node.Module].Path : Spec.Modules[node.Module].Path + "." + name;
            foreach (StateTensor tensor in tensors)
            {
                if (tensor.Name == full)
                {
                    return tensor;
                }
            }

            return null;
        }
    }
}
