using System.Collections.Immutable;
using System.Linq;
using Microsoft.CodeAnalysis;
using StaticGrad.Generators.Diagnostics;
using StaticGrad.Generators.Emit;
using StaticGrad.Generators.Emit.Network;
using StaticGrad.Generators.Graph.Ops;
using StaticGrad.Generators.Model;
using StaticGrad.Generators.Parsing;

namespace StaticGrad.Generators.Catalogue.Layers
{
    /// <summary>
    /// The Linear layer (<c>[Linear(in, out)]</c>, <c>[Linear&lt;T&gt;(in, out, Bias = false)]</c>): its checks, and its forward and backward passes on a batch. Row-major everywhere; W is out×in like PyTorch's nn.Linear.
    /// Forward: <c>Y = X·Wᵀ + b</c>. Backward: <c>dW += dYᵀ·X</c>, <c>db += Σ_b dY[b,:]</c>, <c>dX = dY·W</c>.
    /// </summary>
    /// <remarks>
    /// With StaticGrad.Runtime referenced (.NET 8+), the three products call its kernels through shape structs written
    /// once per distinct layer shape; otherwise (netstandard2.0) they are plain loops. The first layer reads its input
    /// from the span the caller passed (TrainStep, Predict) or from the copy Forward keeps for Backward.
    /// </remarks>
    internal sealed class LinearLayer : LayerDefinition
    {
        public static readonly LinearLayer Instance = new();

        private static readonly string[] ParameterNames = { "inputs", "outputs" };

        public override LayerKind Kind => LayerKind.Linear;

        public override string Name => "Linear";

        public override bool HasGenericForm => true;

        /// <summary>PyTorch's nn.Linear: <see cref="LinearOp"/> (in, out, bias).</summary>
        public override LoweredLayer? Lower(LayerSpec layer) => LoweredLayer.Ints(LinearOp.Instance, layer.Inputs, layer.Outputs, layer.HasBias ? 1 : 0);

        public override bool HasParameters => true;

        public override int WeightCount(LayerSpec layer) => layer.Inputs * layer.Outputs;

        public override int BiasCount(LayerSpec layer) => layer.HasBias ? layer.Outputs : 0;

        public override string Describe(LayerSpec layer) =>
            $"Linear({layer.Inputs}, {layer.Outputs}{(layer.HasBias ? string.Empty : ", Bias = false")})";

        public override string BackwardCall(NetworkCode code, LayerSpec layer, string from, string to) => layer.Index == 0
            ? $"Layer0Backward(inputs, batch, {from}, {to}, computeInputGradient, accumulateGradients); // {Describe(layer)}"
            : $"Layer{layer.Index}Backward(batch, {from}, {to}, true, accumulateGradients); // {Describe(layer)}";

