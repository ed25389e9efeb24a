using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Globalization;
using System.Linq;
using System.Threading;
using StaticGrad.Generators.Graph;
using StaticGrad.Generators.Graph.Ops;
using StaticGrad.Generators.Helpers;
using StaticGrad.Generators.Onnx;

namespace StaticGrad.Generators.Parsing.Onnx
{
    /// <summary>What an import gives: the graph's parts, ready for a <see cref="GraphSpec"/>, and the initial state.</summary>
    internal sealed class ImportedGraph
    {
        public ImportedGraph(List<GraphInput> inputs, List<GraphNode> nodes, List<(string Name, int Node)> outputs, List<ModuleEntry> modules, List<StateTensor> parameters, List<StateTensor> buffers, List<StateTensor> counters, float[] state)
        {
            Inputs = inputs;
            Nodes = nodes;
            Outputs = outputs;
            Modules = modules;
            Parameters = parameters;
            Buffers = buffers;
            Counters = counters;
            State = state;
        }

        public List<GraphInput> Inputs { get; }

        public List<GraphNode> Nodes { get; }

        /// <summary>The values the model returns: the ONNX name and the node of each, in the graph's order.</summary>
        public List<(string Name, int Node)> Outputs { get; }

        /// <summary>The node of the first (for most graphs the only) output.</summary>
        public int Output => Outputs[0].Node;

        public List<ModuleEntry> Modules { get; }

        public List<StateTensor> Parameters { get; }

        public List<StateTensor> Buffers { get; }

        public List<StateTensor> Counters { get; }

        /// <summary>The parameters' values then the buffers', in their flat arrays' order.</summary>
        public float[] State { get; }
    }

    /// <summary>
    /// Lowers a read ONNX graph into StaticGrad's graph of ops: the graph inputs (batch first, symbolic) become model inputs,
    /// constants fold (<c>Constant</c>, <c>Identity</c>, and the <c>Shape</c>→<c>Gather</c>→<c>Unsqueeze</c>→<c>Concat</c>
    /// chains PyTorch writes for <c>view(x.size(0), -1)</c>), and every other node goes to the op that claims its type
    /// (<see cref="OpDefinition.OnnxImports"/>), which adds graph nodes with their state: initializers keep their names.
    /// Errors name the node; the first one stops the import.
    /// </summary>
    internal sealed class OnnxImporter : IOnnxImport
    {
        /// <summary>The opsets of ONNX's own domain the importer reads.</summary>
        public const long MinimumOpset = 7, MaximumOpset = 18;

        /// <summary>The most state values (parameters and buffers) a model may import: 64 Mi floats, 256 MB.</summary>
        public const long MaxStateValues = 64L << 20;

        /// <summary>The node types the importer folds itself (when their inputs are constants), besides those ops claim.</summary>
        public static readonly ImmutableArray<string> FoldedOpTypes = ImmutableArray.Create("Cast", "Concat", "Constant", "Gather", "Identity", "Pad", "Shape", "Squeeze", "Transpose", "Unsqueeze");

        private readonly OnnxGraph _graph;
        private readonly Action<string, bool> _error;
        private readonly Dictionary<string, int> _values = new(StringComparer.Ordinal);
        private readonly Dictionary<string, OnnxTensor> _initializers = new(StringComparer.Ordinal);
        private readonly Dictionary<string, OnnxConstant> _constants = new(StringComparer.Ordinal);
        private readonly Dictionary<string, long[]> _integers = new(StringComparer.Ordinal);
        private readonly Dictionary<string, List<OnnxNode>> _consumers = new(StringComparer.Ordinal);
        private readonly HashSet<OnnxNode> _absorbed = new();
        private readonly List<GraphNode> _nodes = new();
        private readonly List<GraphInput> _inputs = new();
        private readonly List<ModuleEntry> _modules = new();
        private readonly List<StateTensor> _parameters = new(), _buffers = new(), _counters = new();
        private readonly List<float> _parameterValues = new(), _bufferValues = new();
        private readonly HashSet<string> _paths = new(StringComparer.Ordinal);
        private OnnxNode? _node;
        private readonly HashSet<string> _outputNames = new(StringComparer.Ordinal);
        private bool _failed;

