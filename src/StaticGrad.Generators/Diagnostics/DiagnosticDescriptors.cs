using Microsoft.CodeAnalysis;

namespace StaticGrad.Generators.Diagnostics
{
    /// <summary>
    /// Every diagnostic StaticGrad reports. Ids are stable; each links to its row in the README's
    /// diagnostics table. New ids go into AnalyzerReleases.Unshipped.md.
    /// </summary>
    internal static class DiagnosticDescriptors
    {
        public const string NonPositiveDimensionId = "SGR0001";
        public const string NotPartialId = "SGR0002";
        // SGR0003 is reserved for "layer input does not match the previous layer's output" (networks).
        public const string ShapeTooLargeId = "SGR0004";
        public const string UnsupportedTargetId = "SGR0005";
        public const string MemberCollisionId = "SGR0006";
        public const string UnsupportedElementTypeId = "SGR0007";
        public const string UnrollTooLargeId = "SGR0008";
        public const string DuplicateShapeAttributeId = "SGR0009";
        public const string SpanUnavailableId = "SGR0010";

        private const string Category = "StaticGrad";
        private const string HelpLinkBase = "https://github.com/StaticGrad/StaticGrad/blob/main/README.md#";

        public static readonly DiagnosticDescriptor NonPositiveDimension = Error(
            NonPositiveDimensionId,
            "Matrix dimension must be positive",
            "MatMul dimension {0} must be positive, got {1}");

        public static readonly DiagnosticDescriptor NotPartial = Error(
            NotPartialId,
            "Type must be partial",
            "'{0}' must be declared partial for StaticGrad to extend it{1}");

        public static readonly DiagnosticDescriptor ShapeTooLarge = Error(
            ShapeTooLargeId,
            "Matrix is too large",
            "{0} would be {1}×{2} = {3:N0} elements, more than the {4:N0} that a .NET array or span can hold");

        public static readonly DiagnosticDescriptor UnsupportedTarget = Error(
            UnsupportedTargetId,
            "Type cannot be extended by StaticGrad",
            "StaticGrad cannot extend '{0}': {1}");

        public static readonly DiagnosticDescriptor MemberCollision = Error(
            MemberCollisionId,
            "Member collides with a generated member",
            "'{0}' already has '{1}', which StaticGrad generates for [{2}]; rename or remove it");

        public static readonly DiagnosticDescriptor UnsupportedElementType = Error(
            UnsupportedElementTypeId,
            "Element type must be float or double",
            "MatMul<T> supports float and double, got '{0}'");

        public static readonly DiagnosticDescriptor UnrollTooLarge = new(
            UnrollTooLargeId,
            "Shape too large to unroll",
            "Unroll = UnrollMode.Always needs M·K·N ≤ {0}, but {1}·{2}·{3} = {4:N0}; StaticGrad writes loops instead",
            Category,
            DiagnosticSeverity.Warning,
            isEnabledByDefault: true,
            helpLinkUri: HelpLinkBase + UnrollTooLargeId.ToLowerInvariant());

        public static readonly DiagnosticDescriptor DuplicateShapeAttribute = Error(
            DuplicateShapeAttributeId,
            "Type has more than one StaticGrad attribute",
            "'{0}' already has [{1}]; a type can hold one StaticGrad shape attribute");

        public static readonly DiagnosticDescriptor SpanUnavailable = Error(
            SpanUnavailableId,
            "System.Span<T> is not available",
            "StaticGrad's generated code needs System.Span<T>: target .NET Core 2.1, .NET Standard 2.1 or later, or reference the System.Memory package");

        private static DiagnosticDescriptor Error(string id, string title, string message) => new(
            id,
            title,
            message,
            Category,
            DiagnosticSeverity.Error,
            isEnabledByDefault: true,
            helpLinkUri: HelpLinkBase + id.ToLowerInvariant());
    }
}
