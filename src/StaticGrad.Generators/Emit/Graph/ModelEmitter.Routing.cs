using System.Collections.Generic;
using System.Linq;
using StaticGrad.Generators.Graph;
using StaticGrad.Generators.Graph.Ops;
using StaticGrad.Generators.Model;

namespace StaticGrad.Generators.Emit.Graph
{
    /// <summary>Gradient routing: which buffer each node's backward pass writes each input's gradient to, and where a value used twice adds.</summary>
    internal static partial class ModelEmitter
    {
        private sealed class Routing
        {
            public HashSet<int> Live { get; } = new();

            /// <summary>Per node, per input: the buffer to overwrite (null: not needed), and whether to add it to the input's gradient afterwards.</summary>
            public Dictionary<int, (string? Target, bool Add)[]> Targets { get; } = new();

            public int ScratchCount { get; set; }

            /// <summary>Values per example of the largest gradient that goes through scratch.</summary>
            public int ScratchSize { get; set; }

            /// <summary>The float input whose gradient Backward(outputGradients, inputGradients) computes; null without one.</summary>
            public int? InputNode { get; set; }

            /// <summary>The (node, input) pairs whose backward adds to the input's gradient buffer (the value's later uses, for ops that can).</summary>
            public HashSet<(int Node, int Input)> Accumulated { get; } = new();

            /// <summary>The same, in the pass that also computes the input's gradient.</summary>
            public HashSet<(int Node, int Input)> ToInputAccumulated { get; set; } = new();

            /// <summary>The targets of the pass that also computes the input's gradient.</summary>
            public Dictionary<int, (string? Target, bool Add)[]>? ToInputTargets { get; set; }

            /// <summary>Whether <paramref name="node"/> gets a gradient buffer (<c>_g</c>): a live value that is not an input, or the input whose gradient is wanted.</summary>
            public bool HasGradient(GraphNode node) => Live.Contains(node.Id) && (!OpCatalogue.Of(node.Op).IsInput || node.Id == InputNode);
        }

        /// <summary>
        /// The routing of the backward pass; for a model of one float input, also the routing of the pass that computes the
        /// input's gradient (<c>Backward(outputGradients, inputGradients)</c>): the same, except that the nodes which read
        /// the input write its gradient too, in variants of their own.
        /// </summary>
        private static Routing Route(GraphCode code)
        {
            GraphSpec spec = code.Spec;
            Routing routing = Route(code, gradientInput: null);
            if (OneFloatInput(spec) && routing.Live.Contains(spec.Inputs[0].Node))
            {
                Routing toInput = Route(code, spec.Inputs[0].Node);
                routing.InputNode = spec.Inputs[0].Node;
                routing.ToInputTargets = toInput.Targets;
                routing.ToInputAccumulated = toInput.Accumulated;
                routing.ScratchCount = System.Math.Max(routing.ScratchCount, toInput.ScratchCount);
                routing.ScratchSize = System.Math.Max(routing.ScratchSize, toInput.ScratchSize);
            }

            return routing;
        }

        /// <summary>
        /// Fills <see cref="GraphCode.ReplacingNodes"/>: where the class has a replace flag, the nodes of ops that can write their
        /// parameters' gradients (<see cref="OpDefinition.ReplacesParameterGradients"/>), of modules no other node calls (a
        /// module called twice adds its calls' gradients), whose backward runs. Every other parameter is cleared before a pass
        /// that replaces (<see cref="WriteClearUnreplaced"/>).
        /// </summary>
        private static void FindReplacingNodes(GraphCode code, Routing routing)
        {
            if (code.ReplaceGradients is null)
            {
                return;
            }

            var calls = new Dictionary<int, int>();
            foreach (GraphNode node in code.Spec.Nodes.Where(n => n.Module >= 0))
            {
                calls[node.Module] = calls.TryGetValue(node.Module, out int count) ? count + 1 : 1;
            }

            foreach (GraphNode node in code.Spec.Nodes)
            {
                if (node.Module >= 0 && calls[node.Module] == 1 && OpCatalogue.Of(node.Op).ReplacesParameterGradients && routing.Targets.ContainsKey(node.Id))
                {
                    code.ReplacingNodes.Add(node.Id);
                }
            }
        }