        private OnnxImporter(OnnxGraph graph, long opset, Action<string, bool> error)
        {
            _graph = graph;
            Opset = opset;
            _error = error;
        }

        public static string SupportedOperators => string.Join(", ", OpCatalogue.OnnxOpTypes.Concat(FoldedOpTypes).Distinct().OrderBy(t => t, StringComparer.Ordinal));

        /// <summary>
        /// Imports <paramref name="model"/>; on an error calls <paramref name="error"/> once (a sentence naming the node, and
        /// whether the file itself is invalid: a cycle, an undefined value, no opset) and returns null.
        /// </summary>
        /// <param name="model">The read model.</param>
        /// <param name="output">The value or node name to end at (<c>[FromOnnx(Output = …)]</c>), or null for the graph's outputs (one or more).</param>
        /// <param name="error">Receives the error.</param>
        /// <param name="cancellationToken">Cancels.</param>
        public static ImportedGraph? Import(OnnxModel model, string? output, Action<string, bool> error, CancellationToken cancellationToken)
        {
            OnnxResult<long> opset = OnnxGraphCheck.DefaultOpset(model);
            if (!opset.IsSuccess)
            {
                error(opset.Error!.Message, true);
                return null;
            }

            if (opset.Value < MinimumOpset || opset.Value > MaximumOpset)
            {
                error($"the model uses opset {opset.Value} of ai.onnx; StaticGrad imports opsets {MinimumOpset} to {MaximumOpset}", false);
                return null;
            }

            OnnxResult<ImmutableArray<OnnxNode>> order = OnnxGraphCheck.TopologicalOrder(model.Graph);
            if (!order.IsSuccess)
            {
                error(order.Error!.Message, true);
                return null;
            }

            var importer = new OnnxImporter(model.Graph, opset.Value, error);
            return importer.Run(order.Value, output, cancellationToken);
        }

        private ImportedGraph? Run(ImmutableArray<OnnxNode> nodes, string? requested, CancellationToken cancellationToken)
        {
            if (_graph.Outputs.Length == 0 && requested is null)
            {
                return Fail("the graph has no outputs; name the value to end at with Output = \"…\"");
            }

            string[] outputNames = _graph.Outputs.Select(o => o.Name).ToArray();
            if (requested is not null)
            {
                OnnxNode? named = nodes.FirstOrDefault(n => n.Name == requested && n.Outputs.Length > 0);
                if (named is null && !nodes.Any(n => n.Outputs.Contains(requested)))
                {
                    return Fail($"Output = \"{requested}\" names no value or node of the graph; its nodes are {string.Join(", ", nodes.Where(n => n.Name.Length > 0).Select(n => n.Name).Take(40))}");
                }

                outputNames = new[] { named?.Outputs[0] ?? requested };
            }

            nodes = Needed(OnnxFusion.Fuse(nodes, _graph), outputNames);
            _outputNames.UnionWith(outputNames);

            foreach (OnnxTensor initializer in _graph.Initializers)
            {
                _initializers[initializer.Name] = initializer;
            }

            foreach (OnnxNode node in nodes)
            {
                foreach (string input in node.Inputs)
                {
                    if (!_consumers.TryGetValue(input, out List<OnnxNode>? list))
                    {
                        _consumers[input] = list = new List<OnnxNode>();
                    }

                    list.Add(node);
                }
            }

            if (!ReadInputs())
            {
                return null;
            }

            foreach (OnnxNode node in nodes)
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (_absorbed.Contains(node))
                {
                    continue;
                }

                _node = node;
                ImportNode(node);
                if (_failed)
                {
                    return null;
                }
            }

            _node = null;
            var outputs = new List<(string Name, int Node)>();
            foreach (string outputName in outputNames)
            {
                if (!_values.TryGetValue(outputName, out int output) || _nodes[output].Inputs.Count == 0)
                {
                    return Fail($"the graph's output '{outputName}' is {(_values.ContainsKey(outputName) ? "one of its inputs" : "a constant")}, not computed from the input");
                }

                if (outputs.FirstOrDefault(o => o.Node == output) is { Name: { } same })
                {
                    return Fail($"the graph's outputs '{same}' and '{outputName}' are the same value; a model returns each value once");
                }

                outputs.Add((outputName, output));
            }

