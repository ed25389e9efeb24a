using System.Globalization;
using StaticGrad.Generators.Diagnostics;
using StaticGrad.Generators.Emit;
using StaticGrad.Generators.Emit.Network;
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

        public override void WriteFields(SourceWriter w, NetworkCode code, LayerSpec layer)
        {
            w.Line($"// Layer {layer.Index}, {Describe(layer)}: this step's mask (0 or 1/(1 − p) per value; 1 outside training), for the backward pass.");
            w.Line($"private readonly {code.T}[] _layer{layer.Index}Mask;");
            w.Line();
        }

        public override void WriteAllocation(SourceWriter w, NetworkCode code, LayerSpec layer) =>
            w.Line($"_layer{layer.Index}Mask = new {code.T}[maxBatchSize * {layer.Outputs}];");

        public override void WriteForward(SourceWriter w, NetworkCode code, LayerSpec layer)
        {
            int i = layer.Index;
            string t = code.T;
            double keep = 1 - layer.Rate;
            w.Line($"/// <summary>Layer {i}, {Describe(layer)}: in a training step, each value kept with probability {keep.ToString("R", CultureInfo.InvariantCulture)} and scaled by 1/{keep.ToString("R", CultureInfo.InvariantCulture)}, else 0; otherwise unchanged.</summary>");
            OpenForward(w, code, layer);
            w.Line($"{t}[] y = _activations[{i + 1}], mask = _layer{i}Mask;");
            w.Line($"int count = batch * {layer.Outputs};");
            w.Open("if (!_training)");
            w.Line("x.CopyTo(y);");
            w.Line($"new {code.Span}(mask, 0, count).Fill({code.Literal(1)});");
            w.Line("return;");
            w.Close();
            w.Line();
            w.Line($"{t} scale = {code.Literal(1 / keep)};");
            w.Open("for (int e = 0; e < count; e++)");
            w.Line($"// A uniform draw in [0, 1) from the top 53 bits of xorshift64*; kept when it is at least p.");
            w.Line("ulong s = _dropoutState;");
            w.Line("s ^= s >> 12;");
            w.Line("s ^= s << 25;");
            w.Line("s ^= s >> 27;");
            w.Line("_dropoutState = s;");
            w.Line("double u = ((s * 0x2545F4914F6CDD1DUL) >> 11) * (1.0 / 9007199254740992.0);");
            w.Line($"mask[e] = u >= {layer.Rate.ToString("R", CultureInfo.InvariantCulture)} ? scale : {code.Literal(0)};");
            w.Line("y[e] = x[e] * mask[e];");
            w.Close();
            w.Close();
            w.Line();
        }

        public override void WriteBackward(SourceWriter w, NetworkCode code, LayerSpec layer)
        {
            int i = layer.Index;
            w.Line($"/// <summary>Layer {i}, {Describe(layer)}, backward: <c>dX = dY · mask</c>, the mask of the last forward pass.</summary>");
            w.Open($"private void Layer{i}Backward(int batch, {code.T}[] dY, {code.T}[] dX)");
            w.Line($"{code.T}[] mask = _layer{i}Mask;");
            w.Open($"for (int e = 0; e < batch * {layer.Outputs}; e++)");
            w.Line("dX[e] = dY[e] * mask[e];");
            w.Close();
            w.Close();
            w.Line();
        }
    }
}
