using System.Linq;
using Microsoft.CodeAnalysis;
using StaticGrad.Generators.Diagnostics;
using StaticGrad.Generators.Emit;
using StaticGrad.Generators.Emit.Network;
using StaticGrad.Generators.Model;
using StaticGrad.Generators.Parsing;

namespace StaticGrad.Generators.Catalogue.Layers
{
    /// <summary>
    /// <c>[Input(channels, height, width)]</c> (or <c>Input&lt;T&gt;</c>): not a layer of its own, it fixes the image shape the
    /// first layer receives, and with <c>Input&lt;T&gt;</c> the element type. It must come first.
    /// </summary>
    internal sealed class InputLayer : LayerDefinition
    {
        public static readonly InputLayer Instance = new();

        private static readonly string[] ParameterNames = { "channels", "height", "width" };

        public override LayerKind Kind => LayerKind.Input;

        public override string Name => "Input";

        public override bool HasGenericForm => true;

        public override string Describe(LayerSpec layer) => $"Input({layer.In.Channels}, {layer.In.Height}, {layer.In.Width})";

        public override bool Parse(NetworkChain chain, NetworkEntry entry, int index)
        {
            INamedTypeSymbol attributeClass = entry.Data.AttributeClass!;
            if (chain.HasPrevious)
            {
                chain.Sink.Report(DiagnosticDescriptors.LayerShape, entry.Location, "Input(channels, height, width) comes first, before every layer; here it follows " + chain.LastDescription);
                chain.ChainValid = false;
                return true;
            }

            if (attributeClass.IsGenericType)
            {
                Location location = AttributeArguments.TypeArgumentLocation(entry.Syntax) ?? entry.Location;
                if (TargetChecks.ElementOf(attributeClass.TypeArguments[0], "Input<T>", location, chain.Sink) is { } element)
                {
                    chain.Element = element;
                    chain.ElementSource = entry;
                }
            }
            else
            {
                chain.Element = ElementKind.Float; // Input without <T>: a float network, as Linear without <T>
                chain.ElementSource = entry;
            }

            if (entry.Data.ConstructorArguments.Length != 3 || entry.Data.ConstructorArguments.Any(a => a.Value is not int))
            {
                chain.Sink.Report(DiagnosticDescriptors.AttributeNotUsable, entry.Location, chain.Type.Name, "Input takes three int arguments (channels, height, width)");
                return false;
            }

            int[] values = entry.Data.ConstructorArguments.Select(a => (int)a.Value!).ToArray();
            bool valid = true;
            for (int i = 0; i < 3; i++)
            {
                if (values[i] <= 0)
                {
                    chain.Sink.Report(DiagnosticDescriptors.NonPositiveDimension, AttributeArguments.PositionalLocation(entry.Syntax, i, ParameterNames) ?? entry.Location, "Input", ParameterNames[i], values[i]);
                    valid = false;
                }
            }

            var shape = new SpatialShape(values[0], values[1], values[2]);
            if (valid && shape.Size > TargetChecks.MaxElements)
            {
                chain.Sink.Report(DiagnosticDescriptors.LayerShape, entry.Location, $"Input({values[0]}, {values[1]}, {values[2]}) holds {shape.Size} values per example, more than an array can ({TargetChecks.MaxElements})");
                valid = false;
            }

            chain.HasInput = true;
            chain.ChainValid &= valid;
            chain.Shape = valid ? shape : null;
            chain.Width = valid ? (int)shape.Size : 0;
            chain.WidthText = $"{shape} = {chain.Width}";
            chain.LastDescription = $"Input({values[0]}, {values[1]}, {values[2]})";
            return true;
        }
    }
}
