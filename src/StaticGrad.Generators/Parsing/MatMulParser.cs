using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using StaticGrad.Generators.Diagnostics;
using StaticGrad.Generators.Model;

namespace StaticGrad.Generators.Parsing
{
    /// <summary>
    /// Turns a <c>[MatMul]</c> attribute on a type into a <see cref="MatMulSpec"/>, or into diagnostics.
    /// The generator and the analyzer both call it, so what is diagnosed and what is generated never disagree:
    /// the spec is <see langword="null"/> exactly when an error was found.
    /// </summary>
    /// <remarks>
    /// Every diagnostic is located inside the annotated type's own declaration, except SGR0002 on a containing
    /// type: the analyzer reports that one while analysing the container (<see cref="CheckPartial"/>), so each
    /// diagnostic stays local to the symbol being analysed and the IDE refreshes it as the user types.
    /// </remarks>
    internal static class MatMulParser
    {
        public const string FloatAttributeMetadataName = "StaticGrad.MatMulAttribute";
        public const string GenericAttributeMetadataName = "StaticGrad.MatMulAttribute`1";

        /// <summary>The largest element count of a .NET array (<c>Array.MaxLength</c>).</summary>
        public const long MaxElements = 0x7FFFFFC7;

        /// <summary>Generated members that no user member may share a name with.</summary>
        public static readonly ImmutableArray<string> ReservedNames =
            ImmutableArray.Create("M", "K", "N", "WMatrix", "XMatrix", "DMatrix", "ThrowLengthMismatch", "ThrowOverlap");

        /// <summary>Part of the path of every syntax tree StaticGrad's generator adds to a compilation.</summary>
        public const string GeneratedTreePathMarker = "StaticGrad.Generators.StaticGradGenerator";

        private static readonly string[] DimensionNames = { "M", "K", "N" };

        public static bool IsMatMulAttribute(INamedTypeSymbol? attributeClass) =>
            attributeClass is { Name: "MatMulAttribute", ContainingNamespace: { Name: "StaticGrad", ContainingNamespace.IsGlobalNamespace: true } }
            && attributeClass.Arity <= 1;

