using System.Collections.Immutable;
using System.Linq;
using Microsoft.CodeAnalysis;
using StaticGrad.Generators.Catalogue.Layers;
using StaticGrad.Generators.Catalogue.Losses;
using StaticGrad.Generators.Model;

namespace StaticGrad.Generators.Catalogue
{
    /// <summary>Every layer and loss StaticGrad knows, and how to find one from its attribute or its key.</summary>
    internal static class LayerCatalogue
    {
        /// <summary>The layers, in the order the README's table lists them.</summary>
        public static readonly ImmutableArray<LayerDefinition> Layers = ImmutableArray.Create<LayerDefinition>(
            LinearLayer.Instance,
            ReLULayer.Instance,
            SigmoidLayer.Instance,
            TanhLayer.Instance,
            InputLayer.Instance,
            Conv2dLayer.Instance,
            MaxPool2dLayer.Instance,
            AvgPool2dLayer.Instance,
            FlattenLayer.Instance,
            DropoutLayer.Instance);

        /// <summary>The losses.</summary>
        public static readonly ImmutableArray<LossDefinition> Losses = ImmutableArray.Create<LossDefinition>(
            SoftmaxCrossEntropyLoss.Instance,
            MulticlassSvmLoss.Instance,
            MeanSquaredErrorLoss.Instance);

        /// <summary>The definition behind a spec's layer.</summary>
        public static LayerDefinition Of(LayerKind kind) => Layers.First(l => l.Kind == kind);

        /// <summary>The definition behind a spec's loss (not <see cref="LossKind.None"/>).</summary>
        public static LossDefinition Of(LossKind kind) => Losses.First(l => l.Kind == kind);

        /// <summary>The layer an attribute class stands for (<c>StaticGrad.ReLUAttribute</c>, <c>StaticGrad.LinearAttribute`1</c>), else <see langword="null"/>.</summary>
        public static LayerDefinition? Layer(INamedTypeSymbol? attributeClass) =>
            Named(attributeClass, out string name, out bool generic)
                ? Layers.FirstOrDefault(l => l.Name == name && (!generic || l.HasGenericForm))
                : null;

        /// <summary>The loss an attribute class stands for, else <see langword="null"/>.</summary>
        public static LossDefinition? Loss(INamedTypeSymbol? attributeClass) =>
            Named(attributeClass, out string name, out bool generic) && !generic
                ? Losses.FirstOrDefault(l => l.Name == name)
                : null;

        private static bool Named(INamedTypeSymbol? attributeClass, out string name, out bool generic)
        {
            name = string.Empty;
            generic = false;
            if (attributeClass is null
                || attributeClass.Arity > 1
                || !attributeClass.Name.EndsWith("Attribute", System.StringComparison.Ordinal)
                || attributeClass.ContainingNamespace is not { Name: "StaticGrad", ContainingNamespace.IsGlobalNamespace: true })
            {
                return false;
            }

            name = attributeClass.Name.Substring(0, attributeClass.Name.Length - "Attribute".Length);
            generic = attributeClass.Arity == 1;
            return true;
        }
    }
}
