using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Text;

namespace StaticGrad.Generators.Onnx
{
    /// <summary>
    /// Graph-level checks of a read <see cref="OnnxModel"/>, pure functions with no Roslyn in them: the opset of the default
    /// domain, and an order of the nodes in which every input is defined before it is read (which finds cycles, values
    /// that nothing defines and values defined twice). Each runs in time linear in the graph's size.
    /// </summary>
    internal static class OnnxGraphCheck
    {
        /// <summary>
        /// The opset version the model imports for ONNX's own operators (domain "" or "ai.onnx"), or an error when it
        /// imports none or two different ones.
        /// </summary>
        public static OnnxResult<long> DefaultOpset(OnnxModel model)
        {
            long? version = null;
            foreach (OnnxOpsetImport import in model.OpsetImports)
            {
                if (import.Domain is "" or "ai.onnx")
                {
                    if (version.HasValue && version.Value != import.Version)
                    {
                        return new OnnxError(OnnxErrorKind.MissingOpset, $"the model imports two opsets for the default domain (ai.onnx): {version.Value} and {import.Version}");
                    }

                    version = import.Version;
                }
            }

            if (!version.HasValue)
            {
                string imports = model.OpsetImports.IsEmpty ? "it imports no opset at all" : "it imports only " + string.Join(", ", model.OpsetImports.Select(o => o.ToString()));
                return new OnnxError(OnnxErrorKind.MissingOpset, $"the model imports no opset for the default domain (ai.onnx): {imports}");
            }

            if (version.Value < 1)
            {
                return new OnnxError(OnnxErrorKind.MissingOpset, $"the model imports opset {version.Value} for the default domain (ai.onnx); opsets start at 1");
            }

            return OnnxResult<long>.Success(version.Value);
        }

        /// <summary>
        /// The graph's nodes in an order where each node comes after the nodes whose outputs it reads: the file's order when
        /// that already is one (ONNX requires it; PyTorch writes it), else the nearest such order. An error when a node reads a
        /// value that no graph input, initializer or node output defines ("" is an omitted optional input and needs none),
        /// when a value is defined twice, when a graph output is not defined, or when the nodes form a cycle.
        /// </summary>
        public static OnnxResult<ImmutableArray<OnnxNode>> TopologicalOrder(OnnxGraph graph)
        {
            // What defines each value: -1 a graph input, -2 an initializer, else the producing node's index.
            var definitions = new Dictionary<string, int>(System.StringComparer.Ordinal);
            foreach (OnnxTensor initializer in graph.Initializers)
            {
                if (initializer.Name.Length == 0)
                {
                    continue;
                }

                if (definitions.ContainsKey(initializer.Name))
                {
                    return new OnnxError(OnnxErrorKind.DuplicateValue, $"the graph has two initializers named '{initializer.Name}'");
                }

                definitions.Add(initializer.Name, -2);
            }

            var inputs = new HashSet<string>(System.StringComparer.Ordinal);
            foreach (OnnxValueInfo input in graph.Inputs)
            {
                if (!inputs.Add(input.Name))
                {
                    return new OnnxError(OnnxErrorKind.DuplicateValue, $"the graph has two inputs named '{input.Name}'");
                }

                // An input may also be an initializer (its default value; IR versions below 4 list every initializer).
                if (!definitions.ContainsKey(input.Name))
                {
                    definitions.Add(input.Name, -1);
                }
            }

            ImmutableArray<OnnxNode> nodes = graph.Nodes;
            foreach (OnnxNode node in nodes)
            {
                foreach (string output in node.Outputs)
                {
                    if (output.Length == 0)
                    {
                        continue;
                    }

                    if (definitions.TryGetValue(output, out int other))
                    {
                        return new OnnxError(OnnxErrorKind.DuplicateValue, $"the value '{output}' is defined twice: by {Definer(nodes, other)} and by {node.Describe()}");
                    }

                    definitions.Add(output, node.Index);
                }
            }

            // Depth-first, from each node in file order, through the producers of its inputs (an explicit stack: a long chain
            // must not overflow the generator's thread). A node is emitted once all its producers are.
            var state = new byte[nodes.Length]; // 0 not seen, 1 on the stack, 2 emitted
            var order = ImmutableArray.CreateBuilder<OnnxNode>(nodes.Length);
            var stack = new List<(int Node, int Next)>();
            for (int root = 0; root < nodes.Length; root++)
            {
                if (state[root] != 0)
                {
                    continue;
                }

                stack.Add((root, 0));
                state[root] = 1;
                while (stack.Count > 0)
                {
                    (int current, int next) = stack[stack.Count - 1];
                    ImmutableArray<string> reads = nodes[current].Inputs;
                    if (next == reads.Length)
                    {
                        stack.RemoveAt(stack.Count - 1);
                        state[current] = 2;
                        order.Add(nodes[current]);
                        continue;
                    }

                    stack[stack.Count - 1] = (current, next + 1);
                    string input = reads[next];
                    if (input.Length == 0)
                    {
                        continue;
                    }

                    if (!definitions.TryGetValue(input, out int producer))
                    {
                        return new OnnxError(
                            OnnxErrorKind.UndefinedValue,
                            $"{nodes[current].Describe()} reads '{input}' (input {next}), which no graph input, initializer or node output defines (a missing initializer?)");
                    }

                    if (producer < 0 || state[producer] == 2)
                    {
                        continue;
                    }

                    if (state[producer] == 1)
                    {
                        return new OnnxError(OnnxErrorKind.Cycle, $"the graph has a cycle through {nodes[producer].Describe()}: {Cycle(nodes, stack, producer)}");
                    }

                    state[producer] = 1;
                    stack.Add((producer, 0));
                }
            }

            foreach (OnnxValueInfo output in graph.Outputs)
            {
                if (!definitions.ContainsKey(output.Name))
                {
                    return new OnnxError(OnnxErrorKind.UndefinedValue, $"the graph output '{output.Name}' is not a graph input, an initializer or a node's output");
                }
            }

            return OnnxResult<ImmutableArray<OnnxNode>>.Success(order.MoveToImmutable());
        }

        private static string Definer(ImmutableArray<OnnxNode> nodes, int definition) => definition switch
        {
            -1 => "a graph input",
            -2 => "an initializer",
            _ => nodes[definition].Describe(),
        };

        /// <summary>
        /// The nodes of the cycle in the direction data flows, from <paramref name="producer"/> back to it (at most ten, then
        /// "…"). The stack holds each node above the node that reads its output, and its top reads the producer's.
        /// </summary>
        private static string Cycle(ImmutableArray<OnnxNode> nodes, List<(int Node, int Next)> stack, int producer)
        {
            int from = stack.Count - 1;
            while (stack[from].Node != producer)
            {
                from--;
            }

            var text = new StringBuilder(Short(nodes[producer]));
            for (int i = stack.Count - 1, shown = 0; i > from; i--, shown++)
            {
                if (shown == 10)
                {
                    text.Append(" → …");
                    break;
                }

                text.Append(" → ").Append(Short(nodes[stack[i].Node]));
            }

            return text.Append(" → ").Append(Short(nodes[producer])).ToString();
        }

        private static string Short(OnnxNode node) => node.Name.Length == 0 ? "#" + node.Index.ToString(System.Globalization.CultureInfo.InvariantCulture) : "'" + node.Name + "'";
    }
}
