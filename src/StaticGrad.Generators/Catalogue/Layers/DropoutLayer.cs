using System.Globalization;
using StaticGrad.Generators.Diagnostics;
using StaticGrad.Generators.Graph.Ops;
using StaticGrad.Generators.Model;
using StaticGrad.Generators.Parsing;

namespace StaticGrad.Generators.Catalogue.Layers
{
    /// <summary>
    /// <c>[Dropout(p)]</c>, PyTorch's <c>nn.Dropout(p)</c>: in a training step each value is kept with probability 1 − p and
    /// scaled by 1/(1 − p), else zeroed; the mask is kept for the backward pass. In Forward, Predict and the evaluations
    /// values pass through. The random stream (xorshift64*) is seeded by the network's seed: training is reproducible.
    /// </summary>
    internal sealed class DropoutLayer : LayerDefinition
    {
        public static readonly DropoutLayer Instance = new();

        public override LayerKind Kind => LayerKind.Dropout;

        public override string Name => "Dropout";

        public override bool NeedsRuntime => true;

        public override bool IsElementwise => true;

        public override bool DropsInTraining => true;

        /// <summary><see cref="DropoutOp"/> with p: drops in TrainStep only, as PyTorch's train() and eval().</summary>
        public override LoweredLayer? Lower(LayerSpec layer) =>
            new LoweredLayer(DropoutOp.Instance, new Graph.OpSettings(Helpers.EquatableArray.Empty<int>(), Helpers.EquatableArray.Of(layer.Rate), string.Empty));

        public override string Describe(LayerSpec layer) => $"Dropout({layer.Rate.ToString("R", CultureInfo.InvariantCulture)})";

        public override bool Parse(NetworkChain chain, NetworkEntry entry, int index)
        {
            if (entry.Data.ConstructorArguments.Length != 1 || entry.Data.ConstructorArguments[0].Value is not double rate)
            {
                chain.Sink.Report(DiagnosticDescriptors.AttributeNotUsable, entry.Location, chain.Type.Name, "Dropout takes one double argument (p)");
                return false;
            }

            if (!(rate >= 0 && rate < 1))
            {
                chain.Sink.Report(
                    DiagnosticDescriptors.LayerShape,
                    AttributeArguments.PositionalLocation(entry.Syntax, 0, new[] { "p" }) ?? entry.Location,
                    $"Dropout(p) needs 0 ≤ p < 1 (the probability of zeroing a value), got {rate.ToString("R", CultureInfo.InvariantCulture)}");
                chain.ChainValid = false;
            }

            if (!chain.HasPrevious)
            {
                chain.Sink.Report(DiagnosticDescriptors.NetworkWithoutLinear, entry.Location, chain.Type.Name, "starts with Dropout");
                chain.ChainValid = false;
            }

            SpatialShape shape = chain.Shape ?? default;
            chain.Add(new LayerSpec(index, LayerKind.Dropout, chain.Width, chain.Width, false, 0, 0, false, shape, shape, Rate: rate), chain.Width, chain.Shape);
            return true;
        }
    }
}
