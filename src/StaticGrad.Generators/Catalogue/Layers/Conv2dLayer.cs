using System.Collections.Generic;
using System.Collections.Immutable;
using StaticGrad.Generators.Diagnostics;
using StaticGrad.Generators.Emit;
using StaticGrad.Generators.Emit.Kernels;
using StaticGrad.Generators.Emit.Network;
using StaticGrad.Generators.Model;
using StaticGrad.Generators.Parsing;

namespace StaticGrad.Generators.Catalogue.Layers
{
    /// <summary>
    /// <c>[Conv2d(inChannels, outChannels, kernelSize, Stride = 1, Padding = 0, Bias = true)]</c>, PyTorch's <c>nn.Conv2d</c>:
    /// weights <c>[out, in, k, k]</c>, bias <c>[out]</c>. Per example, im2col turns the input windows into the columns of a
    /// <c>[in·k·k × outH·outW]</c> matrix, and the convolution is one product on StaticGrad's kernels,
    /// <c>Y[out × outH·outW] = W[out × in·k·k] · columns</c> (+ b per channel). Backward: <c>dW += dY·columnsᵀ</c>,
    /// <c>db += Σ dY</c> per channel, <c>dX = col2im(Wᵀ·dY)</c>.
    /// </summary>
    internal sealed class Conv2dLayer : SpatialLayer
    {
        public static readonly Conv2dLayer Instance = new();

        private static readonly string[] ParameterNames = { "inChannels", "outChannels", "kernelSize" };

        public override LayerKind Kind => LayerKind.Conv2d;

        public override string Name => "Conv2d";

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
            bool hasBias = !System.Linq.Enumerable.Any(entry.Data.NamedArguments, n => n.Key == "Bias" && n.Value.Value is false);
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

            if (input.Height + (2 * padding) < kernel || input.Width + (2 * padding) < kernel)
            {
                chain.Sink.Report(
                    DiagnosticDescriptors.LayerShape,
                    AttributeArguments.PositionalLocation(entry.Syntax, 2, ParameterNames) ?? entry.Location,
                    $"{written} needs at least {kernel}×{kernel} after padding, but its input is {input} (padding {padding} gives {input.Height + (2 * padding)}×{input.Width + (2 * padding)})");
                chain.ChainValid = false;
                return true;
            }

            var output = new SpatialShape(outChannels, OutputSide(input.Height, kernel, stride, padding), OutputSide(input.Width, kernel, stride, padding));
            long columns = (long)inChannels * kernel * kernel * output.Height * output.Width;
            if (output.Size > TargetChecks.MaxElements || columns > TargetChecks.MaxElements || (long)outChannels * inChannels * kernel * kernel > TargetChecks.MaxElements)
            {
                chain.Sink.Report(DiagnosticDescriptors.LayerShape, entry.Location, $"{written} on {input} needs buffers larger than an array can be ({TargetChecks.MaxElements} elements)");
                chain.ChainValid = false;
                return true;
            }

            var layer = new LayerSpec(index, LayerKind.Conv2d, (int)input.Size, (int)output.Size, hasBias, 0, 0, false, input, output, kernel, stride, padding);
            chain.Add(layer, (int)output.Size, output);
            return true;
        }

        public override string BackwardCall(NetworkCode code, LayerSpec layer, string from, string to) => layer.Index == 0
            ? $"Layer0Backward(inputs, batch, {from}, {to}, computeInputGradient, accumulateGradients); // {Describe(layer)}"
            : $"Layer{layer.Index}Backward(new {code.ReadOnlySpan}(_activations[{layer.Index}], 0, batch * {layer.Inputs}), batch, {from}, {to}, true, accumulateGradients); // {Describe(layer)}";

        public override void WriteFields(SourceWriter w, NetworkCode code, LayerSpec layer)
        {
            w.Line($"// Layer {layer.Index}, {Describe(layer)}: one example's im2col columns [{Columns(layer)}] and their gradient.");
            w.Line($"private readonly {code.T}[] _layer{layer.Index}Columns = new {code.T}[{Rows(layer) * Plane(layer)}];");
            w.Line($"private readonly {code.T}[] _layer{layer.Index}ColumnGradients = new {code.T}[{Rows(layer) * Plane(layer)}];");
            w.Line();
        }

        public override void WriteForward(SourceWriter w, NetworkCode code, LayerSpec layer)
        {
            int i = layer.Index;
            w.Line($"/// <summary>Layer {i}, {Describe(layer)}: {layer.In} → {layer.Out}; per example, im2col then <c>Y = W·columns{(layer.HasBias ? " + b" : string.Empty)}</c>.</summary>");
            OpenForward(w, code, layer);
            w.Line($"{code.T}[] y = _activations[{i + 1}], columns = _layer{i}Columns;");
            w.Open("for (int b = 0; b < batch; b++)");
            w.Line($"global::StaticGrad.Kernels.Convolution.Im2Col(x.Slice(b * {layer.Inputs}, {layer.Inputs}), {Window(layer)}, columns);");
            w.Line("// Y[out × outH·outW] = W[out × in·k·k] · columns[in·k·k × outH·outW]");
            w.Line(GemmShapeEmitter.Call($"Layer{i}ForwardProduct", code.Spec.Element, $"_parameters[{layer.WeightOffset}]", "columns[0]", $"y[b * {layer.Outputs}]", team: "_team"));
            if (layer.HasBias)
            {
                w.Line($"global::StaticGrad.Kernels.Convolution.AddChannelBias(new {code.Span}(y, b * {layer.Outputs}, {layer.Outputs}), new {code.ReadOnlySpan}(_parameters, {layer.BiasOffset}, {layer.Out.Channels}), {Plane(layer)});");
            }

            w.Close();
            w.Close();
            w.Line();
        }

