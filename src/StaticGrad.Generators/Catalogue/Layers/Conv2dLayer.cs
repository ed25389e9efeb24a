using System.Collections.Immutable;
using System.Linq;
using StaticGrad.Generators.Diagnostics;
using StaticGrad.Generators.Graph.Ops;
using StaticGrad.Generators.Model;
using StaticGrad.Generators.Parsing;

namespace StaticGrad.Generators.Catalogue.Layers
{
    /// <summary>
    /// <c>[Conv2d(inChannels, outChannels, kernelSize, Stride = 1, Padding = 0, Bias = true)]</c>, PyTorch's <c>nn.Conv2d</c>:
    /// weights <c>[out, in, k, k]</c>, bias <c>[out]</c>. Two ways to compute it, chosen by the stride:
    /// <list type="bullet">
    /// <item>Stride 1 (the common case): <c>StaticGrad.Kernels.PlaneConvolution</c>, directly on zero-padded planes in
    /// NCHW (forward, weight and input gradients as register-tiled sums of shifted rows; no im2col buffer, no layout turns).</item>
    /// <item>Other strides: im2row over the whole batch, so the convolution is one product on the GEMM kernels,
    /// <c>Y[batch·outH·outW × out] = rows · Wᵀ</c> (+ b); backward <c>dW (+)= dYᵀ·rows</c>, <c>db (+)= Σ dY</c>,
    /// <c>dX = row2im(dY·W)</c>; the output is turned between channels-last and NCHW per example.</item>
    /// </list>
    /// </summary>
    internal sealed class Conv2dLayer : SpatialLayer
    {
        public static readonly Conv2dLayer Instance = new();

        private static readonly string[] ParameterNames = { "inChannels", "outChannels", "kernelSize" };

        public override LayerKind Kind => LayerKind.Conv2d;

        /// <summary><see cref="Conv2dOp"/> (in, out, kernel, stride, padding, bias).</summary>
        public override LoweredLayer? Lower(LayerSpec layer) =>
            LoweredLayer.Ints(Conv2dOp.Instance, layer.In.Channels, layer.Out.Channels, layer.Kernel, layer.Stride, layer.Padding, layer.HasBias ? 1 : 0);

        public override string Name => "Conv2d";

        /// <summary>[out, in, k, k], PyTorch's layout.</summary>
        public override bool HasParameters => true;

        public override int WeightCount(LayerSpec layer) => layer.Out.Channels * layer.In.Channels * layer.Kernel * layer.Kernel;

        public override int BiasCount(LayerSpec layer) => layer.HasBias ? layer.Out.Channels : 0;

        /// <summary>in·k·k.</summary>
        public override int FanIn(LayerSpec layer) => layer.In.Channels * layer.Kernel * layer.Kernel;

        /// <summary>out·k·k.</summary>
        public override int FanOut(LayerSpec layer) => layer.Out.Channels * layer.Kernel * layer.Kernel;

        public override string WeightShapeText(LayerSpec layer) => $"{layer.Out.Channels}×{layer.In.Channels}×{layer.Kernel}×{layer.Kernel}";

        public override string Describe(LayerSpec layer) =>
            $"Conv2d({layer.In.Channels}, {layer.Out.Channels}, {layer.Kernel}{(layer.Stride != 1 ? $", Stride = {layer.Stride}" : string.Empty)}{(layer.Padding != 0 ? $", Padding = {layer.Padding}" : string.Empty)}{(layer.HasBias ? string.Empty : ", Bias = false")})";

