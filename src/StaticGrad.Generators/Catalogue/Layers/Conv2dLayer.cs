using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using StaticGrad.Generators.Diagnostics;
using StaticGrad.Generators.Emit;
using StaticGrad.Generators.Emit.Kernels;
using StaticGrad.Generators.Emit.Network;
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

        /// <summary>
        /// Stride 1 reads the layer's input again (the caller's batch for the first layer, the previous layer's output
        /// otherwise); other strides read the batch's rows kept by the forward pass.
        /// </summary>
        public override string BackwardCall(NetworkCode code, LayerSpec layer, string from, string to)
        {
            string inputGradient = layer.Index == 0 ? "computeInputGradient" : "true";
            if (!Direct(layer))
            {
                return $"Layer{layer.Index}Backward(batch, {from}, {to}, {inputGradient}, accumulateGradients); // {Describe(layer)}";
            }

            string input = layer.Index == 0 ? "inputs" : $"new {code.ReadOnlySpan}(_activations[{layer.Index}], 0, batch * {layer.Inputs})";
            return $"Layer{layer.Index}Backward({input}, batch, {from}, {to}, {inputGradient}, accumulateGradients); // {Describe(layer)}";
        }

        /// <summary>Stride 1: computed directly on padded planes by <c>PlaneConvolution</c>; otherwise im2row and GEMM.</summary>
        private static bool Direct(LayerSpec layer) => layer.Stride == 1;

        public override void WriteFields(SourceWriter w, NetworkCode code, LayerSpec layer)
        {
            int i = layer.Index;
            if (Direct(layer))
            {
                w.Line($"// Layer {i}, {Describe(layer)}: its geometry (constants to the JIT) and the scratch its kernels work in (padded planes, tiles; a region per thread).");
                w.Line($"private static readonly global::StaticGrad.Kernels.PlaneConvolutionShape Layer{i}Convolution = new global::StaticGrad.Kernels.PlaneConvolutionShape({layer.In.Channels}, {layer.In.Height}, {layer.In.Width}, {layer.Out.Channels}, {layer.Kernel}, {layer.Padding});");
                w.Line($"private readonly global::StaticGrad.Kernels.PlaneConvolutionWorkspace<{code.T}> _layer{i}Workspace;");
                w.Line();
                return;
            }

            w.Line($"// Layer {i}, {Describe(layer)}: the batch's patches as rows [batch·{Plane(layer)} × {Rows(layer)}] (im2row), their gradient,");
            w.Line("// and the output (or its gradient) in channels-last order [batch·plane × out] for the products.");
            w.Line($"private readonly {code.T}[] _layer{i}Rows;");
            w.Line(i != 0
                ? $"private readonly {code.T}[] _layer{i}RowGradients;"
                : $"private {code.T}[]{code.Q} _layer{i}RowGradients; // the first layer's: allocated on the first Backward that asks for ∂L/∂inputs");

            w.Line($"private readonly {code.T}[] _layer{i}ChannelsLast;");
            w.Line();
        }

        public override void WriteAllocation(SourceWriter w, NetworkCode code, LayerSpec layer)
        {
            int i = layer.Index;
            if (Direct(layer))
            {
                w.Line($"_layer{i}Workspace = new global::StaticGrad.Kernels.PlaneConvolutionWorkspace<{code.T}>(Layer{i}Convolution);");
                return;
            }

            w.Line($"_layer{i}Rows = new {code.T}[maxBatchSize * {Plane(layer) * Rows(layer)}];");
            if (i != 0)
            {
                w.Line($"_layer{i}RowGradients = new {code.T}[maxBatchSize * {Plane(layer) * Rows(layer)}];");
            }

            w.Line($"_layer{i}ChannelsLast = new {code.T}[maxBatchSize * {layer.Outputs}];");
        }

        public override void WriteForward(SourceWriter w, NetworkCode code, LayerSpec layer)
        {
            int i = layer.Index, plane = Plane(layer), patch = Rows(layer), outChannels = layer.Out.Channels;
            if (Direct(layer))
            {
                w.Line($"/// <summary>Layer {i}, {Describe(layer)}: {layer.In} → {layer.Out}, <c>y[o] = {(layer.HasBias ? "b[o] + " : string.Empty)}Σ_c W[o, c] ⋆ x[c]</c>, computed on padded planes.</summary>");
                OpenForward(w, code, layer);
                w.Line("global::StaticGrad.Kernels.PlaneConvolution.Forward(");
                using (w.Indented())
                {
                    w.Line($"Layer{i}Convolution, x, batch, {Weights(code, layer)}, {Bias(code, layer)},");
                    w.Line($"new {code.Span}(_activations[{i + 1}], 0, batch * {layer.Outputs}), _layer{i}Workspace, _team);");
                }

                w.Close();
                w.Line();
                return;
            }

            w.Line($"/// <summary>Layer {i}, {Describe(layer)}: {layer.In} → {layer.Out}. The windows of the whole batch become rows (im2row), and one product");
            w.Line($"/// <c>Y[batch·{plane} × {outChannels}] = rows · Wᵀ{(layer.HasBias ? " + b" : string.Empty)}</c> gives the output channels-last, turned to NCHW per example.</summary>");
            OpenForward(w, code, layer);
            w.Line($"{code.T}[] y = _activations[{i + 1}], rows = _layer{i}Rows, channelsLast = _layer{i}ChannelsLast;");
            w.Open("for (int b = 0; b < batch; b++)");
            w.Line($"global::StaticGrad.Kernels.Convolution.Im2Row(x.Slice(b * {layer.Inputs}, {layer.Inputs}), {Window(layer)}, new {code.Span}(rows, b * {plane * patch}, {plane * patch}));");
            w.Close();
            w.Line();
            w.Line(GemmShapeEmitter.Call(
                $"Layer{i}ForwardProduct",
                code.Spec.Element,
                "rows[0]",
                $"_parameters[{layer.WeightOffset}]",
                "channelsLast[0]",
                bias: layer.HasBias ? $"_parameters[{layer.BiasOffset}]" : null,
                rows: $"batch * {plane}",
                team: "_team"));
            w.Open("for (int b = 0; b < batch; b++)");
            w.Line($"global::StaticGrad.Kernels.Convolution.ToChannelsFirst(new {code.ReadOnlySpan}(channelsLast, b * {layer.Outputs}, {layer.Outputs}), new {code.Span}(y, b * {layer.Outputs}, {layer.Outputs}), {outChannels}, {plane});");
            w.Close();
            w.Close();
            w.Line();
        }

        public override void WriteBackward(SourceWriter w, NetworkCode code, LayerSpec layer)
        {
            int i = layer.Index, plane = Plane(layer), patch = Rows(layer), outChannels = layer.Out.Channels;
            string t = code.T;
            if (Direct(layer))
            {
                w.Line($"/// <summary>Layer {i}, {Describe(layer)}, backward: <c>dW (+)= Σ dY[o] ⋆ x[c]</c>{(layer.HasBias ? ", <c>db (+)= Σ dY</c> per channel" : string.Empty)}; when asked, <c>dX[c] = Σ_o dY[o] ∗ W[o, c]</c> (full convolution).</summary>");
                using (w.Block($"private void Layer{i}Backward({code.ReadOnlySpan} x, int batch, {t}[] dY, {t}[] dX, bool computeInputGradient, bool accumulate)"))
                {
                    w.Line("global::StaticGrad.Kernels.PlaneConvolution.Backward(");
                    using (w.Indented())
                    {
                        w.Line($"Layer{i}Convolution, x, new {code.ReadOnlySpan}(dY, 0, batch * {layer.Outputs}), batch, {Weights(code, layer)},");
                        w.Line($"new {code.Span}(_gradients, {layer.WeightOffset}, {layer.Out.Channels * patch}), {(layer.HasBias ? $"new {code.Span}(_gradients, {layer.BiasOffset}, {outChannels})" : "default")}, accumulate,");
                        w.Line($"computeInputGradient ? new {code.Span}(dX, 0, batch * {layer.Inputs}) : default, _layer{i}Workspace, _team);");
                    }
                }

                w.Line();
                return;
            }

            w.Line($"/// <summary>Layer {i}, {Describe(layer)}, backward, on the batch's rows: <c>dW (+)= dYᵀ·rows</c>{(layer.HasBias ? ", <c>db (+)= Σ dY</c> per channel" : string.Empty)}; <c>dX = row2im(dY·W)</c> when asked.</summary>");
            w.Open($"private void Layer{i}Backward(int batch, {t}[] dY, {t}[] dX, bool computeInputGradient, bool accumulate)");
            w.Line($"{t}[] rows = _layer{i}Rows, channelsLast = _layer{i}ChannelsLast;");
            w.Open("for (int b = 0; b < batch; b++)");
            w.Line($"global::StaticGrad.Kernels.Convolution.ToChannelsLast(new {code.ReadOnlySpan}(dY, b * {layer.Outputs}, {layer.Outputs}), new {code.Span}(channelsLast, b * {layer.Outputs}, {layer.Outputs}), {outChannels}, {plane});");
            w.Close();
            w.Line();
            w.Line($"// dW[{outChannels} × {patch}] (+)= dYᵀ · rows, summed over the batch's {plane} positions per example.");
            w.Open("if (accumulate)");
            w.Line(GemmShapeEmitter.Call($"Layer{i}WeightGradientAccumulateProduct", code.Spec.Element, "channelsLast[0]", "rows[0]", $"_gradients[{layer.WeightOffset}]", depth: $"batch * {plane}", team: "_team"));
            w.Close();
            w.Open("else");
            w.Line(GemmShapeEmitter.Call($"Layer{i}WeightGradientProduct", code.Spec.Element, "channelsLast[0]", "rows[0]", $"_gradients[{layer.WeightOffset}]", depth: $"batch * {plane}", team: "_team"));
            w.Close();
            w.Line();
            if (layer.HasBias)
            {
                w.Line($"global::StaticGrad.Kernels.Elementwise.SumRows(new {code.ReadOnlySpan}(channelsLast, 0, batch * {layer.Outputs}), new {code.Span}(_gradients, {layer.BiasOffset}, {outChannels}), accumulate);");
                w.Line();
            }

            if (i == 0)
            {
                w.Line("// The first layer's input gradient is not needed for training; Backward with an input gradient span asks for it.");
                w.Open("if (computeInputGradient)");
                w.Line($"{t}[] rowGradients = _layer{i}RowGradients ??= new {t}[MaxBatchSize * {plane * patch}]; // once, on first use");
            }
            else
            {
                w.Open("if (computeInputGradient)");
                w.Line($"{t}[] rowGradients = _layer{i}RowGradients;");
            }

            w.Line("// rowGradients = dY · W, then each row back onto the input window it came from.");
            w.Line(GemmShapeEmitter.Call($"Layer{i}InputGradientProduct", code.Spec.Element, "channelsLast[0]", $"_parameters[{layer.WeightOffset}]", "rowGradients[0]", rows: $"batch * {plane}", team: "_team"));
            w.Line($"new {code.Span}(dX, 0, batch * {layer.Inputs}).Clear();");
            w.Open("for (int b = 0; b < batch; b++)");
            w.Line($"global::StaticGrad.Kernels.Convolution.Row2ImAdd(new {code.ReadOnlySpan}(rowGradients, b * {plane * patch}, {plane * patch}), {Window(layer)}, new {code.Span}(dX, b * {layer.Inputs}, {layer.Inputs}));");
            w.Close();
            w.Close();
            w.Close();
            w.Line();
        }

        public override void WriteShared(SourceWriter w, NetworkCode code, LayerSpec layer, HashSet<string> written)
        {
            int i = layer.Index, patch = Rows(layer), outChannels = layer.Out.Channels;
            if (Direct(layer))
            {
                return; // no product shapes: PlaneConvolution takes its geometry as a value
            }

            w.Line();
            GemmShapeEmitter.WriteShape(w, new GemmShapeEmitter.Product(
                $"Layer{i}ForwardProduct", $"Layer {i}, {Describe(layer)}: Y[rows×{outChannels}] = patches[rows×{patch}]·Wᵀ, W[{outChannels}×{patch}] read by rows",
                M: 0, N: outChannels, K: patch, LeadingA: patch, LeadingB: patch, TransposeA: false, TransposeB: true, Accumulate: false));
            foreach (bool accumulate in new[] { true, false })
            {
                w.Line();
                GemmShapeEmitter.WriteShape(w, new GemmShapeEmitter.Product(
                    $"Layer{i}WeightGradient{(accumulate ? "Accumulate" : string.Empty)}Product", $"Layer {i}, {Describe(layer)}: dW[{outChannels}×{patch}] {(accumulate ? "+=" : "=")} dYᵀ·patches, dY[rows×{outChannels}] read by columns",
                    M: outChannels, N: patch, K: 0, LeadingA: outChannels, LeadingB: patch, TransposeA: true, TransposeB: false, Accumulate: accumulate));
            }

            w.Line();
            GemmShapeEmitter.WriteShape(w, new GemmShapeEmitter.Product(
                $"Layer{i}InputGradientProduct", $"Layer {i}, {Describe(layer)}: dPatches[rows×{patch}] = dY[rows×{outChannels}]·W[{outChannels}×{patch}]",
                M: 0, N: patch, K: outChannels, LeadingA: outChannels, LeadingB: patch, TransposeA: false, TransposeB: false, Accumulate: false));
        }

        private static string Weights(NetworkCode code, LayerSpec layer) =>
            $"new {code.ReadOnlySpan}(_parameters, {layer.WeightOffset}, {layer.Out.Channels * Rows(layer)})";

        private static string Bias(NetworkCode code, LayerSpec layer) =>
            layer.HasBias ? $"new {code.ReadOnlySpan}(_parameters, {layer.BiasOffset}, {layer.Out.Channels})" : "default";

        private static int Rows(LayerSpec layer) => layer.In.Channels * layer.Kernel * layer.Kernel;

        private static int Plane(LayerSpec layer) => layer.Out.Height * layer.Out.Width;

        private static string Window(LayerSpec layer) =>
            $"{layer.In.Channels}, {layer.In.Height}, {layer.In.Width}, {layer.Kernel}, {layer.Stride}, {layer.Padding}, {layer.Out.Height}, {layer.Out.Width}";
    }
}
