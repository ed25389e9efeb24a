using Microsoft.CodeAnalysis;

namespace StaticGrad.Generators.Parsing
{
    /// <summary>Recognises StaticGrad's attributes by name, without referencing the attribute assembly.</summary>
    internal static class StaticGradAttributes
    {
        public const string MatMul = "StaticGrad.MatMulAttribute";
        public const string MatMulGeneric = "StaticGrad.MatMulAttribute`1";
        public const string Linear = "StaticGrad.LinearAttribute";
        public const string LinearGeneric = "StaticGrad.LinearAttribute`1";

        public static bool IsMatMul(INamedTypeSymbol? attributeClass) => Is(attributeClass, "MatMulAttribute") && attributeClass!.Arity <= 1;

        public static bool IsLinear(INamedTypeSymbol? attributeClass) => Is(attributeClass, "LinearAttribute") && attributeClass!.Arity <= 1;

        /// <summary>A layer or loss of a sequential network.</summary>
        public static bool IsNetwork(INamedTypeSymbol? attributeClass) =>
            IsLinear(attributeClass) || LayerName(attributeClass) is not null || LossName(attributeClass) is not null;

        /// <summary>Any attribute that makes StaticGrad generate code for a type.</summary>
        public static bool IsAny(INamedTypeSymbol? attributeClass) => IsMatMul(attributeClass) || IsNetwork(attributeClass);

        /// <summary><c>ReLU</c>, <c>Sigmoid</c> or <c>Tanh</c> for an activation attribute, else <see langword="null"/>.</summary>
        public static string? LayerName(INamedTypeSymbol? attributeClass) => attributeClass is { Arity: 0 } && InNamespace(attributeClass)
            ? attributeClass.Name switch
            {
                "ReLUAttribute" => "ReLU",
                "SigmoidAttribute" => "Sigmoid",
                "TanhAttribute" => "Tanh",
                _ => null,
            }
            : null;

        /// <summary>The loss name for a loss attribute, else <see langword="null"/>.</summary>
        public static string? LossName(INamedTypeSymbol? attributeClass) => attributeClass is { Arity: 0 } && InNamespace(attributeClass)
            ? attributeClass.Name switch
            {
                "SoftmaxCrossEntropyAttribute" => "SoftmaxCrossEntropy",
                "MulticlassSvmAttribute" => "MulticlassSvm",
                "MeanSquaredErrorAttribute" => "MeanSquaredError",
                _ => null,
            }
            : null;

        private static bool Is(INamedTypeSymbol? attributeClass, string name) =>
            attributeClass is not null && attributeClass.Name == name && InNamespace(attributeClass);

        private static bool InNamespace(INamedTypeSymbol attributeClass) =>
            attributeClass.ContainingNamespace is { Name: "StaticGrad", ContainingNamespace.IsGlobalNamespace: true };
    }
}
