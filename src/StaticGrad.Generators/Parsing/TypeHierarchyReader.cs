using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using StaticGrad.Generators.Helpers;
using StaticGrad.Generators.Model;

namespace StaticGrad.Generators.Parsing
{
    /// <summary>Reads where a type sits (namespace and containing types) into a <see cref="TypeHierarchy"/>.</summary>
    internal static class TypeHierarchyReader
    {
        public static TypeHierarchy Read(INamedTypeSymbol type)
        {
            var chain = new List<INamedTypeSymbol>();
            for (INamedTypeSymbol? current = type; current is not null; current = current.ContainingType)
            {
                chain.Add(current);
            }

            chain.Reverse();
            var declarations = chain.Select(t => new TypeDeclarationInfo(Keyword(t), NameWithTypeParameters(t))).ToImmutableArray();

            string? ns = type.ContainingNamespace is { IsGlobalNamespace: false } containing
                ? containing.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat.WithGlobalNamespaceStyle(SymbolDisplayGlobalNamespaceStyle.Omitted))
                : null;
            string metadataName = (ns is null ? string.Empty : ns + ".") + string.Join("+", chain.Select(t => t.MetadataName));

            return new TypeHierarchy(
                ns,
                new EquatableArray<TypeDeclarationInfo>(declarations),
                metadataName,
                type.ToDisplayString(SymbolDisplayFormat.CSharpErrorMessageFormat));
        }

        private static string Keyword(INamedTypeSymbol type) => type switch
        {
            { IsRecord: true, TypeKind: TypeKind.Struct } => "record struct",
            { IsRecord: true } => "record",
            { TypeKind: TypeKind.Struct, IsRefLikeType: true } => "ref struct",
            { TypeKind: TypeKind.Struct } => "struct",
            { TypeKind: TypeKind.Interface } => "interface",
            _ => "class",
        };

        private static string NameWithTypeParameters(INamedTypeSymbol type) =>
            type.TypeParameters.Length == 0
                ? Escape(type.Name)
                : $"{Escape(type.Name)}<{string.Join(", ", type.TypeParameters.Select(p => Escape(p.Name)))}>";

        /// <summary>Prefixes <c>@</c> to names that are C# keywords (<c>class @event</c>).</summary>
        private static string Escape(string name) =>
            SyntaxFacts.GetKeywordKind(name) != SyntaxKind.None ? "@" + name : name;
    }
}
