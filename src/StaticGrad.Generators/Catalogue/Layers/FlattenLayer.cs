using StaticGrad.Generators.Graph.Ops;
using StaticGrad.Generators.Model;
using StaticGrad.Generators.Parsing;

namespace StaticGrad.Generators.Catalogue.Layers
{
    /// <summary>
    /// <c>[Flatten]</c>, PyTorch's <c>nn.Flatten()</c>: an image C×H×W becomes a vector of C·H·W features. The values keep
    /// their order (a batch row is already NCHW), so forward and backward are copies.
    /// </summary>
    internal sealed class FlattenLayer : SpatialLayer
    {
        public static readonly FlattenLayer Instance = new();

        public override LayerKind Kind => LayerKind.Flatten;

        /// <summary>A view of the same values (<see cref="ReshapeOp.Flatten"/>): the lowered network copies nothing.</summary>
        public override LoweredLayer? Lower(LayerSpec layer) => LoweredLayer.Plain(ReshapeOp.Flatten);

        public override string Name => "Flatten";

        public override string Describe(LayerSpec layer) => "Flatten";

        /// <summary>The width: the spec keeps the image it flattened.</summary>
        public override string OutputText(LayerSpec layer) => layer.Outputs.ToString(System.Globalization.CultureInfo.InvariantCulture);

        public override bool Parse(NetworkChain chain, NetworkEntry entry, int index)
        {
            if (RequireImage(chain, entry, "Flatten") is not { } input || !chain.ChainValid)
            {
                chain.ChainValid = false;
                return true;
            }

            string trace = string.Join(", ", chain.Trace);
            chain.Add(new LayerSpec(index, LayerKind.Flatten, (int)input.Size, (int)input.Size, false, 0, 0, false, input, input), (int)input.Size, shape: null);
            chain.WidthText = $"{input} = {input.Size}{(trace.Length > 0 ? $" ({trace})" : string.Empty)}";
            return true;
        }
    }
}