            if ((long)_parameterValues.Count + _bufferValues.Count > MaxStateValues)
            {
                return Fail($"the model has {OnnxError.Count((long)_parameterValues.Count + _bufferValues.Count)} parameter and buffer values; StaticGrad imports at most {OnnxError.Count(MaxStateValues)} (256 MB of floats)");
            }

            float[] state = new float[_parameterValues.Count + _bufferValues.Count];
            _parameterValues.CopyTo(state, 0);
            _bufferValues.CopyTo(state, _parameterValues.Count);
            return new ImportedGraph(_inputs, _nodes, outputs, _modules, _parameters, _buffers, _counters, state);
        }

        /// <summary>The nodes the values <paramref name="outputs"/> depend on, in order: a node nothing needs is not imported.</summary>
        private static ImmutableArray<OnnxNode> Needed(ImmutableArray<OnnxNode> nodes, IEnumerable<string> outputs)
        {
            var producer = new Dictionary<string, OnnxNode>(StringComparer.Ordinal);
            foreach (OnnxNode node in nodes)
            {
                foreach (string value in node.Outputs)
                {
                    producer[value] = node;
                }
            }

            var needed = new HashSet<OnnxNode>();
            var pending = new Stack<string>(outputs);
            while (pending.Count > 0)
            {
                if (producer.TryGetValue(pending.Pop(), out OnnxNode? node) && needed.Add(node))
                {
                    foreach (string input in node.Inputs)
                    {
                        pending.Push(input);
                    }
                }
            }

            return nodes.Where(needed.Contains).ToImmutableArray();
        }

        private ImportedGraph? Fail(string message)
        {
            Error(message);
            return null;
        }

        private void Error(string message)
        {
            if (!_failed)
            {
                _failed = true;
                _error(_node is null ? message : $"{_node.Describe()}: {message}", false);
            }
        }

        // ---- graph inputs ----

        private bool ReadInputs()
        {
            var names = new HashSet<string>(StringComparer.Ordinal);
            foreach (OnnxValueInfo input in _graph.Inputs)
            {
                if (_initializers.ContainsKey(input.Name))
                {
                    continue; // IR version 3 and below list initializers as inputs too
                }

                if (input.Kind != OnnxTypeKind.Tensor || input.Shape.IsDefault)
                {
                    Error($"the graph input '{input.Name}' has no tensor shape; StaticGrad needs its dimensions (the batch first)");
                    return false;
                }

                bool tokens = input.ElementType is OnnxDataType.Int64 or OnnxDataType.Int32; // token ids, which an embedding (Gather) reads
                if (input.ElementType != OnnxDataType.Float && !tokens)
                {
                    Error($"the graph input '{input.Name}' holds {OnnxDataType.Name(input.ElementType)} values; StaticGrad imports float inputs and int64 token ids");
                    return false;
                }

                if (input.Shape.Length < 2 || input.Shape.Length > 5)
                {
                    Error($"the graph input '{input.Name}' has rank {input.Shape.Length}; StaticGrad imports inputs of shape [batch, d1, …] with 1 to 4 dimensions after the batch");
                    return false;
                }

                var shape = new int[input.Shape.Length - 1];
                for (int i = 1; i < input.Shape.Length; i++)
                {
                    OnnxDimension dimension = input.Shape[i];
                    if (!dimension.IsStatic || dimension.Value!.Value <= 0 || dimension.Value.Value > int.MaxValue / 64)
                    {
                        Error($"dimension {i} of the graph input '{input.Name}' is {(dimension.IsStatic ? dimension.ToString() : $"'{dimension}', not a number")}; only the batch (dimension 0) may be symbolic — export with dynamic_axes on the batch only");
                        return false;
                    }

                    shape[i - 1] = (int)dimension.Value.Value;
                }

                string name = Identifier(input.Name, names);
                EquatableArray<int> dims = EquatableArray.Of(shape);
                int id = _nodes.Count;
                OpDefinition op = tokens ? InputOp.Tokens : InputOp.Instance;
                _nodes.Add(new GraphNode(id, op.Key, EquatableArray.Empty<int>(), dims, new OpSettings(dims, EquatableArray.Empty<double>(), name), -1, $"graph input '{input.Name}'"));
                _inputs.Add(new GraphInput(name, dims, id, tokens));
                _values[input.Name] = id;
            }

            if (_inputs.Count == 0)
            {
                Error("the graph has no input besides its initializers");
                return false;
            }

            return true;
        }