        public override void WriteBackward(SourceWriter w, NetworkCode code, LayerSpec layer)
        {
            int i = layer.Index;
            string t = code.T;
            w.Line($"/// <summary>Layer {i}, {Describe(layer)}, backward: per example <c>dW (+)= dY·columnsᵀ</c>{(layer.HasBias ? ", <c>db (+)= Σ dY</c> per channel" : string.Empty)}; <c>dX = col2im(Wᵀ·dY)</c> when asked.</summary>");
            w.Open($"private void Layer{i}Backward({code.ReadOnlySpan} x, int batch, {t}[] dY, {t}[] dX, bool computeInputGradient, bool accumulate)");
            w.Line($"{t}[] columns = _layer{i}Columns, columnGradients = _layer{i}ColumnGradients;");
            w.Open("if (!accumulate)");
            w.Line($"global::System.Array.Clear(_gradients, {layer.WeightOffset}, {layer.WeightCount + layer.BiasCount});");
            w.Close();
            w.Line();
            w.Open("for (int b = 0; b < batch; b++)");
            w.Line($"global::StaticGrad.Kernels.Convolution.Im2Col(x.Slice(b * {layer.Inputs}, {layer.Inputs}), {Window(layer)}, columns);");
            w.Line("// dW[out × in·k·k] += dY[out × outH·outW] · columnsᵀ");
            w.Line(GemmShapeEmitter.Call($"Layer{i}WeightGradientProduct", code.Spec.Element, $"dY[b * {layer.Outputs}]", "columns[0]", $"_gradients[{layer.WeightOffset}]", team: "_team"));
            if (layer.HasBias)
            {
                w.Line($"global::StaticGrad.Kernels.Convolution.SumChannels(new {code.ReadOnlySpan}(dY, b * {layer.Outputs}, {layer.Outputs}), new {code.Span}(_gradients, {layer.BiasOffset}, {layer.Out.Channels}), {Plane(layer)});");
            }

            w.Open("if (computeInputGradient)");
            w.Line("// columnGradients[in·k·k × outH·outW] = Wᵀ · dY, then each column back onto the input window it came from.");
            w.Line(GemmShapeEmitter.Call($"Layer{i}InputGradientProduct", code.Spec.Element, $"_parameters[{layer.WeightOffset}]", $"dY[b * {layer.Outputs}]", "columnGradients[0]", team: "_team"));
            w.Line($"{code.Span} dXb = new {code.Span}(dX, b * {layer.Inputs}, {layer.Inputs});");
            w.Line("dXb.Clear();");
            w.Line($"global::StaticGrad.Kernels.Convolution.Col2ImAdd(columnGradients, {Window(layer)}, dXb);");
            w.Close();
            w.Close();
            w.Close();
            w.Line();
        }

        public override void WriteShared(SourceWriter w, NetworkCode code, LayerSpec layer, HashSet<string> written)
        {
            int i = layer.Index, rows = Rows(layer), plane = Plane(layer), outChannels = layer.Out.Channels;
            w.Line();
            GemmShapeEmitter.WriteShape(w, new GemmShapeEmitter.Product(
                $"Layer{i}ForwardProduct", $"Layer {i}, {Describe(layer)}: Y[{outChannels}×{plane}] = W[{outChannels}×{rows}]·columns[{rows}×{plane}]",
                M: outChannels, N: plane, K: rows, LeadingA: rows, LeadingB: plane, TransposeA: false, TransposeB: false, Accumulate: false));
            w.Line();
            GemmShapeEmitter.WriteShape(w, new GemmShapeEmitter.Product(
                $"Layer{i}WeightGradientProduct", $"Layer {i}, {Describe(layer)}: dW[{outChannels}×{rows}] += dY[{outChannels}×{plane}]·columnsᵀ",
                M: outChannels, N: rows, K: plane, LeadingA: plane, LeadingB: plane, TransposeA: false, TransposeB: true, Accumulate: true));
            w.Line();
            GemmShapeEmitter.WriteShape(w, new GemmShapeEmitter.Product(
                $"Layer{i}InputGradientProduct", $"Layer {i}, {Describe(layer)}: columnGradients[{rows}×{plane}] = Wᵀ·dY[{outChannels}×{plane}]",
                M: rows, N: plane, K: outChannels, LeadingA: rows, LeadingB: plane, TransposeA: true, TransposeB: false, Accumulate: false));
        }

        private static int Rows(LayerSpec layer) => layer.In.Channels * layer.Kernel * layer.Kernel;

        private static int Plane(LayerSpec layer) => layer.Out.Height * layer.Out.Width;

        private static string Columns(LayerSpec layer) => $"{Rows(layer)}×{Plane(layer)}";

        private static string Window(LayerSpec layer) =>
            $"{layer.In.Channels}, {layer.In.Height}, {layer.In.Width}, {layer.Kernel}, {layer.Stride}, {layer.Padding}, {layer.Out.Height}, {layer.Out.Width}";
    }
}
