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
        public const string Input = "StaticGrad.InputAttribute";
        public const string InputGeneric = "StaticGrad.InputAttribute`1";

        /// <summary>The metadata names of the attributes a network can be found by: its first one of these owns it.</summary>
        public static readonly string[] NetworkAnchors = { Linear, LinearGeneric, Input, InputGeneric };

        public static bool IsMatMul(INamedTypeSymbol? attributeClass) => Is(attributeClass, "MatMulAttribute") && attributeClass!.Arity <= 1;

        public static bool IsLinear(INamedTypeSymbol? attributeClass) => Is(attributeClass, "LinearAttribute") && attributeClass!.Arity <= 1;

        /// <summary>The metadata name of a Linear or Input attribute (one of <see cref="NetworkAnchors"/>), else <see langword="null"/>.</summary>
        public static string? AnchorName(INamedTypeSymbol? attributeClass) =>
            (IsLinear(attributeClass) || Is(attributeClass, "InputAttribute")) && attributeClass!.Arity <= 1
                ? $"StaticGrad.{attributeClass.Name}{(attributeClass.IsGenericType ? "`1" : string.Empty)}"
                : null;

        /// <summary>A layer or loss of a sequential network: any attribute of the catalogue.</summary>
        public static bool IsNetwork(INamedTypeSymbol? attributeClass) =>
            Catalogue.LayerCatalogue.Layer(attributeClass) is not null || Catalogue.LayerCatalogue.Loss(attributeClass) is not null;

        /// <summary>Any attribute that makes StaticGrad generate code for a type.</summary>
        public static bool IsAny(INamedTypeSymbol? attributeClass) => IsMatMul(attributeClass) || IsNetwork(attributeClass);

        private static bool Is(INamedTypeSymbol? attributeClass, string name) =>
            attributeClass is not null && attributeClass.Name == name && InNamespace(attributeClass);

        private static bool InNamespace(INamedTypeSymbol attributeClass) =>
            attributeClass.ContainingNamespace is { Name: "StaticGrad", ContainingNamespace.IsGlobalNamespace: true };
    }
}
