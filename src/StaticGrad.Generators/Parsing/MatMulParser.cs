using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
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
    /// type: the analyzer reports that one while analysing the container (<see cref="TargetChecks.CheckPartial"/>),
    /// so each diagnostic stays local to the symbol being analysed and the IDE refreshes it as the user types.
    /// </remarks>
    internal static class MatMulParser
    {
        /// <summary>Generated members that no user member may share a name with.</summary>
        public static readonly ImmutableArray<string> ReservedNames =
            ImmutableArray.Create(
                "M", "K", "N", "WMatrix", "XMatrix", "DMatrix", "ThrowLengthMismatch", "ThrowOverlap",
                "ForwardProduct", "WeightGradientProduct", "InputGradientProduct", "Workers");

        private static readonly string[] DimensionNames = { "M", "K", "N" };
        private static readonly string[] ParameterNames = { "m", "k", "n" };

        public static MatMulSpec? Parse(
            INamedTypeSymbol type,
            AttributeData attribute,
            Compilation compilation,
            DiagnosticSink sink,
            CancellationToken cancellationToken,
            bool reportContainers = true)
        {
            if (attribute.AttributeClass is not { } attributeClass || TargetChecks.HasMissingName(type))
            {
                return null; // a declaration still being typed: the compiler reports it
            }

            var syntax = attribute.ApplicationSyntaxReference?.GetSyntax(cancellationToken) as AttributeSyntax;
            Location attributeLocation = syntax?.GetLocation() ?? type.Locations.FirstOrDefault() ?? Location.None;

            if (TargetChecks.AttributeProblem(attribute, type, classesOnly: false) is { } problem)
            {
                sink.Report(DiagnosticDescriptors.AttributeNotUsable, attributeLocation, type.Name, problem);
                return null;
            }

            if (attribute.ConstructorArguments.Length != 3 || attribute.ConstructorArguments.Any(a => a.Value is not int))
            {
                sink.Report(DiagnosticDescriptors.AttributeNotUsable, attributeLocation, type.Name, "MatMul takes three int arguments (m, k, n)");
                return null;
            }

            // One shape per type: a second MatMul, or MatMul beside a network, is an error on the later attribute.
            var shapeAttributes = type.GetAttributes().Where(a => StaticGradAttributes.IsMatMul(a.AttributeClass)).ToList();
            if (shapeAttributes.Count > 1)
            {
                if (!SameApplication(shapeAttributes[0], attribute))
                {
                    sink.Report(DiagnosticDescriptors.DuplicateShapeAttribute, attributeLocation, type.Name, Describe(shapeAttributes[0]));
                }

                return null;
            }

            if (type.GetAttributes().FirstOrDefault(a => StaticGradAttributes.IsNetwork(a.AttributeClass)) is { } networkAttribute)
            {
                sink.Report(DiagnosticDescriptors.DuplicateShapeAttribute, attributeLocation, type.Name, NetworkParser.DescribeFirstLayer(networkAttribute));
                return null;
            }

            ElementKind element = ElementKind.Float;
            if (attributeClass.IsGenericType)
            {
                Location location = AttributeArguments.TypeArgumentLocation(syntax) ?? attributeLocation;
                if (TargetChecks.ElementOf(attributeClass.TypeArguments[0], "MatMul<T>", location, sink) is not { } kind)
                {
                    return null;
                }

                element = kind;
            }

            int[] dims = attribute.ConstructorArguments.Select(a => (int)a.Value!).ToArray();
            for (int i = 0; i < 3; i++)
            {
                if (dims[i] <= 0)
                {
                    sink.Report(
                        DiagnosticDescriptors.NonPositiveDimension,
                        AttributeArguments.PositionalLocation(syntax, i, ParameterNames) ?? attributeLocation,
                        "MatMul",
                        DimensionNames[i],
                        dims[i]);
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
            int threads = 1;
            foreach (var named in attribute.NamedArguments)
            {
                if (named.Key == "Unroll" && named.Value.Value is int mode)
                {
                    unrollMode = mode;
                    if (mode is not (UnrollRule.Auto or UnrollRule.Always or UnrollRule.Never))
                    {
                        sink.Report(
                            DiagnosticDescriptors.AttributeNotUsable,
                            AttributeArguments.NamedLocation(syntax, "Unroll") ?? attributeLocation,
                            type.Name,
                            $"Unroll = {mode} is not one of UnrollMode.Auto, UnrollMode.Always and UnrollMode.Never");
                    }
                }
                else if (named.Key == "Threads" && named.Value.Value is int requested)
                {
                    threads = requested;
                }
            }

            if (unrollMode == UnrollRule.Always && m > 0 && k > 0 && n > 0 && (long)m * k * n > UnrollRule.HardLimit)
            {
                sink.Report(
                    DiagnosticDescriptors.UnrollTooLarge,
                    AttributeArguments.NamedLocation(syntax, "Unroll") ?? attributeLocation,
                    UnrollRule.HardLimit, m, k, n, (long)m * k * n);
            }

            string attributeText = DescribeText(attributeClass.IsGenericType, element, m, k, n, unrollMode, threads);
            TargetChecks.CheckTarget(type, reportContainers, sink, cancellationToken);
            CheckCollisions(type, element, attributeText, compilation, sink, cancellationToken);
            TargetChecks.CheckSpanAvailable(compilation, attributeLocation, sink);

            if (sink.HasErrors)
            {
                return null;
            }

            bool simd = TargetChecks.RuntimeKernelsAvailable(compilation);
            var (unrolled, reason) = UnrollRule.Decide(m, k, n, unrollMode, lanes: element == ElementKind.Double ? 4 : 8, simd);
            threads = EffectiveThreads(threads, unrolled, (long)m * k * n, compilation, AttributeArguments.NamedLocation(syntax, "Threads") ?? attributeLocation, sink);
            return new MatMulSpec(
                TypeHierarchyReader.Read(type),
                element,
                m,
                k,
                n,
                unrolled,
                reason,
                attributeText,
                TargetChecks.NullableDirectiveAllowed(syntax?.SyntaxTree),
                simd,
                threads);
        }

        /// <summary>
        /// The threads the generated code really uses: 1 unless more were asked for, the product is looped, SIMD-capable and at
        /// least <see cref="MatMulSpec.ParallelThreshold"/>, and the target has StaticGrad.Runtime, whose <c>WorkerTeam</c> runs the
        /// parts (SGR0016 says why not, when it matters).
        /// </summary>
        private static int EffectiveThreads(int requested, bool unrolled, long cost, Compilation compilation, Location location, DiagnosticSink sink)
        {
            if (requested == 1)
            {
                return 1;
            }

            string? problem = requested < 1 || requested > 64 ? "must be between 1 and 64"
                : !TargetChecks.RuntimeKernelsAvailable(compilation) ? "needs StaticGrad's run-time kernels (a .NET 8 or later target)"
                : null;
            if (problem is not null)
            {
                sink.Report(DiagnosticDescriptors.ThreadsUnavailable, location, requested, problem);
                return 1;
            }

            return unrolled || cost < MatMulSpec.ParallelThreshold ? 1 : requested;
        }

        private static void CheckSize(DiagnosticSink sink, string operand, int rows, int cols, AttributeSyntax? syntax, int first, int second, Location fallback)
        {
            long count = (long)rows * cols;
            if (count > TargetChecks.MaxElements)
            {
                Location location = AttributeArguments.RangeLocation(syntax, first, second, ParameterNames) ?? fallback;
                sink.Report(DiagnosticDescriptors.ShapeTooLarge, location, operand, rows, cols, count, TargetChecks.MaxElements);
            }
        }

        private static void CheckCollisions(
            INamedTypeSymbol type, ElementKind element, string attributeText, Compilation compilation, DiagnosticSink sink, CancellationToken cancellationToken)
        {
            TargetChecks.CheckReservedNames(type, new HashSet<string>(ReservedNames) { "Forward", "Backward" }, attributeText, sink);

            foreach (ISymbol member in TargetChecks.UserMembers(type))
            {
                if (Clash(member, type, element) is { } clash)
                {
                    sink.Report(DiagnosticDescriptors.MemberCollision, TargetChecks.SourceLocation(member), type.Name, clash, attributeText);
                }
            }

            TargetChecks.ReportInherited(
                type,
                TargetChecks.InheritedMembers(type, compilation)
                    .Select(inherited => (Clash: Clash(inherited.Member, type, element), inherited.From))
                    .Where(inherited => inherited.Clash is not null)
                    .Select(inherited => (inherited.Clash!, inherited.From)),
                attributeText,
                sink,
                cancellationToken);
        }

        /// <summary>How a member reads in SGR0006 when it collides with a generated member, else <see langword="null"/>.</summary>
        private static string? Clash(ISymbol member, INamedTypeSymbol type, ElementKind element)
        {
            if (ReservedNames.Contains(member.Name)
                || (member is not IMethodSymbol && (member.Name == "Forward" || member.Name == "Backward")))
            {
                return member.Name; // a field, property, event or nested type cannot share a name with the generated methods
            }

            if (member is IMethodSymbol method && (method.Name == "Forward" || method.Name == "Backward")
                && GeneratedSignatures(method.Name, element).Any(signature => signature.SequenceEqual(method.Parameters.Select(p => ParameterKey(p.Type, type)))))
            {
                return $"{method.Name}({string.Join(", ", method.Parameters.Select(p => p.Type.ToDisplayString(SymbolDisplayFormat.MinimallyQualifiedFormat)))})";
            }

            return null;
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

        private static bool SameApplication(AttributeData a, AttributeData b) =>
            ReferenceEquals(a, b)
            || (a.ApplicationSyntaxReference is { } ra && b.ApplicationSyntaxReference is { } rb
                && ra.SyntaxTree == rb.SyntaxTree && ra.Span == rb.Span);

        /// <summary>How a MatMul attribute reads in a message: <c>MatMul&lt;double&gt;(1, 2, 3)</c>.</summary>
        public static string Describe(AttributeData attribute)
        {
            var attributeClass = attribute.AttributeClass;
            string name = attributeClass is { IsGenericType: true }
                ? $"MatMul<{attributeClass.TypeArguments[0].ToDisplayString(SymbolDisplayFormat.MinimallyQualifiedFormat)}>"
                : "MatMul";
            return $"{name}({string.Join(", ", attribute.ConstructorArguments.Select(a => a.Value))})";
        }

        private static string DescribeText(bool generic, ElementKind element, int m, int k, int n, int unrollMode, int threads)
        {
            string name = generic ? $"MatMul<{element.Keyword()}>" : "MatMul";
            string unroll = unrollMode switch
            {
                UnrollRule.Always => ", Unroll = UnrollMode.Always",
                UnrollRule.Never => ", Unroll = UnrollMode.Never",
                _ => string.Empty,
            };
            string parallel = threads == 1 ? string.Empty : $", Threads = {threads}";
            return $"{name}({m}, {k}, {n}{unroll}{parallel})";
        }
    }
}