        /// <summary>A C# parameter name for an ONNX value name: letters, digits and underscores, not starting with a digit, unique.</summary>
        private static string Identifier(string name, HashSet<string> taken)
        {
            var text = new System.Text.StringBuilder();
            foreach (char c in name)
            {
                text.Append(char.IsLetterOrDigit(c) && c < 128 ? c : '_');
            }

            string result = text.Length == 0 || char.IsDigit(text[0]) ? "input" + text : text.ToString();
            if (Microsoft.CodeAnalysis.CSharp.SyntaxFacts.GetKeywordKind(result) != Microsoft.CodeAnalysis.CSharp.SyntaxKind.None || result is "inputs" or "outputs" or "batch")
            {
                result += "_";
            }

            string unique = result;
            for (int i = 2; !taken.Add(unique); i++)
            {
                unique = result + i.ToString(CultureInfo.InvariantCulture);
            }

            return unique;
        }

        // ---- nodes ----

        private void ImportNode(OnnxNode node)
        {
            if (node.Domain is not ("" or "ai.onnx"))
            {
                Unsupported($"its domain '{node.Domain}' is not ONNX's own (ai.onnx)");
                return;
            }

            if (TryFold(node))
            {
                return;
            }

            if (_failed)
            {
                return;
            }

            if (node.OpType == "Identity" && node.Inputs.Length == 1 && _values.TryGetValue(node.Inputs[0], out int same))
            {
                Output(same);
                return;
            }

            if (OpCatalogue.ForOnnx(node.OpType) is not { } op)
            {
                Error($"the operator {node.OpType} (opset {Opset}) is not supported; StaticGrad imports {SupportedOperators}");
                return;
            }

            op.ImportOnnx(this);
            if (!_failed && (node.Outputs.Length == 0 || !Defined(node.Outputs[0])))
            {
                Error("the op that imports it gave no output");
            }
        }

        private bool Defined(string name) => _values.ContainsKey(name) || _constants.ContainsKey(name) || _integers.ContainsKey(name);

