using System.Collections.Generic;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using StaticGrad.Generators.Diagnostics;
using StaticGrad.Generators.Model;

namespace StaticGrad.Generators.Parsing
{
    /// <summary>One layer or loss attribute of a network, with its syntax (when in source) and where to report on it.</summary>
    internal sealed record NetworkEntry(AttributeData Data, AttributeSyntax? Syntax, Location Location);

    /// <summary>
    /// What the parser knows while it walks a network's attributes in order: the layers so far, the width the last one
    /// produces, the element type and where it was set, and whether the chain is still sound enough to check sizes.
    /// Each <see cref="Catalogue.LayerDefinition"/> reads its attribute against this and appends its layer.
    /// </summary>
    internal sealed class NetworkChain
    {
        public NetworkChain(INamedTypeSymbol type, DiagnosticSink sink)
        {
            Type = type;
            Sink = sink;
        }

        /// <summary>The annotated class.</summary>
        public INamedTypeSymbol Type { get; }

        /// <summary>Where diagnostics go.</summary>
        public DiagnosticSink Sink { get; }

        /// <summary>The layers so far, in attribute order.</summary>
        public List<LayerSpec> Layers { get; } = new();

        /// <summary>Features the last layer produces (0 before the first).</summary>
        public int Width { get; set; }

        /// <summary>False once a layer could not be read, so later size checks would only echo the first error.</summary>
        public bool ChainValid { get; set; } = true;

        /// <summary>The element type, set by the first layer that gives one.</summary>
        public ElementKind? Element { get; set; }

        /// <summary>The attribute that set <see cref="Element"/>.</summary>
        public NetworkEntry? ElementSource { get; set; }

        /// <summary>The last Linear layer, for messages that say what an activation follows.</summary>
        public LayerSpec? LastLinear { get; set; }

        /// <summary>The image shape the last layer produces, or <see langword="null"/> for a vector.</summary>
        public SpatialShape? Shape { get; set; }

        /// <summary>Whether an <c>[Input(c, h, w)]</c> came first.</summary>
        public bool HasInput { get; set; }

        /// <summary>Whether anything before the next layer fixes its input: a layer or <c>Input</c>.</summary>
        public bool HasPrevious => Layers.Count > 0 || HasInput;

        /// <summary>What produced the current shape, for messages: the last layer's description, or <c>Input(1, 28, 28)</c>.</summary>
        public string LastDescription { get; set; } = string.Empty;

        /// <summary>How the image shapes came about: <c>Conv2d(1, 8, 3) on 1×28×28 gives 8×26×26</c>, one step per image layer.</summary>
        public List<string> Trace { get; } = new();

        /// <summary>The width as a message gives it: <c>1352</c>, or after Flatten <c>8×13×13 = 1352 (Conv2d(1, 8, 3) on 1×28×28 gives …)</c>.</summary>
        public string WidthText { get; set; } = "0";

        /// <summary>Appends a layer and moves the chain on to what it produces.</summary>
        public void Add(LayerSpec layer, int width, SpatialShape? shape)
        {
            Layers.Add(layer);
            Width = width;
            Shape = shape;
            LastDescription = layer.Describe();
            if (!layer.Definition.IsElementwise)
            {
                // Element-wise layers keep the width and its explanation (after Flatten: the arithmetic that led to it).
                WidthText = width.ToString(System.Globalization.CultureInfo.InvariantCulture);
            }
            if (shape is { } image && !layer.Definition.IsElementwise)
            {
                Trace.Add($"{layer.Describe()}{(Trace.Count == 0 ? $" on {layer.In}" : string.Empty)} gives {image}");
            }
        }
    }
}