        public static MatMulSpec? Parse(
            INamedTypeSymbol type,
            AttributeData attribute,
            Compilation compilation,
            DiagnosticSink sink,
            CancellationToken cancellationToken,
            bool reportContainers = true)
        {
            if (attribute.AttributeClass is not { } attributeClass
                || attribute.ConstructorArguments.Length != 3
                || attribute.ConstructorArguments.Any(a => a.Kind == TypedConstantKind.Error || a.Value is not int))
            {
                return null; // the compiler already reports the broken attribute
            }

            if (type.TypeKind is not (TypeKind.Class or TypeKind.Struct) || HasMissingName(type))
            {
                return null; // an interface (CS0592) or a declaration still being typed: the compiler reports it
            }

            var syntax = attribute.ApplicationSyntaxReference?.GetSyntax(cancellationToken) as AttributeSyntax;
            Location attributeLocation = syntax?.GetLocation() ?? type.Locations.FirstOrDefault() ?? Location.None;

            // One shape attribute per type: the first one wins the right to report, the later ones are errors.
            var shapeAttributes = type.GetAttributes().Where(a => IsMatMulAttribute(a.AttributeClass)).ToList();
            if (shapeAttributes.Count > 1)
            {
                if (!ReferenceEquals(shapeAttributes[0], attribute) && !SameApplication(shapeAttributes[0], attribute))
                {
                    sink.Report(DiagnosticDescriptors.DuplicateShapeAttribute, attributeLocation, type.Name, Describe(shapeAttributes[0]));
                }

                return null;
            }

            ElementKind element = ElementKind.Float;
            if (attributeClass.IsGenericType)
            {
                ITypeSymbol typeArgument = attributeClass.TypeArguments[0];
                switch (typeArgument.SpecialType)
                {
                    case SpecialType.System_Single:
                        element = ElementKind.Float;
                        break;
                    case SpecialType.System_Double:
                        element = ElementKind.Double;
                        break;
                    default:
                        if (typeArgument.TypeKind == TypeKind.Error)
                        {
                            return null;
                        }

                        sink.Report(
                            DiagnosticDescriptors.UnsupportedElementType,
                            TypeArgumentLocation(syntax) ?? attributeLocation,
                            typeArgument.ToDisplayString(SymbolDisplayFormat.MinimallyQualifiedFormat));
                        break;
                }
            }

            int[] dims = attribute.ConstructorArguments.Select(a => (int)a.Value!).ToArray();
            for (int i = 0; i < 3; i++)
            {
                if (dims[i] <= 0)
                {
                    sink.Report(DiagnosticDescriptors.NonPositiveDimension, ArgumentLocation(syntax, i) ?? attributeLocation, DimensionNames[i], dims[i]);
                }
            }

            int m = dims[0], k = dims[1], n = dims[2];
            if (m > 0 && k > 0 && n > 0)
            {
                CheckSize(sink, "W", m, k, syntax, 0, 1, attributeLocation);
                CheckSize(sink, "X", k, n, syntax, 1, 2, attributeLocation);
                CheckSize(sink, "D", m, n, syntax, 0, 2, attributeLocation);
            }

            int unrollMode = UnrollRule.Auto;
            foreach (var named in attribute.NamedArguments)
            {
                if (named.Key == "Unroll" && named.Value.Value is int mode)
                {
                    unrollMode = mode;
                }
            }

            if (unrollMode == UnrollRule.Always && m > 0 && k > 0 && n > 0 && (long)m * k * n > UnrollRule.HardLimit)
            {
                sink.Report(
                    DiagnosticDescriptors.UnrollTooLarge,
                    NamedArgumentLocation(syntax, "Unroll") ?? attributeLocation,
                    UnrollRule.HardLimit, m, k, n, (long)m * k * n);
            }

            CheckTarget(type, reportContainers, sink, cancellationToken);
            CheckCollisions(type, element, DescribeText(attribute, element, m, k, n, unrollMode), sink);

            if (compilation.GetTypeByMetadataName("System.Span`1") is null)
            {
                sink.Report(DiagnosticDescriptors.SpanUnavailable, attributeLocation);
            }

            if (sink.HasErrors)
            {
                return null;
            }

            var (unrolled, reason) = UnrollRule.Decide(m, k, n, unrollMode);
            bool nullable = syntax?.SyntaxTree.Options is CSharpParseOptions options
                && options.LanguageVersion >= LanguageVersion.CSharp8;

            return new MatMulSpec(
                TypeHierarchyReader.Read(type),
                element,
                m,
                k,
                n,
                unrolled,
                reason,
                DescribeText(attribute, element, m, k, n, unrollMode),
                nullable);
        }

        private static void CheckSize(DiagnosticSink sink, string operand, int rows, int cols, AttributeSyntax? syntax, int first, int second, Location fallback)
        {
            long count = (long)rows * cols;
            if (count > MaxElements)
            {
                Location location = ArgumentRangeLocation(syntax, first, second) ?? fallback;
                sink.Report(DiagnosticDescriptors.ShapeTooLarge, location, operand, rows, cols, count, MaxElements);
            }
        }

        /// <summary>Partial all the way out, and not file-local: otherwise a generated file cannot reopen the type.</summary>
        private static void CheckTarget(INamedTypeSymbol type, bool reportContainers, DiagnosticSink sink, CancellationToken cancellationToken)
        {
            for (INamedTypeSymbol? current = type; current is not null; current = current.ContainingType)
            {
                if (current.IsFileLocal)
                {
                    sink.Report(
                        DiagnosticDescriptors.UnsupportedTarget,
                        IdentifierLocation(type, cancellationToken),
                        type.Name,
                        ReferenceEquals(current, type)
                            ? "it is file-local, and a generated file cannot add to a file-local type"
                            : $"its containing type '{current.Name}' is file-local, and a generated file cannot add to a file-local type");
                    return;
                }
            }

            CheckPartial(type, null, sink, cancellationToken);
            if (reportContainers)
            {
                for (INamedTypeSymbol? container = type.ContainingType; container is not null; container = container.ContainingType)
                {
                    CheckPartial(container, type.Name, sink, cancellationToken);
                }
            }
        }