        /// <summary>Folds a node whose inputs are all constant (or a <c>Shape</c> of a computed value); false when it is not such a node.</summary>
        private bool TryFold(OnnxNode node)
        {
            string output = node.Outputs.Length > 0 ? node.Outputs[0] : string.Empty;
            switch (node.OpType)
            {
                case "Constant":
                    {
                        OnnxAttribute? value = node.Attributes.FirstOrDefault();
                        if (value is null)
                        {
                            Unsupported("it has no value attribute");
                            return true;
                        }

                        switch (value.Name)
                        {
                            case "value" when value.T is { } tensor:
                                Constant(output, tensor);
                                return true;
                            case "value_float":
                                _constants[output] = new OnnxConstant(output, Array.Empty<long>(), new[] { value.F });
                                return true;
                            case "value_floats":
                                _constants[output] = new OnnxConstant(output, new long[] { value.Floats.Length }, value.Floats.ToArray());
                                return true;
                            case "value_int":
                                _integers[output] = new[] { value.I };
                                return true;
                            case "value_ints":
                                _integers[output] = value.Ints.ToArray();
                                return true;
                            default:
                                Unsupported($"its value is given as '{value.Name}'");
                                return true;
                        }
                    }

                case "Transpose" when node.Inputs.Length == 1 && !_values.ContainsKey(node.Inputs[0]) && FloatConstant(node.Inputs[0]) is { Dims.Length: 2 } matrix:
                    {
                        long[]? perm = Ints("perm");
                        if (perm is not null && !(perm.Length == 2 && perm[0] == 1 && perm[1] == 0))
                        {
                            Unsupported($"perm [{string.Join(", ", perm)}] of a constant matrix");
                            return true;
                        }

                        _constants[output] = matrix.Transposed(); // keeps the initializer's name: the weight of a Linear exported as MatMul
                        return true;
                    }

                case "Pad" when node.Inputs.Length >= 1 && _values.TryGetValue(node.Inputs[0], out int padded):
                    {
                        // PyTorch writes an explicit Pad of zeros before AveragePool; only that (no padding at all) imports.
                        long[]? pads = Opset >= 11 ? (node.Inputs.Length > 1 && node.Inputs[1].Length > 0 ? IntegersOf(node.Inputs[1]) : null) : Ints("pads");
                        if (pads is null || pads.Any(p => p != 0))
                        {
                            Unsupported($"pads [{(pads is null ? "not constant" : string.Join(", ", pads))}]: only a Pad that adds nothing imports (pad inside Conv2d instead)");
                            return true;
                        }

                        _values[output] = padded;
                        return true;
                    }

                case "Identity" when node.Inputs.Length == 1 && !_values.ContainsKey(node.Inputs[0]):
                    return Alias(node.Inputs[0], output);
                case "Cast" when node.Inputs.Length == 1 && !_values.ContainsKey(node.Inputs[0]):
                    return Alias(node.Inputs[0], output);
                case "Shape" when node.Inputs.Length == 1 && _values.TryGetValue(node.Inputs[0], out int shaped):
                    {
                        EquatableArray<int> shape = _nodes[shaped].Shape;
                        var dims = new long[shape.Count + 1];
                        dims[0] = OnnxConstant.Batch;
                        for (int i = 0; i < shape.Count; i++)
                        {
                            dims[i + 1] = shape[i];
                        }

                        long start = Clamp(Int("start", 0), dims.Length), end = Clamp(Int("end", dims.Length), dims.Length);
                        _integers[output] = dims.Skip((int)start).Take((int)Math.Max(0, end - start)).ToArray();
                        return true;
                    }

                case "Gather" when node.Inputs.Length == 2 && IntegersOf(node.Inputs[0]) is { } data && IntegersOf(node.Inputs[1]) is { } indices:
                    {
                        if (Int("axis", 0) != 0 || data.Length == 0)
                        {
                            Unsupported("a gather of constant integers along an axis other than 0");
                            return true;
                        }

                        var result = new long[indices.Length];
                        for (int i = 0; i < indices.Length; i++)
                        {
                            long index = indices[i] < 0 ? indices[i] + data.Length : indices[i];
                            if (index < 0 || index >= data.Length)
                            {
                                Unsupported($"index {indices[i]} is outside the {data.Length} values it gathers from");
                                return true;
                            }

                            result[i] = data[index];
                        }

                        _integers[output] = result;
                        return true;
                    }

                case "Unsqueeze" or "Squeeze" when node.Inputs.Length >= 1 && !_values.ContainsKey(node.Inputs[0]) && IntegersOf(node.Inputs[0]) is { } values:
                    _integers[output] = values; // a scalar and a vector of one hold the same integers
                    return true;
                case "Concat" when node.Inputs.Length > 0 && node.Inputs.All(i => !_values.ContainsKey(i) && IntegersOf(i) is not null):
                    _integers[output] = node.Inputs.SelectMany(i => IntegersOf(i)!).ToArray();
                    return true;
                default:
                    return false;
            }
        }

        private static long Clamp(long index, int length) => Math.Max(0, Math.Min(length, index < 0 ? index + length : index));

        private bool Alias(string input, string output)
        {
            if (_constants.TryGetValue(input, out OnnxConstant? constant))
            {
                _constants[output] = constant;
            }
            else if (IntegersOf(input) is { } integers)
            {
                _integers[output] = integers;
            }
            else if (_initializers.TryGetValue(input, out OnnxTensor? tensor))
            {
                Constant(output, tensor);
            }
            else
            {
                return false;
            }

            return true;
        }

