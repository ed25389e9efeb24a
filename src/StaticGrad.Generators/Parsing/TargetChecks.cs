using System.Collections.Generic;
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
    /// Checks every StaticGrad target shares: can a generated file reopen the type, does a user member clash with a
    /// generated one, does the framework have what generated code uses.
    /// </summary>
    internal static class TargetChecks
    {
        /// <summary>The largest element count of a .NET array (<c>Array.MaxLength</c>).</summary>
        public const long MaxElements = 0x7FFFFFC7;

        /// <summary>Part of the path of every syntax tree StaticGrad's generator adds to a compilation.</summary>
        public const string GeneratedTreePathMarker = "StaticGrad.Generators.StaticGradGenerator";

        /// <summary>A declaration still being typed (no name yet): the compiler reports it, StaticGrad stays quiet.</summary>
        public static bool HasMissingName(INamedTypeSymbol type)
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

        /// <summary>
        /// Why a StaticGrad attribute cannot be read, or <see langword="null"/> when it can: its constructor or arguments do
        /// not compile (the compiler reports the detail; SGR0018 says that no code follows), or it sits on a kind of type
        /// it does not apply to. <paramref name="classesOnly"/> is true for network attributes, which apply to classes only.
        /// </summary>
        public static string? AttributeProblem(AttributeData attribute, INamedTypeSymbol type, bool classesOnly)
        {
            INamedTypeSymbol? attributeClass = attribute.AttributeClass;
            if (attributeClass is null || attributeClass.TypeKind == TypeKind.Error)
            {
                return "the attribute does not compile";
            }

            foreach (ITypeSymbol typeArgument in attributeClass.TypeArguments)
            {
                if (typeArgument.TypeKind == TypeKind.Error)
                {
                    return $"the type argument '{typeArgument.ToDisplayString(SymbolDisplayFormat.MinimallyQualifiedFormat)}' does not compile";
                }
            }

            if (attribute.AttributeConstructor is null
                || attribute.ConstructorArguments.Any(a => a.Kind == TypedConstantKind.Error)
                || attribute.NamedArguments.Any(a => a.Value.Kind == TypedConstantKind.Error))
            {
                return "the attribute's arguments do not compile (see the compiler's error)";
            }

            bool applies = classesOnly ? type.TypeKind == TypeKind.Class : type.TypeKind is TypeKind.Class or TypeKind.Struct;
            if (!applies)
            {
                string kind = type.TypeKind switch
                {
                    TypeKind.Struct => "a struct",
                    TypeKind.Interface => "an interface",
                    TypeKind.Enum => "an enum",
                    TypeKind.Delegate => "a delegate",
                    _ => "this kind of type",
                };
                return classesOnly
                    ? $"network layers apply to classes, and '{type.Name}' is {kind}"
                    : $"[MatMul] applies to classes and structs, and '{type.Name}' is {kind}";
            }

            return null;
        }

        /// <summary>Partial all the way out, and not file-local: otherwise a generated file cannot reopen the type.</summary>
        public static void CheckTarget(INamedTypeSymbol type, bool reportContainers, DiagnosticSink sink, CancellationToken cancellationToken)
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

        /// <summary>The first type nested (at any depth) in <paramref name="container"/> that carries a StaticGrad attribute.</summary>
        public static INamedTypeSymbol? FindAnnotatedNestedType(INamedTypeSymbol container)
        {
            foreach (INamedTypeSymbol nested in container.GetTypeMembers())
            {
                if (nested.GetAttributes().Any(a => StaticGradAttributes.IsAny(a.AttributeClass)))
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

        /// <summary>
        /// SGR0006 for the type's own name, a type parameter, or a user member that uses a name StaticGrad generates.
        /// </summary>
        public static void CheckReservedNames(INamedTypeSymbol type, ICollection<string> reserved, string attributeText, DiagnosticSink sink)
        {
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
        }

        /// <summary>User-declared members (not implicit, not from StaticGrad's own generated files).</summary>
        public static IEnumerable<ISymbol> UserMembers(INamedTypeSymbol type) =>
            type.GetMembers().Where(m => !m.IsImplicitlyDeclared && !IsGeneratedByStaticGrad(m));

        /// <summary>
        /// Members the type inherits from its base classes (up to, not including, <c>object</c>) and can see: a generated
        /// member with the same name would hide them (CS0108), so they are checked like the type's own.
        /// </summary>
        public static IEnumerable<(ISymbol Member, INamedTypeSymbol From)> InheritedMembers(INamedTypeSymbol type, Compilation compilation)
        {
            for (INamedTypeSymbol? baseType = type.BaseType; baseType is not null && baseType.SpecialType != SpecialType.System_Object; baseType = baseType.BaseType)
            {
                foreach (ISymbol member in baseType.GetMembers())
                {
                    if (!member.IsImplicitlyDeclared
                        && member is not IMethodSymbol { MethodKind: not MethodKind.Ordinary }
                        && compilation.IsSymbolAccessibleWithin(member, type))
                    {
                        yield return (member, baseType);
                    }
                }
            }
        }

        /// <summary>One SGR0006 on the base list for all inherited members that collide, naming up to four of them (from the nearest base that has one).</summary>
        public static void ReportInherited(
            INamedTypeSymbol type, IEnumerable<(string Name, INamedTypeSymbol From)> clashes, string attributeText, DiagnosticSink sink, CancellationToken cancellationToken)
        {
            var list = clashes.ToList();
            if (list.Count == 0)
            {
                return;
            }

            string names = string.Join(", ", list.Take(4).Select(c => $"'{c.Name}'")) + (list.Count > 4 ? $" and {list.Count - 4} more" : string.Empty);
            sink.Report(
                DiagnosticDescriptors.InheritedMemberCollision,
                BaseListLocation(type, cancellationToken),
                type.Name,
                names,
                list[0].From.Name,
                attributeText);
        }

        /// <summary>Where an inherited collision is reported: the base class in the type's base list, else the type's name.</summary>
        public static Location BaseListLocation(INamedTypeSymbol type, CancellationToken cancellationToken)
        {
            foreach (var reference in type.DeclaringSyntaxReferences)
            {
                if (reference.GetSyntax(cancellationToken) is TypeDeclarationSyntax { BaseList.Types: { Count: > 0 } types })
                {
                    return types[0].GetLocation();
                }
            }

            return IdentifierLocation(type, cancellationToken);
        }

        public static Location SourceLocation(ISymbol symbol) => symbol.Locations.FirstOrDefault(l => l.IsInSource) ?? Location.None;

        /// <summary>SGR0010 when the compilation has no <c>System.Span&lt;T&gt;</c>.</summary>
        public static void CheckSpanAvailable(Compilation compilation, Location location, DiagnosticSink sink)
        {
            if (PublicType(compilation, "System.Span`1") is null)
            {
                sink.Report(DiagnosticDescriptors.SpanUnavailable, location);
            }
        }

        /// <summary>float or double for a type argument of <paramref name="attribute"/> (<c>Linear&lt;T&gt;</c>); SGR0007 otherwise; <see langword="null"/> when it did not bind.</summary>
        public static ElementKind? ElementOf(ITypeSymbol typeArgument, string attribute, Location location, DiagnosticSink sink)
        {
            switch (typeArgument.SpecialType)
            {
                case SpecialType.System_Single:
                    return ElementKind.Float;
                case SpecialType.System_Double:
                    return ElementKind.Double;
                default:
                    if (typeArgument.TypeKind != TypeKind.Error)
                    {
                        sink.Report(DiagnosticDescriptors.UnsupportedElementType, location, attribute, typeArgument.ToDisplayString(SymbolDisplayFormat.MinimallyQualifiedFormat));
                    }

                    return null;
            }
        }

        /// <summary>
        /// Whether the compilation references StaticGrad.Runtime, the package's run-time library (lib/net8.0): its
        /// matrix-product kernels and optimizer steps, specialised per shape by the JIT, and the interchange code
        /// (safetensors, ONNX). netstandard2.0 targets do not get it: StaticGrad writes plain loops for them instead, and
        /// their networks have no SaveSafetensors/LoadSafetensors/ExportOnnx.
        /// </summary>
        public static bool RuntimeKernelsAvailable(Compilation compilation) =>
            PublicType(compilation, "StaticGrad.Kernels.Gemm") is not null
            && PublicType(compilation, "StaticGrad.Kernels.IGemmShape") is not null
            && PublicType(compilation, "StaticGrad.Optimizers.OptimizerSteps") is not null
            && PublicType(compilation, "StaticGrad.Typed.FixedMatrix`1") is not null
            && PublicType(compilation, "StaticGrad.Interchange.NetworkDescription") is not null
            && PublicType(compilation, "StaticGrad.Interchange.Safetensors") is not null
            && PublicType(compilation, "StaticGrad.Interchange.OnnxExport") is not null
            && PublicType(compilation, "StaticGrad.Training.Optimizer") is not null
            && PublicType(compilation, "StaticGrad.IClassifier`1") is not null
            && PublicType(compilation, "StaticGrad.Kernels.PlaneConvolution") is not null;

        /// <summary>
        /// A framework type the generated code may use: it must be public (netstandard2.0 with System.Memory, for one,
        /// carries an internal <c>System.MathF</c> that generated code cannot call).
        /// </summary>
        public static INamedTypeSymbol? PublicType(Compilation compilation, string metadataName) =>
            compilation.GetTypeByMetadataName(metadataName) is { DeclaredAccessibility: Accessibility.Public } type ? type : null;

        public static bool NullableDirectiveAllowed(SyntaxTree? tree) =>
            tree?.Options is CSharpParseOptions options && options.LanguageVersion >= LanguageVersion.CSharp8;

        public static Location IdentifierLocation(INamedTypeSymbol type, CancellationToken cancellationToken)
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

        /// <summary>The analyzer sees the generator's output in the compilation; those members are ours, not collisions.</summary>
        private static bool IsGeneratedByStaticGrad(ISymbol member) =>
            member.DeclaringSyntaxReferences.Length > 0
            && member.DeclaringSyntaxReferences.All(r => r.SyntaxTree.FilePath.Contains(GeneratedTreePathMarker));
    }
}