        /// <summary>The element type (from <c>Linear&lt;T&gt;</c>), two positive sizes, and inputs equal to what the previous layer produces.</summary>
        public override bool Parse(NetworkChain chain, NetworkEntry entry, int index)
        {
            INamedTypeSymbol attributeClass = entry.Data.AttributeClass!;
            ElementKind layerElement = ElementKind.Float;
            if (attributeClass.IsGenericType)
            {
                Location location = AttributeArguments.TypeArgumentLocation(entry.Syntax) ?? entry.Location;
                if (TargetChecks.ElementOf(attributeClass.TypeArguments[0], "Linear<T>", location, chain.Sink) is not { } kind)
                {
                    chain.ChainValid = false;
                    return true;
                }

                layerElement = kind;
            }

            if (chain.Element is null)
            {
                chain.Element = layerElement;
                chain.ElementSource = entry;
            }
            else if (chain.Element != layerElement)
            {
                chain.Sink.Report(
                    DiagnosticDescriptors.MixedElementTypes,
                    AttributeArguments.TypeArgumentLocation(entry.Syntax) ?? entry.Location,
                    NetworkParser.AttributeName(entry.Data),
                    layerElement.Keyword(),
                    chain.Element.Value.Keyword());
            }

            if (entry.Data.ConstructorArguments.Length != 2 || entry.Data.ConstructorArguments.Any(a => a.Value is not int))
            {
                chain.Sink.Report(DiagnosticDescriptors.AttributeNotUsable, entry.Location, chain.Type.Name, "Linear takes two int arguments (inputs, outputs)");
                return false;
            }

            int inputs = (int)entry.Data.ConstructorArguments[0].Value!;
            int outputs = (int)entry.Data.ConstructorArguments[1].Value!;
            bool hasBias = !entry.Data.NamedArguments.Any(n => n.Key == "Bias" && n.Value.Value is false);
            bool dimensionsValid = true;
            for (int i = 0; i < 2; i++)
            {
                int value = i == 0 ? inputs : outputs;
                if (value <= 0)
                {
                    chain.Sink.Report(
                        DiagnosticDescriptors.NonPositiveDimension,
                        AttributeArguments.PositionalLocation(entry.Syntax, i, ParameterNames) ?? entry.Location,
                        "Linear",
                        ParameterNames[i],
                        value);
                    dimensionsValid = false;
                }
            }

            if (dimensionsValid && (long)inputs * outputs > TargetChecks.MaxElements)
            {
                chain.Sink.Report(
                    DiagnosticDescriptors.ShapeTooLarge,
                    AttributeArguments.RangeLocation(entry.Syntax, 0, 1, ParameterNames) ?? entry.Location,
                    $"W of layer {index}",
                    outputs,
                    inputs,
                    (long)inputs * outputs,
                    TargetChecks.MaxElements);
            }

            var layer = new LayerSpec(index, LayerKind.Linear, inputs, outputs, hasBias, 0, 0, false);
            if (chain.Shape is { } image && chain.ChainValid)
            {
                chain.Sink.Report(
                    DiagnosticDescriptors.LayerShape,
                    entry.Location,
                    $"{layer.Describe()} takes a vector, but {chain.LastDescription} produces an image of {image}: put Flatten before it");
                chain.ChainValid = false;
            }

            if (chain.HasPrevious && chain.ChainValid && dimensionsValid && inputs != chain.Width)
            {
                LayerSpec previous = chain.Layers[chain.Layers.Count - 1];
                string before = previous.Kind == LayerKind.Linear || chain.LastLinear is null
                    ? previous.Describe()
                    : $"{previous.Describe()} after {chain.LastLinear.Value.Describe()}";
                chain.Sink.ReportWithProperties(
                    DiagnosticDescriptors.LayerSizeMismatch,
                    AttributeArguments.PositionalLocation(entry.Syntax, 0, ParameterNames) ?? entry.Location,
                    ImmutableDictionary<string, string?>.Empty.Add(DiagnosticDescriptors.ExpectedInputsProperty, chain.Width.ToString(System.Globalization.CultureInfo.InvariantCulture)),
                    layer.Describe(),
                    $"{inputs} inputs",
                    before,
                    chain.WidthText);
            }

            chain.ChainValid &= dimensionsValid;
            chain.Add(layer, outputs, shape: null);
            chain.LastLinear = layer;
            return true;
        }

        public override void WriteForward(SourceWriter w, NetworkCode code, LayerSpec layer)
        {
            string t = code.T;
            int i = layer.Index, inputs = layer.Inputs, outputs = layer.Outputs;
            w.Line($"/// <summary>Layer {i}, {layer.Describe()}: <c>Y = X·Wᵀ{(layer.HasBias ? " + b" : string.Empty)}</c> on a batch, X [batch×{inputs}] → Y [batch×{outputs}].</summary>");
            w.Open(i == 0 ? $"private void Layer0Forward({code.ReadOnlySpan} x, int batch)" : $"private void Layer{i}Forward(int batch)");
            if (i != 0)
            {
                w.Line($"{code.ReadOnlySpan} x = _activations[{i}];");
            }

            w.Line($"// y[b,o] = Σᵢ x[b,i]·W[o,i]{(layer.HasBias ? " + bias[o]" : string.Empty)}: the dot product of row b of X and row o of W, both contiguous.");
            w.Line($"{t}[] y = _activations[{i + 1}], parameters = _parameters;");
            w.Open("for (int b = 0; b < batch; b++)");
            w.Line($"{code.ReadOnlySpan} xRow = x.Slice(b * {inputs}, {inputs});");
            w.Open($"for (int o = 0; o < {outputs}; o++)");
            w.Line($"{code.ReadOnlySpan} wRow = new {code.ReadOnlySpan}(parameters, {layer.WeightOffset} + (o * {inputs}), {inputs});");
            w.Line($"{t} sum = {(layer.HasBias ? $"parameters[{layer.BiasOffset} + o]" : "0")};");
            w.Open($"for (int k = 0; k < {inputs}; k++)");
            w.Line("sum += xRow[k] * wRow[k];");
            w.Close();
            w.Line();
            w.Line($"y[(b * {outputs}) + o] = sum;");
            w.Close();
            w.Close();
            w.Close();
            w.Line();
        }

