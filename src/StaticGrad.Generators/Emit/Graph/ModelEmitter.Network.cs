using System.Linq;
using StaticGrad.Generators.Graph;
using StaticGrad.Generators.Graph.Ops;

namespace StaticGrad.Generators.Emit.Graph
{
    /// <summary>
    /// The passes of an attribute network lowered onto the graph (Emit/Network/NetworkLowering.cs): the same node methods a
    /// <c>[Model]</c> gets, over the network's own buffers: node i's value is <c>_activations[i]</c> (a Flatten's is its
    /// input's array) and the gradients go through the network's two scratch buffers in turn, node i's in
    /// <c>_gradientScratch[(last − i) % 2]</c>, so the output's gradient is read from <c>_gradientScratch[0]</c> and the
    /// input's lands in <c>_gradientScratch[last % 2]</c>, as the network's Backward expects.
    /// </summary>
    internal static partial class ModelEmitter
    {
        /// <summary>The names of a lowered network's buffers, for the ops' writers.</summary>
        public static GraphCode NetworkGraphCode(GraphSpec graph)
        {
            int last = graph.Nodes.Count - 1;
            var code = new GraphCode(graph)
            {
                ValueNames = id => $"_activations[{Int(id)}]",
                GradientNames = id => $"_gradientScratch[{Int((last - id) % 2)}]",
                ReplaceGradients = "_replaceGradients",
                InputSpan = ReadersTakeSpans(graph) ? "inputs" : null,
            };
            FindReplacingNodes(code, Route(code));
            return code;
        }

        /// <summary>Whether every op that reads the input (itself or through views) reads it as a span: the batch then stays where the caller has it.</summary>
        private static bool ReadersTakeSpans(GraphSpec graph)
        {
            var input = new System.Collections.Generic.HashSet<int>();
            foreach (GraphNode node in graph.Nodes)
            {
                OpDefinition op = OpCatalogue.Of(node.Op);
                if (op.IsInput || op.IsView && input.Contains(node.Inputs[0]))
                {
                    input.Add(node.Id);
                }
                else if (node.Inputs.Any(input.Contains) && !op.ReadsInputsAsSpans)
                {
                    return false;
                }
            }

            return true;
        }

        /// <summary>The ops' own fields (masks, recorded indices, scratch), <c>_node{id}…</c>.</summary>
        public static void WriteNetworkFields(SourceWriter w, GraphCode code)
        {
            w.Line("// True during TrainStep's backward pass: the ops write the parameters' gradients instead of adding to them.");
            w.Line("private bool _replaceGradients;");
            w.Line();
            foreach (GraphNode node in code.Spec.Nodes)
            {
                OpCatalogue.Of(node.Op).WriteFields(w, code, node);
            }
        }

        /// <summary>The constructor's statements that allocate those fields (<c>maxBatchSize</c> in scope).</summary>
        public static void WriteNetworkAllocation(SourceWriter w, GraphCode code)
        {
            foreach (GraphNode node in code.Spec.Nodes)
            {
                OpCatalogue.Of(node.Op).WriteAllocation(w, code, node);
            }
        }

        /// <summary>
        /// The network's <c>RunForward(inputs, batch)</c> and <c>RunBackward(inputs, batch, computeInputGradient,
        /// accumulateGradients)</c> over the nodes, then each node's forward and backward methods.
        /// </summary>
        /// <param name="w">The network's file.</param>
        /// <param name="code">The lowered network (<see cref="NetworkGraphCode"/>).</param>
        /// <param name="describe">How node <c>id</c> reads in the calls' comments (the layer as written).</param>
        public static void WriteNetworkPasses(SourceWriter w, GraphCode code, System.Func<int, string> describe)
        {
            GraphSpec spec = code.Spec;
            string t = E(spec);
            Routing routing = Route(code);
            // A chain reads each value once: no gradient is added to another, and no scratch buffer is needed.
            w.Line("// Callers have checked that inputs holds exactly batch examples, 1 ≤ batch ≤ MaxBatchSize.");
            if (code.InputSpan is not null)
            {
                w.Line("// The nodes read the batch where it is (Forward has copied it to _activations[0]; TrainStep and Predict pass the");
                w.Line("// caller's span); the stored values then belong to this pass, so Backward waits for the next Forward.");
                w.Open($"private void RunForward(global::System.ReadOnlySpan<{t}> inputs, int batch)");
                w.Line("_batch = 0;");
            }
            else
            {
                w.Line("// The nodes read the batch from _activations[0] (Forward has put it there; TrainStep and Predict pass their own spans,");
                w.Line("// copied); the stored values then belong to this pass, so Backward waits for the next Forward.");
                w.Open($"private void RunForward(global::System.ReadOnlySpan<{t}> inputs, int batch)");
                w.Line("_batch = 0;");
                w.Open($"if (!global::System.MemoryExtensions.Overlaps(inputs, _activations[0]))");
                w.Line("inputs.CopyTo(_activations[0]);");
                w.Close();
                w.Line();
            }

            foreach (GraphNode node in spec.Nodes)
            {
                OpDefinition op = OpCatalogue.Of(node.Op);
                if (op.IsView)
                {
                    w.Line($"// %{Int(node.Id)} = {describe(node.Id)}: a view of %{Int(node.Inputs[0])}, nothing to compute");
                }
                else if (!op.IsInput)
                {
                    w.Line($"Node{Int(node.Id)}Forward({code.NodeArguments(node)}); // %{Int(node.Id)} = {describe(node.Id)}");
                }
            }

            w.Close();
            w.Line();
            w.Line("// From ∂L/∂(last output) in _gradientScratch[0] back through every node; each reads one scratch buffer and writes the");
            w.Line("// other. accumulateGradients: add to the parameters' gradients (Backward) or replace them (TrainStep, which then needs");
            w.Line("// no pass to clear them). inputs is the batch the forward pass ran on.");
            w.Open($"private void RunBackward(global::System.ReadOnlySpan<{t}> inputs, int batch, bool computeInputGradient, bool accumulateGradients)");
            w.Line("_replaceGradients = !accumulateGradients;");
            WriteClearUnreplaced(w, code, "_replaceGradients");

            w.Line();
            // One list of calls: only the node that reads the input has a variant that also writes its gradient.
            for (int id = spec.Nodes.Count - 1; id >= 0; id--)
            {
                string arguments = code.NodeArguments(spec.Nodes[id]);
                string call = $"Node{Int(id)}Backward({arguments}); // %{Int(id)} = {describe(id)}";
                if (!DiffersToInput(routing, id))
                {
                    if (routing.Targets.ContainsKey(id))
                    {
                        w.Line(call);
                    }
                }
                else if (routing.Targets.ContainsKey(id))
                {
                    w.Line($"if (computeInputGradient) Node{Int(id)}BackwardToInput({arguments}); else {call}");
                }
                else
                {
                    w.Line($"if (computeInputGradient) Node{Int(id)}BackwardToInput({arguments}); // %{Int(id)} = {describe(id)}");
                }
            }

            w.Line("_replaceGradients = false;");
            w.Close();
            w.Line();
            WriteNodes(w, code, routing);
        }

        /// <summary>The kernel shapes the nodes share (GEMM shapes, convolution shapes), each once.</summary>
        public static void WriteNetworkShared(SourceWriter w, GraphCode code) => WriteShared(w, code);
    }
}
