using System.Linq;
using StaticGrad.Generators.Graph;
using StaticGrad.Generators.Graph.Ops;

namespace StaticGrad.Generators.Emit.Graph
{
    /// <summary>
    /// Folding: an element-wise activation whose only input is read by nothing else is applied by the op that computes that
    /// input, in its own pass (<see cref="OpDefinition.FoldableActivation"/>, <see cref="OpDefinition.FoldsActivation"/>):
    /// BatchNorm then ReLU (or a residual block's Add then ReLU) writes the ReLU's value once instead of writing its own values,
    /// reading them back and writing them again, and its backward pass reads the ReLU's gradient directly. A max pooling that
    /// alone reads such a folded activation may be folded in too (<see cref="OpDefinition.FoldsPool"/>: a stem's BatchNorm,
    /// ReLU and MaxPool): the producer then writes the pooled values in training and the activation's are never stored. The
    /// graph is unchanged; only the methods written differ, and the results are the same to the bit. A residual block's end,
    /// <c>relu(skip + bn(h))</c>, is computed by the normalisation in the same way (<see cref="OpDefinition.FoldsResidual"/>):
    /// its own value is never stored, and its backward writes the skip's gradient as it reads the sum's.
    /// </summary>
    internal static partial class ModelEmitter
    {
        private static void FindFolds(GraphCode code, Routing routing)
        {
            GraphSpec spec = code.Spec;
            foreach (GraphNode node in spec.Nodes)
            {
                if (OpCatalogue.Of(node.Op).FoldableActivation is not { } activation || node.Inputs.Count != 1 || !routing.Live.Contains(node.Id))
                {
                    continue;
                }

                GraphNode producer = spec.Nodes[node.Inputs[0]];
                OpDefinition producerOp = OpCatalogue.Of(producer.Op);
                bool onlyReader = spec.Nodes.Sum(n => n.Inputs.Count(i => i == producer.Id)) == 1 && spec.Outputs.All(o => o.Node != producer.Id);
                if (!producerOp.FoldsActivation(code, producer, activation) || producerOp.IsInput || producerOp.IsView || !onlyReader || code.Folds.ContainsKey(producer.Id)
                    || !WritesOwnGradient(code, routing.Targets, routing.Accumulated, node, producer)
                    || (routing.ToInputTargets is { } toInput && !WritesOwnGradient(code, toInput, routing.ToInputAccumulated, node, producer)))
                {
                    continue;
                }

                code.Folds[producer.Id] = node.Id;
            }

            foreach (var fold in code.Folds)
            {
                GraphNode producer = spec.Nodes[fold.Key];
                GraphNode[] readers = spec.Nodes.Where(n => n.Inputs.Contains(fold.Value)).ToArray();
                if (readers.Length == 1 && readers[0].Inputs.Count == 1 && spec.Outputs.All(o => o.Node != fold.Value) && routing.Live.Contains(readers[0].Id)
                    && OpCatalogue.Of(producer.Op).FoldsPool(code, producer, readers[0]))
                {
                    code.PoolFolds[producer.Id] = readers[0].Id;
                }
            }

            foreach (int folder in code.PoolFolds.Keys)
            {
                GraphNode node = spec.Nodes[folder];
                GraphNode producer = spec.Nodes[node.Inputs[0]];
                bool onlyReader = spec.Nodes.Sum(n => n.Inputs.Count(i => i == producer.Id)) == 1 && spec.Outputs.All(o => o.Node != producer.Id);
                if (onlyReader && routing.Targets.TryGetValue(producer.Id, out (string? Target, bool Add)[]? targets) && targets.All(t => t.Target is null) && !code.ReadsInputSpan(producer)
                    && OpCatalogue.Of(node.Op).FoldsWeightGradient(code, node, producer))
                {
                    code.WeightGradientFolds[producer.Id] = node.Id;
                }
            }

            foreach (GraphNode add in spec.Nodes)
            {
                if (routing.Live.Contains(add.Id) && OpCatalogue.Of(add.Op).IsPlainAddition(code, add))
                {
                    FindResidualFold(code, routing, add);
                }
            }
        }

        /// <summary>
        /// A residual connection's end, <c>skip + producer</c> (and its folded ReLU), computed by the producer of the later
        /// operand in its own passes: its forward adds the skip while it writes, its backward writes the skip's gradient while it
        /// reads. Taken where the producer's value is read by the addition alone, the skip was computed before the producer,
        /// no node between the two reads the skip (its gradient is written later than the addition's backward would have), and
        /// every pass overwrites both gradients (none is added to in place or through scratch).
        /// </summary>
        private static void FindResidualFold(GraphCode code, Routing routing, GraphNode add)
        {
            GraphSpec spec = code.Spec;
            int k = add.Inputs[0] > add.Inputs[1] ? 0 : 1;
            GraphNode producer = spec.Nodes[add.Inputs[k]];
            int skip = add.Inputs[1 - k];
            OpDefinition producerOp = OpCatalogue.Of(producer.Op);
            bool onlyReader = spec.Nodes.Sum(n => n.Inputs.Count(i => i == producer.Id)) == 1 && spec.Outputs.All(o => o.Node != producer.Id);
            bool skipReadBetween = spec.Nodes.Any(n => n.Id > producer.Id && n.Id < add.Id && routing.Live.Contains(n.Id) && n.Inputs.Contains(skip));
            if (skip >= producer.Id || !onlyReader || skipReadBetween || producerOp.IsInput || producerOp.IsView || code.IsFoldedProducer(producer.Id) || code.PoolFolds.ContainsKey(producer.Id)
                || code.ReadsInputSpan(producer) || code.IsInputSpan(skip) || !producerOp.FoldsResidual(code, producer, add)
                || !OverwritesBoth(code, routing.Targets, routing.Accumulated, add, k)
                || (routing.ToInputTargets is { } toInput && !OverwritesBoth(code, toInput, routing.ToInputAccumulated, add, k)))
            {
                return;
            }

            code.ResidualFolds[producer.Id] = add.Id;
        }

        /// <summary>Whether the addition's backward overwrites the producer's gradient buffer (operand <paramref name="k"/>) and the other operand's gradient target, if it has one, with nothing added after.</summary>
        private static bool OverwritesBoth(GraphCode code, System.Collections.Generic.Dictionary<int, (string? Target, bool Add)[]> targets, System.Collections.Generic.HashSet<(int Node, int Input)> accumulated, GraphNode add, int k) =>
            targets.TryGetValue(add.Id, out (string? Target, bool Add)[]? written) && written[k] == (code.Gradient(add.Inputs[k]), false) && !written[1 - k].Add
            && !accumulated.Contains((add.Id, 0)) && !accumulated.Contains((add.Id, 1));

        /// <summary>Whether the activation's backward pass overwrites its producer's gradient buffer, with nothing added after: the producer can read the activation's gradient instead.</summary>
        private static bool WritesOwnGradient(GraphCode code, System.Collections.Generic.Dictionary<int, (string? Target, bool Add)[]> targets, System.Collections.Generic.HashSet<(int Node, int Input)> accumulated, GraphNode activation, GraphNode producer) =>
            targets.TryGetValue(activation.Id, out (string? Target, bool Add)[]? written) && written[0] == (code.Gradient(producer.Id), false) && !accumulated.Contains((activation.Id, 0));
    }
}