        public override void WriteBackward(SourceWriter w, NetworkCode code, LayerSpec layer)
        {
            string t = code.T;
            int i = layer.Index, inputs = layer.Inputs, outputs = layer.Outputs;
            w.Line($"/// <summary>Layer {i}, {layer.Describe()}, backward: <c>dW (+)= dYᵀ·X</c>{(layer.HasBias ? ", <c>db (+)= Σ_b dY[b,:]</c>" : string.Empty)} (added when <paramref name=\"accumulate\"/>, else written); <c>dX = dY·W</c> when asked.</summary>");
            w.Open(i == 0
                ? $"private void Layer0Backward({code.ReadOnlySpan} x, int batch, {t}[] dY, {t}[] dX, bool computeInputGradient, bool accumulate)"
                : $"private void Layer{i}Backward(int batch, {t}[] dY, {t}[] dX, bool computeInputGradient, bool accumulate)");
            if (i != 0)
            {
                w.Line($"{code.ReadOnlySpan} x = _activations[{i}];");
            }

            w.Line($"{t}[] parameters = _parameters, gradients = _gradients;");
            w.Open("if (!accumulate)");
            w.Line($"global::System.Array.Clear(gradients, {layer.WeightOffset}, {layer.WeightCount + layer.BiasCount});");
            w.Close();
            w.Line();
            w.Line($"// dW[o,k] += Σ_b dY[b,o]·X[b,k] (dW = dYᵀ·X){(layer.HasBias ? "; db[o] += Σ_b dY[b,o]" : string.Empty)}: row o of dW += dY[b,o] · row b of X.");
            w.Open("for (int b = 0; b < batch; b++)");
            w.Line($"{code.ReadOnlySpan} xRow = x.Slice(b * {inputs}, {inputs});");
            w.Open($"for (int o = 0; o < {outputs}; o++)");
            w.Line($"{t} g = dY[(b * {outputs}) + o];");
            w.Line($"{code.Span} dWRow = new {code.Span}(gradients, {layer.WeightOffset} + (o * {inputs}), {inputs});");
            w.Open($"for (int k = 0; k < {inputs}; k++)");
            w.Line("dWRow[k] += g * xRow[k];");
            w.Close();
            if (layer.HasBias)
            {
                w.Line();
                w.Line($"gradients[{layer.BiasOffset} + o] += g;");
            }

            w.Close();
            w.Close();
            w.Line();
            w.Open("if (!computeInputGradient)");
            w.Line("return;");
            w.Close();
            w.Line();
            w.Line("// dX[b,k] = Σ_o dY[b,o]·W[o,k] (dX = dY·W): row b of dX += dY[b,o] · row o of W.");
            w.Open("for (int b = 0; b < batch; b++)");
            w.Line($"{code.Span} dXRow = new {code.Span}(dX, b * {inputs}, {inputs});");
            w.Line("dXRow.Clear();");
            w.Open($"for (int o = 0; o < {outputs}; o++)");
            w.Line($"{t} g = dY[(b * {outputs}) + o];");
            w.Line($"{code.ReadOnlySpan} wRow = new {code.ReadOnlySpan}(parameters, {layer.WeightOffset} + (o * {inputs}), {inputs});");
            w.Open($"for (int k = 0; k < {inputs}; k++)");
            w.Line("dXRow[k] += g * wRow[k];");
            w.Close();
            w.Close();
            w.Close();
            w.Close();
            w.Line();
        }
    }
}