        private void Constant(string name, OnnxTensor tensor)
        {
            if (tensor.DataType == OnnxDataType.Float)
            {
                OnnxResult<float[]> values = tensor.DecodeFloats();
                if (values.IsSuccess)
                {
                    _constants[name] = new OnnxConstant(name, tensor.Dims.ToArray(), values.Value!);
                }
                else
                {
                    Error(values.Error!.Message);
                }
            }
            else if (tensor.DataType is OnnxDataType.Int64 or OnnxDataType.Int32)
            {
                OnnxResult<long[]> values = tensor.DecodeIntegers();
                if (values.IsSuccess)
                {
                    _integers[name] = values.Value!;
                }
                else
                {
                    Error(values.Error!.Message);
                }
            }
            else
            {
                Unsupported($"its constant holds {OnnxDataType.Name(tensor.DataType)} values");
            }
        }

        /// <summary>A value as constant integers (a folded one, or an int initializer), or null.</summary>
        private long[]? IntegersOf(string name)
        {
            if (_integers.TryGetValue(name, out long[]? values))
            {
                return values;
            }

            if (_initializers.TryGetValue(name, out OnnxTensor? tensor) && tensor.DataType is OnnxDataType.Int64 or OnnxDataType.Int32 && tensor.ElementCount <= 64)
            {
                OnnxResult<long[]> decoded = tensor.DecodeIntegers();
                if (decoded.IsSuccess)
                {
                    _integers[name] = decoded.Value!;
                    return decoded.Value;
                }
            }

            return null;
        }

        /// <summary>A float constant by value name: a folded one, or an initializer (decoded once).</summary>
        private OnnxConstant? FloatConstant(string name)
        {
            if (_constants.TryGetValue(name, out OnnxConstant? constant))
            {
                return constant;
            }

            if (_initializers.TryGetValue(name, out OnnxTensor? tensor) && tensor.DataType == OnnxDataType.Float)
            {
                OnnxResult<float[]> values = tensor.DecodeFloats();
                if (!values.IsSuccess)
                {
                    Error(values.Error!.Message);
                    return null;
                }

                return _constants[name] = new OnnxConstant(name, tensor.Dims.ToArray(), values.Value!);
            }

            return null;
        }

        // ---- IOnnxImport ----

        public OnnxNode Node => _node!;

        public long Opset { get; }

        public int InputCount => Node.Inputs.Length;

        public bool HasInput(int index) => index < Node.Inputs.Length && Node.Inputs[index].Length > 0;

        public bool IsValue(int index) => HasInput(index) && _values.ContainsKey(Node.Inputs[index]);

        public int Value(int index)
        {
            if (IsValue(index))
            {
                return _values[Node.Inputs[index]];
            }

            Error(HasInput(index) ? $"input {index} ('{Node.Inputs[index]}') is a constant where a value computed from the graph's input is expected" : $"input {index} is missing");
            return -1;
        }

        public EquatableArray<int> Shape(int value) => value >= 0 && value < _nodes.Count ? _nodes[value].Shape : EquatableArray.Empty<int>();

        public OnnxConstant? Constant(int index)
        {
            if (!HasInput(index))
            {
                Error($"input {index} is missing (a weight StaticGrad needs)");
                return null;
            }

            string name = Node.Inputs[index];
            if (FloatConstant(name) is { } constant)
            {
                return constant;
            }

            if (!_failed)
            {
                Error(_values.ContainsKey(name)
                    ? $"input {index} ('{name}') is computed, where StaticGrad needs a constant (an initializer)"
                    : _initializers.ContainsKey(name) || _integers.ContainsKey(name)
                        ? $"the initializer '{name}' (input {index}) does not hold floats"
                        : $"the initializer '{name}' (input {index}) is missing from the file");
            }

            return null;
        }

        public OnnxConstant? ConstantOf(OnnxNode node, int index) =>
            index < node.Inputs.Length && !_values.ContainsKey(node.Inputs[index]) ? FloatConstant(node.Inputs[index]) : null;