        /// <summary>
        /// The clears a pass that replaces the gradients needs first: every parameter no replacing node writes, adjacent ones
        /// as one range, each line guarded by <paramref name="condition"/> when one is given.
        /// </summary>
        private static void WriteClearUnreplaced(SourceWriter w, GraphCode code, string? condition)
        {
            var replaced = new HashSet<string>(code.ReplacingNodes.Select(id => code.Spec.Modules[code.Spec.Nodes[id].Module].Path + "."));
            var ranges = new List<(int Offset, int Count, string First, string Last)>();
            foreach (StateTensor tensor in code.Spec.Parameters.OrderBy(p => p.Offset))
            {
                if (replaced.Any(prefix => tensor.Name.StartsWith(prefix, System.StringComparison.Ordinal)))
                {
                    continue;
                }

                if (ranges.Count > 0 && ranges[ranges.Count - 1] is var last && last.Offset + last.Count == tensor.Offset)
                {
                    ranges[ranges.Count - 1] = (last.Offset, last.Count + tensor.Count, last.First, tensor.Name);
                }
                else
                {
                    ranges.Add((tensor.Offset, tensor.Count, tensor.Name, tensor.Name));
                }
            }

            foreach (var (offset, count, first, last) in ranges)
            {
                string names = first == last ? first : $"{first} … {last}";
                w.Line($"{(condition is null ? string.Empty : $"if ({condition}) ")}global::System.Array.Clear(_gradients, {Int(offset)}, {Int(count)}); // {names}: added to, not written, so cleared first");
            }
        }

        /// <summary>
        /// Whether node <paramref name="id"/> gets a <c>Node{id}BackwardToInput</c>: its targets differ in that pass (or those of
        /// the addition folded into it), or it is in a weight-gradient fold (which that pass does not take).
        /// </summary>
        private static bool HasToInputVariant(GraphCode code, Routing routing, int id) =>
            DiffersToInput(routing, id)
            || (code.ResidualFolds.TryGetValue(id, out int add) && DiffersToInput(routing, add))
            || (routing.ToInputTargets is { } other && other.ContainsKey(id) && (code.WeightGradientFolds.ContainsKey(id) || code.WeightGradientFolds.ContainsValue(id)));

        /// <summary>Whether a node's backward writes different buffers when the input's gradient is wanted (it then gets a variant).</summary>
        private static bool DiffersToInput(Routing routing, int id) =>
            routing.ToInputTargets is { } other && other.TryGetValue(id, out var theirs)
            && (!routing.Targets.TryGetValue(id, out var ours) || !ours.SequenceEqual(theirs)
                || Enumerable.Range(0, theirs.Length).Any(k => routing.Accumulated.Contains((id, k)) != routing.ToInputAccumulated.Contains((id, k))));

        private static Routing Route(GraphCode code, int? gradientInput)
        {
            GraphSpec spec = code.Spec;
            var routing = new Routing();
            var pending = new Stack<int>();
            foreach (GraphOutput output in spec.Outputs)
            {
                pending.Push(output.Node);
            }

            while (pending.Count > 0)
            {
                int id = pending.Pop();
                if (routing.Live.Add(id))
                {
                    foreach (int input in spec.Nodes[id].Inputs)
                    {
                        pending.Push(input);
                    }
                }
            }

            // Backward copies each output's gradient from the caller first: a use of an output inside the graph (another
            // output computed from it) then adds to that.
            var written = new HashSet<int>(spec.Outputs.Select(o => o.Node));
            for (int id = spec.Nodes.Count - 1; id >= 0; id--)
            {
                GraphNode node = spec.Nodes[id];
                OpDefinition op = OpCatalogue.Of(node.Op);
                if (!routing.Live.Contains(id) || op.IsInput)
                {
                    continue;
                }

                var targets = new (string?, bool)[node.Inputs.Count];
                for (int k = 0; k < node.Inputs.Count; k++)
                {
                    int input = node.Inputs[k];
                    bool trained = !OpCatalogue.Of(spec.Nodes[input].Op).IsInput || input == gradientInput;
                    if (!trained && !op.AlwaysWritesInputGradient)
                    {
                        targets[k] = (null, false);
                    }
                    else if (trained && written.Add(input))
                    {
                        targets[k] = (code.Gradient(input), false);
                    }
                    else if (trained && k == 0 && op.AccumulatesInputGradient)
                    {
                        // A later use (earlier in the backward order) already wrote the gradient: add to it in place.
                        targets[k] = (code.Gradient(input), false);
                        routing.Accumulated.Add((id, k));
                    }
                    else
                    {
                        targets[k] = ($"_gradientScratch{k}", trained);
                        routing.ScratchCount = System.Math.Max(routing.ScratchCount, k + 1);
                        routing.ScratchSize = System.Math.Max(routing.ScratchSize, spec.Nodes[input].Size);
                    }
                }

                routing.Targets[id] = targets;
            }

            return routing;
        }
    }
}
