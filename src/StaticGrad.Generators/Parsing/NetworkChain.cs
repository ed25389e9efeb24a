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
    }
}