        public long[]? Integers(int index)
        {
            if (HasInput(index) && !_values.ContainsKey(Node.Inputs[index]) && IntegersOf(Node.Inputs[index]) is { } values)
            {
                return values;
            }

            Error(HasInput(index) ? $"input {index} ('{Node.Inputs[index]}') is not a constant list of integers (StaticGrad folds Constant, Shape, Gather, Unsqueeze and Concat into one)" : $"input {index} is missing");
            return null;
        }

        public long Int(string name, long fallback) => Node.Attribute(name) is { Type: OnnxAttributeType.Int } a ? a.I : fallback;

        public double Float(string name, double fallback) => Node.Attribute(name) is { Type: OnnxAttributeType.Float } a ? a.F : fallback;

        public long[]? Ints(string name) => Node.Attribute(name) is { Type: OnnxAttributeType.Ints } a ? a.Ints.ToArray() : null;

        public string Text(string name, string fallback) => Node.Attribute(name) is { Type: OnnxAttributeType.String } a ? a.S : fallback;

        public void Unsupported(string reason) => Error($"cannot be imported: {reason}");

        public void Output(int value)
        {
            if (value < 0 || Node.Outputs.Length == 0)
            {
                return;
            }

            _values[Node.Outputs[0]] = value;
            foreach (OnnxNode absorbed in _absorbed)
            {
                if (absorbed.Inputs.Contains(Node.Outputs[0]) && absorbed.Outputs.Length > 0)
                {
                    _values[absorbed.Outputs[0]] = value;
                }
            }
        }

        public OnnxNode? SoleConsumer()
        {
            if (Node.Outputs.Length == 0 || _graph.Outputs.Any(o => o.Name == Node.Outputs[0]) || _outputNames.Contains(Node.Outputs[0]))
            {
                return null;
            }

            return _consumers.TryGetValue(Node.Outputs[0], out List<OnnxNode>? list) && list.Count == 1 ? list[0] : null;
        }

        public void Absorb(OnnxNode node) => _absorbed.Add(node);

        public int Add(OpDefinition op, OpSettings settings, int[] inputs, IReadOnlyDictionary<string, OnnxConstant>? state = null)
        {
            if (inputs.Any(i => i < 0) || _failed)
            {
                return -1;
            }

            foreach (int input in inputs)
            {
                if (OpCatalogue.Of(_nodes[input].Op).HoldsIntegers && op.IndexLimit(settings) is null)
                {
                    Unsupported($"it reads the token ids '{_nodes[input].Settings.Text}' as numbers; only an embedding (a Gather from a constant table) reads ids");
                    return -1;
                }
            }

            var shapes = inputs.Select(i => _nodes[i].Shape).ToList();
            var errors = new ShapeErrors();
            EquatableArray<int>? shape = op.InferShape(settings, shapes, errors);
            if (shape is not { } known || errors.Message is not null)
            {
                Unsupported(errors.Message ?? $"{op.Describe(settings)} does not fit its input {string.Join(" and ", shapes.Select(s => Shapes.Text(s)))}");
                return -1;
            }

            if (known.Count == 0 || known.Count > 4 || Shapes.LongSize(known) > int.MaxValue / 64)
            {
                Unsupported($"its value per example would be {Shapes.Text(known)}; StaticGrad's values have 1 to 4 dimensions and fit an array");
                return -1;
            }

            int module = -1;
            List<StateDeclaration> declarations = op.State(settings).ToList();
            if (declarations.Count > 0)
            {
                module = AddModule(op, settings, declarations, state ?? new Dictionary<string, OnnxConstant>());
                if (module < 0)
                {
                    return -1;
                }
            }

            int id = _nodes.Count;
            string source = $"ONNX {Node.Describe()}";
            _nodes.Add(new GraphNode(id, op.Key, EquatableArray.Of(inputs), known, settings, module, source));
            return id;
        }