        /// <summary>
        /// Reports SGR0002 on every declaration of <paramref name="type"/> that lacks <c>partial</c>.
        /// <paramref name="annotatedType"/> names the nested annotated type when <paramref name="type"/> is a container.
        /// </summary>
        public static void CheckPartial(INamedTypeSymbol type, string? annotatedType, DiagnosticSink sink, CancellationToken cancellationToken)
        {
            foreach (var reference in type.DeclaringSyntaxReferences)
            {
                if (reference.GetSyntax(cancellationToken) is TypeDeclarationSyntax declaration
                    && !declaration.Modifiers.Any(SyntaxKind.PartialKeyword))
                {
                    sink.Report(
                        DiagnosticDescriptors.NotPartial,
                        declaration.Identifier.GetLocation(),
                        type.Name,
                        annotatedType is null ? string.Empty : $" (it contains '{annotatedType}')");
                }
            }
        }

        /// <summary>The first type nested (at any depth) in <paramref name="container"/> that carries a <c>[MatMul]</c> attribute.</summary>
        public static INamedTypeSymbol? FindAnnotatedNestedType(INamedTypeSymbol container)
        {
            foreach (INamedTypeSymbol nested in container.GetTypeMembers())
            {
                if (nested.GetAttributes().Any(a => IsMatMulAttribute(a.AttributeClass)))
                {
                    return nested;
                }

                if (FindAnnotatedNestedType(nested) is { } deeper)
                {
                    return deeper;
                }
            }

            return null;
        }

        private static void CheckCollisions(INamedTypeSymbol type, ElementKind element, string attributeText, DiagnosticSink sink)
        {
            var reserved = new HashSet<string>(ReservedNames) { "Forward", "Backward" };
            if (reserved.Contains(type.Name))
            {
                sink.Report(
                    DiagnosticDescriptors.MemberCollision,
                    type.Locations.FirstOrDefault(),
                    type.Name,
                    $"the name '{type.Name}' (a member cannot share its type's name)",
                    attributeText);
            }

            foreach (var typeParameter in type.TypeParameters)
            {
                if (reserved.Contains(typeParameter.Name))
                {
                    sink.Report(DiagnosticDescriptors.MemberCollision, typeParameter.Locations.FirstOrDefault(), type.Name, $"type parameter '{typeParameter.Name}'", attributeText);
                }
            }

            foreach (ISymbol member in type.GetMembers())
            {
                if (member.IsImplicitlyDeclared || IsGeneratedByStaticGrad(member))
                {
                    continue;
                }

                string? clash = null;
                if (ReservedNames.Contains(member.Name))
                {
                    clash = member.Name;
                }
                else if (member is IMethodSymbol method && (method.Name == "Forward" || method.Name == "Backward")
                    && GeneratedSignatures(method.Name, element).Any(signature => signature.SequenceEqual(method.Parameters.Select(p => ParameterKey(p.Type, type)))))
                {
                    clash = $"{method.Name}({string.Join(", ", method.Parameters.Select(p => p.Type.ToDisplayString(SymbolDisplayFormat.MinimallyQualifiedFormat)))})";
                }

                if (clash is not null)
                {
                    Location location = member.Locations.FirstOrDefault(l => l.IsInSource) ?? Location.None;
                    sink.Report(DiagnosticDescriptors.MemberCollision, location, type.Name, clash, attributeText);
                }
            }
        }

        private static IEnumerable<string[]> GeneratedSignatures(string name, ElementKind element)
        {
            string t = element.Keyword();
            string input = $"global::System.ReadOnlySpan<{t}>";
            string output = $"global::System.Span<{t}>";
            if (name == "Forward")
            {
                yield return new[] { input, input, output };
                yield return new[] { "WMatrix", "XMatrix", "DMatrix" };
            }
            else
            {
                yield return new[] { input, input, input, output, output };
                yield return new[] { "WMatrix", "XMatrix", "DMatrix", "WMatrix", "XMatrix" };
            }
        }

        private static string ParameterKey(ITypeSymbol parameterType, INamedTypeSymbol target) =>
            parameterType.TypeKind == TypeKind.Error || SymbolEqualityComparer.Default.Equals(parameterType.ContainingType, target)
                ? parameterType.Name
                : parameterType.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat);

        /// <summary>The analyzer sees the generator's output in the compilation; those members are ours, not collisions.</summary>
        private static bool IsGeneratedByStaticGrad(ISymbol member) =>
            member.DeclaringSyntaxReferences.Length > 0
            && member.DeclaringSyntaxReferences.All(r => r.SyntaxTree.FilePath.Contains(GeneratedTreePathMarker));

