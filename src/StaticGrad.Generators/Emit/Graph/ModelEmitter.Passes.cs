using System.Collections.Generic;
using System.Linq;
using StaticGrad.Generators.Graph;
using StaticGrad.Generators.Graph.Ops;
using StaticGrad.Generators.Model;

namespace StaticGrad.Generators.Emit.Graph
{
    /// <summary>The passes: RunForward and RunBackward in graph order, one Node{id}Forward/Node{id}Backward per node (the op's writers fill them), and the kernel shapes.</summary>
    internal static partial class ModelEmitter
    {
        private static void WriteRun(SourceWriter w, GraphCode code, Routing routing)
        {
            GraphSpec spec = code.Spec;
            w.Open("private void RunForward(int batch)");
            foreach (GraphNode node in spec.Nodes)
            {
                if (code.IsFoldedActivation(node.Id) || code.IsFoldedResidual(node.Id))
                {
                    w.Line($"// %{node.Id} = {Describe(spec, node)}: folded into Node{code.Host(node.Id)}Forward");
                }
                else if (code.IsFoldedPool(node.Id))
                {
                    w.Line($"// %{node.Id} = {Describe(spec, node)}: folded into Node{spec.Nodes[node.Inputs[0]].Inputs[0]}Forward");
                }
                else if (!OpCatalogue.Of(node.Op).IsInput && !OpCatalogue.Of(node.Op).IsView)
                {
                    w.Line($"Node{node.Id}Forward({code.NodeArguments(node)}); // %{node.Id} = {Describe(spec, node)}");
                }
            }

            w.Close();
            w.Line();
            w.Line($"/// <summary>From the {(spec.SingleOutput ? "output's gradient" : "outputs' gradients")} back to every parameter's, in reverse order; a value used twice gets the sum of what its uses give.</summary>");
            w.Open("private void RunBackward(int batch)");
            WriteBackwardCalls(w, code, routing.Targets, toInput: null);
            w.Close();
            w.Line();
            if (routing.ToInputTargets is { } toInputTargets)
            {
                w.Line("/// <summary>As RunBackward, and on to the gradient of the input (_g of the input node).</summary>");
                w.Open("private void RunBackwardToInput(int batch)");
                WriteBackwardCalls(w, code, toInputTargets, routing);
                w.Close();
                w.Line();
            }
        }

        private static void WriteBackwardCalls(SourceWriter w, GraphCode code, Dictionary<int, (string? Target, bool Add)[]> all, Routing? toInput)
        {
            GraphSpec spec = code.Spec;
            for (int id = spec.Nodes.Count - 1; id >= 0; id--)
            {
                GraphNode node = spec.Nodes[id];
                if (!all.TryGetValue(id, out (string? Target, bool Add)[]? targets))
                {
                    continue;
                }

                if (code.IsFoldedActivation(id) || code.IsFoldedResidual(id))
                {
                    w.Line($"// %{id} = {Describe(spec, node)}: folded into Node{code.Host(id)}Backward");
                    continue;
                }

                w.Line($"Node{id}Backward{(toInput is not null && HasToInputVariant(code, toInput, id) ? "ToInput" : string.Empty)}({code.NodeArguments(node)}); // %{id} = {Describe(spec, node)}");
                for (int k = 0; k < targets.Length; k++)
                {
                    if (targets[k].Add)
                    {
                        int input = node.Inputs[k];
                        w.Line($"global::StaticGrad.Kernels.Broadcast.Accumulate(new global::System.ReadOnlySpan<{E(spec)}>({targets[k].Target}, 0, batch * {Int(spec.Nodes[input].Size)}), new global::System.Span<{E(spec)}>({code.Gradient(input)}, 0, batch * {Int(spec.Nodes[input].Size)})); // %{input} is used again");
                    }
                }
            }
        }

        private static string Describe(GraphSpec spec, GraphNode node) =>
            node.Module >= 0 ? $"{spec.Modules[node.Module].Path}.Forward(%{string.Join(", %", node.Inputs)})" : $"{OpCatalogue.Of(node.Op).Describe(node.Settings)}(%{string.Join(", %", node.Inputs)})";

        private static void WriteNodes(SourceWriter w, GraphCode code, Routing routing)
        {
            GraphSpec spec = code.Spec;
            foreach (GraphNode node in spec.Nodes)
            {
                OpDefinition op = OpCatalogue.Of(node.Op);
                if (op.IsInput || op.IsView && !routing.Targets.ContainsKey(node.Id) || code.IsFoldedActivation(node.Id) || code.IsFoldedResidual(node.Id))
                {
                    continue;
                }

                string what = node.Module >= 0 ? code.ModuleText(node) : op.Describe(node.Settings);
                string inputs = string.Join(", ", node.Inputs.Select(i => $"%{i} [{Shapes.Text(spec.Nodes[i].Shape)}]"));
                if (!op.IsView && !code.IsFoldedPool(node.Id))
                {
                    w.Line($"/// <summary>%{node.Id} = {Xml(what)} of {inputs} → [{Shapes.Text(node.Shape)}]: <c>{Xml(op.Formula)}</c>.</summary>");
                    w.Line($"/// <remarks>From {Xml(node.Source)}</remarks>");
                    w.Open($"private void Node{node.Id}Forward({code.NodeParameters(node)})");
                    op.WriteForward(w, code, node);
                    w.Close();
                    w.Line();
                }

                if (routing.Targets.TryGetValue(node.Id, out (string? Target, bool Add)[]? targets))
                {
                    w.Line($"/// <summary>Backward of %{node.Id} ({Xml(what)}): <c>{Xml(op.BackwardFormula)}</c>.</summary>");
                    w.Open($"private void Node{node.Id}Backward({code.NodeParameters(node)})");
                    code.Accumulating = routing.Accumulated;
                    code.Targets = routing.Targets;
                    op.WriteBackward(w, code, node, targets.Select(t => t.Target).ToArray());
                    w.Close();
                    w.Line();
                }

                if (HasToInputVariant(code, routing, node.Id))
                {
                    w.Line(DiffersToInput(routing, node.Id) || (code.ResidualFolds.TryGetValue(node.Id, out int add) && DiffersToInput(routing, add))
                        ? $"/// <summary>Backward of %{node.Id} ({Xml(what)}) that also writes the gradient of the model's input (for Backward(outputGradients, inputGradients)).</summary>"
                        : $"/// <summary>Backward of %{node.Id} ({Xml(what)}) in the pass on to the model's input (for Backward(outputGradients, inputGradients)): no weight-gradient fold.</summary>");
                    w.Open($"private void Node{node.Id}BackwardToInput({code.NodeParameters(node)})");
                    code.Accumulating = routing.ToInputAccumulated;
                    code.Targets = routing.ToInputTargets!;
                    code.WritingToInput = true;
                    op.WriteBackward(w, code, node, routing.ToInputTargets![node.Id].Select(t => t.Target).ToArray());
                    code.WritingToInput = false;
                    w.Close();
                    w.Line();
                }
            }
        }

        private static void WriteShared(SourceWriter w, GraphCode code)
        {
            var written = new HashSet<string>();
            foreach (GraphNode node in code.Spec.Nodes)
            {
                OpCatalogue.Of(node.Op).WriteShared(w, code, node, written);
            }
        }
    }
}
