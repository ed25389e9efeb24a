using StaticGrad.Generators.Diagnostics;
using StaticGrad.Generators.Graph.Ops;
using StaticGrad.Generators.Model;
using StaticGrad.Generators.Parsing;

namespace StaticGrad.Generators.Catalogue.Layers
{
    /// <summary>What MaxPool2d and AvgPool2d share: <c>(kernelSize, Stride = kernelSize)</c>, no padding, the window inside the input.</summary>
    internal abstract class PoolingLayer : SpatialLayer
    {
        public override string Describe(LayerSpec layer) =>
            $"{Name}({layer.Kernel}{(layer.Stride != layer.Kernel ? $", Stride = {layer.Stride}" : string.Empty)})";

        public override bool Parse(NetworkChain chain, NetworkEntry entry, int index)
        {
            if (IntArguments(chain, entry, 1, $"{Name} takes one int argument (kernelSize)") is not { } values)
            {
                return false;
            }

            int kernel = values[0];
            int stride = Named(entry, "Stride", 0);
            string written = $"{Name}({kernel}{(stride != 0 ? $", Stride = {stride}" : string.Empty)})";
            bool valid = true;
            if (kernel <= 0)
            {
                chain.Sink.Report(DiagnosticDescriptors.NonPositiveDimension, AttributeArguments.PositionalLocation(entry.Syntax, 0, new[] { "kernelSize" }) ?? entry.Location, Name, "kernelSize", kernel);
                valid = false;
            }

            if (stride < 0)
            {
                chain.Sink.Report(DiagnosticDescriptors.LayerShape, AttributeArguments.NamedLocation(entry.Syntax, "Stride") ?? entry.Location, $"{written}: Stride must be positive (or 0 for the kernel size), got {stride}");
                valid = false;
            }

            SpatialShape? received = RequireImage(chain, entry, written);
            if (!valid || received is not { } input || !chain.ChainValid)
            {
                chain.ChainValid = false;
                return true;
            }

            if (stride == 0)
            {
                stride = kernel;
            }

            if (kernel > input.Height || kernel > input.Width)
            {
                chain.Sink.Report(
                    DiagnosticDescriptors.LayerShape,
                    AttributeArguments.PositionalLocation(entry.Syntax, 0, new[] { "kernelSize" }) ?? entry.Location,
                    $"{written} needs at least {kernel}×{kernel}, but its input is {input}");
                chain.ChainValid = false;
                return true;
            }

            var output = new SpatialShape(input.Channels, OutputSide(input.Height, kernel, stride), OutputSide(input.Width, kernel, stride));
            chain.Add(new LayerSpec(index, Kind, (int)input.Size, (int)output.Size, false, 0, 0, false, input, output, kernel, stride), (int)output.Size, output);
            return true;
        }
    }

    /// <summary><c>[MaxPool2d(kernelSize, Stride = kernelSize)]</c>, PyTorch's <c>nn.MaxPool2d</c>: the largest value of each window; backward routes each gradient to that value.</summary>
    internal sealed class MaxPool2dLayer : PoolingLayer
    {
        public static readonly MaxPool2dLayer Instance = new();

        public override LayerKind Kind => LayerKind.MaxPool2d;

        public override LoweredLayer? Lower(LayerSpec layer) => LoweredLayer.Ints(Pool2dOp.Max, layer.Kernel, layer.Stride);

        public override string Name => "MaxPool2d";

    }

    /// <summary><c>[AvgPool2d(kernelSize, Stride = kernelSize)]</c>, PyTorch's <c>nn.AvgPool2d</c>: the mean of each window; backward spreads each gradient evenly over it.</summary>
    internal sealed class AvgPool2dLayer : PoolingLayer
    {
        public static readonly AvgPool2dLayer Instance = new();

        public override LayerKind Kind => LayerKind.AvgPool2d;

        public override LoweredLayer? Lower(LayerSpec layer) => LoweredLayer.Ints(Pool2dOp.Average, layer.Kernel, layer.Stride);

        public override string Name => "AvgPool2d";
    }
}
