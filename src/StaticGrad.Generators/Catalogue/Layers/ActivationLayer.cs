using StaticGrad.Generators.Diagnostics;
using StaticGrad.Generators.Emit;
using StaticGrad.Generators.Emit.Network;
using StaticGrad.Generators.Model;
using StaticGrad.Generators.Parsing;

namespace StaticGrad.Generators.Catalogue.Layers
{
    /// <summary>
    /// What the element-wise activations share: no arguments, no parameters, the width unchanged, and the loops around
    /// their per-element formulas. Each activation's file says only what it computes forward and backward.
    /// </summary>
    internal abstract class ActivationLayer : LayerDefinition
    {
        public override string Describe(LayerSpec layer) => Name;

        public override bool IsElementwise => true;

        /// <summary>The backward formula for the docs, from the stored output y.</summary>
        protected abstract string BackwardFormula { get; }

        /// <summary>An activation cannot start a network: it would have no width to act on.</summary>
        public override bool Parse(NetworkChain chain, NetworkEntry entry, int index)
        {
            if (!chain.HasPrevious)
            {
                chain.Sink.Report(DiagnosticDescriptors.NetworkWithoutLinear, entry.Location, chain.Type.Name, $"starts with {Name}");
                chain.ChainValid = false;
            }

            SpatialShape shape = chain.Shape ?? default;
            chain.Add(new LayerSpec(index, Kind, chain.Width, chain.Width, false, 0, 0, false, shape, shape), chain.Width, chain.Shape);
            return true;
        }

        public override void WriteForward(SourceWriter w, NetworkCode code, LayerSpec layer)
        {
            int i = layer.Index;
            w.Line($"/// <summary>Layer {i}, {layer.Describe()}, element-wise on [batch×{layer.Outputs}].</summary>");
            if (i == 0)
            {
                // Right after Input: the caller's batch goes into the input buffer, where the loop below reads it.
                w.Open($"private void Layer0Forward({code.ReadOnlySpan} inputs, int batch)");
                w.Line($"inputs.CopyTo(_activations[0]);");
            }
            else
            {
                w.Open($"private void Layer{i}Forward(int batch)");
            }

            w.Line($"{code.T}[] x = _activations[{i}], y = _activations[{i + 1}];");
            w.Open($"for (int e = 0; e < batch * {layer.Outputs}; e++)");
            WriteForwardElement(w, code);
            w.Close();
            w.Close();
            w.Line();
        }

        public override void WriteBackward(SourceWriter w, NetworkCode code, LayerSpec layer)
        {
            string t = code.T;
            int i = layer.Index;
            w.Line($"/// <summary>Layer {i}, {layer.Describe()}, backward: <c>{BackwardFormula}</c>, from the stored output y.</summary>");
            w.Open($"private void Layer{i}Backward(int batch, {t}[] dY, {t}[] dX)");
            w.Line($"{t}[] y = _activations[{i + 1}];");
            w.Open($"for (int e = 0; e < batch * {layer.Outputs}; e++)");
            WriteBackwardElement(w, code);
            w.Close();
            w.Close();
            w.Line();
        }

        /// <summary>The loop body of the forward pass: <c>y[e]</c> from <c>x[e]</c>.</summary>
        protected abstract void WriteForwardElement(SourceWriter w, NetworkCode code);

        /// <summary>The loop body of the backward pass: <c>dX[e]</c> from <c>dY[e]</c> and the stored output <c>y[e]</c>.</summary>
        protected abstract void WriteBackwardElement(SourceWriter w, NetworkCode code);
    }
}