        private int AddModule(OpDefinition op, OpSettings settings, List<StateDeclaration> declarations, IReadOnlyDictionary<string, OnnxConstant> state)
        {
            string path = ModulePath(declarations, state);
            foreach (StateDeclaration declaration in declarations)
            {
                if (declaration.Kind == StateKind.Counter)
                {
                    continue;
                }

                if (!state.TryGetValue(declaration.Name, out OnnxConstant? value) || value.Values.Length != Shapes.Size(declaration.Shape))
                {
                    Unsupported($"{op.Describe(settings)} needs its {declaration.Name} ({Shapes.Text(declaration.Shape)}), which the node does not give{(value is null ? string.Empty : $" ({value.Describe()})")}");
                    return -1;
                }
            }

            int index = _modules.Count;
            _modules.Add(new ModuleEntry(path, op.Key, settings, op.Describe(settings)));
            foreach (StateDeclaration declaration in declarations)
            {
                string name = declaration.Name.Length == 0 ? path : $"{path}.{declaration.Name}";
                switch (declaration.Kind)
                {
                    case StateKind.Parameter:
                        _parameters.Add(new StateTensor(name, declaration.Shape, _parameterValues.Count, declaration.IsWeight, InitKind.Zeros, declaration.FanIn));
                        _parameterValues.AddRange(state[declaration.Name].Values);
                        break;
                    case StateKind.Buffer:
                        _buffers.Add(new StateTensor(name, declaration.Shape, _bufferValues.Count, false, InitKind.Zeros, 0));
                        _bufferValues.AddRange(state[declaration.Name].Values);
                        break;
                    default:
                        _counters.Add(new StateTensor(name, declaration.Shape, _counters.Count, false, InitKind.Zeros, 0));
                        break;
                }
            }

            return index;
        }

        /// <summary>
        /// The module's path: the prefix the file's names share (<c>fc1</c> from <c>fc1.weight</c> and <c>fc1.bias</c>), so the
        /// state keeps the initializers' names; else the node's name made a dotted path without its op type, PyTorch's module
        /// path (<c>/layer1/Conv</c> → <c>layer1</c>; a name that is only the op type stays: <c>Conv</c>).
        /// </summary>
        private string ModulePath(List<StateDeclaration> declarations, IReadOnlyDictionary<string, OnnxConstant> state)
        {
            string? path = null;
            if (declarations.Count == 1 && declarations[0].Name.Length == 0 && state.TryGetValue(string.Empty, out OnnxConstant? own))
            {
                path = own.Name; // a tensor that is its own state (a constant): the file's name for it
            }

            foreach (StateDeclaration declaration in declarations)
            {
                if (declaration.Name.Length > 0 && state.TryGetValue(declaration.Name, out OnnxConstant? value) && value.Name.EndsWith("." + declaration.Name, StringComparison.Ordinal))
                {
                    path = value.Name.Substring(0, value.Name.Length - declaration.Name.Length - 1);
                    break;
                }
            }

            if (path is null || path.Length == 0)
            {
                // PyTorch names a node /<module path>/<op type>[_n]: the module's path is the state dict's prefix
                // (/blocks.0/query/MatMul → blocks.0.query, as a bias-less nn.Linear's weight is blocks.0.query.weight).
                string[] parts = Node.Name.Trim('/').Split('/');
                string last = parts[parts.Length - 1];
                bool opName = parts.Length > 1 && (last == Node.OpType || (last.StartsWith(Node.OpType + "_", StringComparison.Ordinal) && last.Substring(Node.OpType.Length + 1).All(char.IsDigit)));
                string name = string.Join(".", opName ? parts.Take(parts.Length - 1) : parts);
                path = name.Length == 0 ? Node.OpType.ToLowerInvariant() + Node.Index.ToString(CultureInfo.InvariantCulture) : name;
            }

            string unique = path;
            for (int i = 2; !_paths.Add(unique); i++)
            {
                unique = path + "_" + i.ToString(CultureInfo.InvariantCulture);
            }

            return unique;
        }

        private sealed class ShapeErrors : IShapeErrors
        {
            public string? Message { get; private set; }

            public void Error(string message) => Message ??= message;

            public void Error(string message, string argument, int expected) => Message ??= message;
        }
    }
}