        public override bool Parse(NetworkChain chain, NetworkEntry entry, int index)
        {
            if (IntArguments(chain, entry, 3, "Conv2d takes three int arguments (inChannels, outChannels, kernelSize)") is not { } values)
            {
                return false;
            }

            int inChannels = values[0], outChannels = values[1], kernel = values[2];
            int stride = Named(entry, "Stride", 1), padding = Named(entry, "Padding", 0);
            bool hasBias = !entry.Data.NamedArguments.Any(n => n.Key == "Bias" && n.Value.Value is false);
            string written = $"Conv2d({inChannels}, {outChannels}, {kernel}{(stride != 1 ? $", Stride = {stride}" : string.Empty)}{(padding != 0 ? $", Padding = {padding}" : string.Empty)})";
            bool valid = true;
            for (int i = 0; i < 3; i++)
            {
                if (values[i] <= 0)
                {
                    chain.Sink.Report(DiagnosticDescriptors.NonPositiveDimension, AttributeArguments.PositionalLocation(entry.Syntax, i, ParameterNames) ?? entry.Location, "Conv2d", ParameterNames[i], values[i]);
                    valid = false;
                }
            }

            if (stride <= 0)
            {
                chain.Sink.Report(DiagnosticDescriptors.LayerShape, AttributeArguments.NamedLocation(entry.Syntax, "Stride") ?? entry.Location, $"{written}: Stride must be positive, got {stride}");
                valid = false;
            }

            if (padding < 0)
            {
                chain.Sink.Report(DiagnosticDescriptors.LayerShape, AttributeArguments.NamedLocation(entry.Syntax, "Padding") ?? entry.Location, $"{written}: Padding must be 0 or positive, got {padding}");
                valid = false;
            }

            SpatialShape? received = RequireImage(chain, entry, written);
            if (!valid || received is not { } input || !chain.ChainValid)
            {
                chain.ChainValid = false;
                return true;
            }

            if (inChannels != input.Channels)
            {
                chain.Sink.ReportWithProperties(
                    DiagnosticDescriptors.LayerSizeMismatch,
                    AttributeArguments.PositionalLocation(entry.Syntax, 0, ParameterNames) ?? entry.Location,
                    ImmutableDictionary<string, string?>.Empty.Add(DiagnosticDescriptors.ExpectedInputsProperty, input.Channels.ToString(System.Globalization.CultureInfo.InvariantCulture)),
                    written,
                    $"{inChannels} input channels",
                    chain.LastDescription,
                    $"{input}, {input.Channels} channel{(input.Channels == 1 ? string.Empty : "s")}");
                chain.ChainValid = false;
                return true;
            }

            // 64-bit sizes: a padding near int.MaxValue must not wrap around into a small, plausible shape.
            long paddedHeight = input.Height + (2L * padding), paddedWidth = input.Width + (2L * padding);
            if (paddedHeight < kernel || paddedWidth < kernel)
            {
                chain.Sink.Report(
                    DiagnosticDescriptors.LayerShape,
                    AttributeArguments.PositionalLocation(entry.Syntax, 2, ParameterNames) ?? entry.Location,
                    $"{written} needs at least {kernel}×{kernel} after padding, but its input is {input} (padding {padding} gives {paddedHeight}×{paddedWidth})");
                chain.ChainValid = false;
                return true;
            }

            long outHeight = ((paddedHeight - kernel) / stride) + 1, outWidth = ((paddedWidth - kernel) / stride) + 1;
            if (ExceedsAnArray(outChannels, outHeight, outWidth) || ExceedsAnArray(inChannels, kernel, kernel, outHeight, outWidth) || ExceedsAnArray(outChannels, inChannels, kernel, kernel))
            {
                chain.Sink.Report(DiagnosticDescriptors.LayerShape, entry.Location, $"{written} on {input} needs buffers larger than an array can be ({TargetChecks.MaxElements} elements)");
                chain.ChainValid = false;
                return true;
            }

            var output = new SpatialShape(outChannels, (int)outHeight, (int)outWidth);
            var layer = new LayerSpec(index, LayerKind.Conv2d, (int)input.Size, (int)output.Size, hasBias, 0, 0, false, input, output, kernel, stride, padding);
            chain.Add(layer, (int)output.Size, output);
            return true;
        }

        /// <summary>
        /// Whether the product of <paramref name="factors"/> (each at least 1) exceeds the largest array, without ever
        /// forming a product that could pass 2⁶³: with a padding near int.MaxValue the output is about 2³¹ × 2³¹, and
        /// three channels of that wrapped around to a negative count that passed the check.
        /// </summary>
        private static bool ExceedsAnArray(params long[] factors)
        {
            long product = 1;
            foreach (long factor in factors)
            {
                if (factor > TargetChecks.MaxElements / product)
                {
                    return true;
                }

                product *= factor;
            }

            return false;
        }
    }
}