        private static bool HasMissingName(INamedTypeSymbol type)
        {
            for (INamedTypeSymbol? current = type; current is not null; current = current.ContainingType)
            {
                if (string.IsNullOrEmpty(current.Name))
                {
                    return true;
                }
            }

            return false;
        }

        private static bool SameApplication(AttributeData a, AttributeData b) =>
            a.ApplicationSyntaxReference is { } ra && b.ApplicationSyntaxReference is { } rb
            && ra.SyntaxTree == rb.SyntaxTree && ra.Span == rb.Span;

        private static string Describe(AttributeData attribute)
        {
            var attributeClass = attribute.AttributeClass;
            string name = attributeClass is { IsGenericType: true }
                ? $"MatMul<{attributeClass.TypeArguments[0].ToDisplayString(SymbolDisplayFormat.MinimallyQualifiedFormat)}>"
                : "MatMul";
            return $"{name}({string.Join(", ", attribute.ConstructorArguments.Select(a => a.Value))})";
        }

        private static string DescribeText(AttributeData attribute, ElementKind element, int m, int k, int n, int unrollMode)
        {
            string name = attribute.AttributeClass is { IsGenericType: true } ? $"MatMul<{element.Keyword()}>" : "MatMul";
            string unroll = unrollMode switch
            {
                UnrollRule.Always => ", Unroll = UnrollMode.Always",
                UnrollRule.Never => ", Unroll = UnrollMode.Never",
                _ => string.Empty,
            };
            return $"{name}({m}, {k}, {n}{unroll})";
        }

        private static Location IdentifierLocation(INamedTypeSymbol type, CancellationToken cancellationToken)
        {
            foreach (var reference in type.DeclaringSyntaxReferences)
            {
                if (reference.GetSyntax(cancellationToken) is BaseTypeDeclarationSyntax declaration)
                {
                    return declaration.Identifier.GetLocation();
                }
            }

            return type.Locations.FirstOrDefault() ?? Location.None;
        }

        /// <summary>The syntax of constructor argument <paramref name="index"/> (0 = m), honouring <c>k: 10</c> style names.</summary>
        private static AttributeArgumentSyntax? Argument(AttributeSyntax? syntax, int index)
        {
            if (syntax?.ArgumentList is not { } list)
            {
                return null;
            }

            string parameterName = DimensionNames[index].ToLowerInvariant();
            int position = 0;
            foreach (var argument in list.Arguments)
            {
                if (argument.NameEquals is not null)
                {
                    continue;
                }

                if (argument.NameColon is { } nameColon)
                {
                    if (nameColon.Name.Identifier.ValueText == parameterName)
                    {
                        return argument;
                    }
                }
                else if (position == index)
                {
                    return argument;
                }

                position++;
            }

            return null;
        }

        private static Location? ArgumentLocation(AttributeSyntax? syntax, int index) =>
            Argument(syntax, index)?.GetLocation();

        private static Location? ArgumentRangeLocation(AttributeSyntax? syntax, int first, int second)
        {
            var a = Argument(syntax, first);
            var b = Argument(syntax, second);
            if (a is null || b is null)
            {
                return null;
            }

            int start = System.Math.Min(a.SpanStart, b.SpanStart);
            int end = System.Math.Max(a.Span.End, b.Span.End);
            return Location.Create(a.SyntaxTree, Microsoft.CodeAnalysis.Text.TextSpan.FromBounds(start, end));
        }

        private static Location? NamedArgumentLocation(AttributeSyntax? syntax, string name) =>
            syntax?.ArgumentList?.Arguments.FirstOrDefault(a => a.NameEquals?.Name.Identifier.ValueText == name)?.GetLocation();

        private static Location? TypeArgumentLocation(AttributeSyntax? syntax)
        {
            NameSyntax? name = syntax?.Name;
            if (name is QualifiedNameSyntax qualified)
            {
                name = qualified.Right;
            }
            else if (name is AliasQualifiedNameSyntax aliased)
            {
                name = aliased.Name;
            }

            return name is GenericNameSyntax generic && generic.TypeArgumentList.Arguments.Count == 1
                ? generic.TypeArgumentList.Arguments[0].GetLocation()
                : null;
        }
    }
}
