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
        public const string LayerSizeMismatchId = "SGR0003";
        public const string ShapeTooLargeId = "SGR0004";
        public const string UnsupportedTargetId = "SGR0005";
        public const string MemberCollisionId = "SGR0006";
        public const string UnsupportedElementTypeId = "SGR0007";
        public const string UnrollTooLargeId = "SGR0008";
        public const string DuplicateShapeAttributeId = "SGR0009";
        public const string SpanUnavailableId = "SGR0010";
        public const string LossWidthId = "SGR0011";
        public const string LossNotLastId = "SGR0012";
        public const string LayersSplitId = "SGR0013";
        public const string NetworkWithoutLinearId = "SGR0014";
        public const string MixedElementTypesId = "SGR0015";
        public const string ThreadsUnavailableId = "SGR0016";
        public const string ConstructorMustChainId = "SGR0017";
        public const string AttributeNotUsableId = "SGR0018";
        public const string InvalidLossSettingId = "SGR0019";
        public const string LayerShapeId = "SGR0020";
        public const string ModelShapeId = "SGR0021";
        public const string ModelUnsupportedId = "SGR0022";
        public const string ModelArgumentId = "SGR0023";
        public const string ModelDeclarationId = "SGR0024";
        public const string OnnxFileNotFoundId = "SGR0025";
        public const string OnnxFileInvalidId = "SGR0026";
        public const string OnnxUnsupportedId = "SGR0027";
        public const string InternalErrorId = "SGR0028";

        /// <summary>The property of an SGR0003 diagnostic that holds the input size that would chain (for the code fix).</summary>
        public const string ExpectedInputsProperty = "ExpectedInputs";

        /// <summary>The property of an SGR0021 diagnostic that holds the number a module's constructor argument should be (for the code fix, which replaces the diagnostic's additional location).</summary>
        public const string ExpectedArgumentProperty = "ExpectedArgument";

        private const string Category = "StaticGrad";
        private const string HelpLinkBase = "https://github.com/StaticGrad/StaticGrad/blob/main/README.md#";

        public static readonly DiagnosticDescriptor NonPositiveDimension = Error(
            NonPositiveDimensionId,
            "Dimension must be positive",
            "{0} dimension {1} must be positive, got {2}");

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

        /// <summary>SGR0006 for members a base class brings in; reported on the base list.</summary>
        public static readonly DiagnosticDescriptor InheritedMemberCollision = Error(
            MemberCollisionId,
            "Member collides with a generated member",
            "'{0}' inherits {1} from '{2}', which StaticGrad generates for [{3}]; rename it in the base class or derive from another class");

        public static readonly DiagnosticDescriptor UnsupportedElementType = Error(
            UnsupportedElementTypeId,
            "Element type must be float or double",
            "{0} supports float and double, got '{1}'");

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

        public static readonly DiagnosticDescriptor LayerSizeMismatch = Error(
            LayerSizeMismatchId,
            "Layer input does not match the previous layer's output",
            "{0} expects {1}, but the layer before it ({2}) produces {3}");

        public static readonly DiagnosticDescriptor LossWidth = Error(
            LossWidthId,
            "Loss does not fit the network's output",
            "{0} needs at least 2 outputs (one score per class), but the network produces {1}");

        public static readonly DiagnosticDescriptor LossNotLast = Error(
            LossNotLastId,
            "Loss must be the last layer",
            "{0} is a loss and must come last, but {1} follows it");

        public static readonly DiagnosticDescriptor LayersSplit = Error(
            LayersSplitId,
            "Network layers are split across partial declarations",
            "'{0}' declares layers on more than one partial declaration; put all of a network's layer attributes on one declaration so their order is defined");

        public static readonly DiagnosticDescriptor NetworkWithoutLinear = Error(
            NetworkWithoutLinearId,
            "Network must start with a Linear layer",
            "'{0}' {1}; a network starts with Linear(inputs, outputs), which fixes its input size");

        public static readonly DiagnosticDescriptor MixedElementTypes = Error(
            MixedElementTypesId,
            "Linear layers use different element types",
            "{0} uses {1}, but the network's first Linear layer uses {2}; all Linear layers of a network use one element type");

        public static readonly DiagnosticDescriptor ThreadsUnavailable = new(
            ThreadsUnavailableId,
            "Threads cannot be used here",
            "Threads = {0} {1}; Forward and Backward run on the calling thread",
            Category,
            DiagnosticSeverity.Warning,
            isEnabledByDefault: true,
            helpLinkUri: HelpLinkBase + ThreadsUnavailableId.ToLowerInvariant());

        public static readonly DiagnosticDescriptor ConstructorMustChain = Error(
            ConstructorMustChainId,
            "Network constructor must call the generated one",
            "This constructor of '{0}' must call this(seed, maxBatchSize) (the generated constructor), or the network's parameters and buffers are never created");

        public static readonly DiagnosticDescriptor AttributeNotUsable = Error(
            AttributeNotUsableId,
            "StaticGrad attribute cannot be used",
            "No code is generated for '{0}': {1}");

        public static readonly DiagnosticDescriptor InvalidLossSetting = Error(
            InvalidLossSettingId,
            "Loss setting out of range",
            "{0} must be a finite number greater than 0, got {1}");

        public static readonly DiagnosticDescriptor LayerShape = Error(
            LayerShapeId,
            "Layer does not fit the shape it receives",
            "{0}");

        /// <summary>A value of a model's forward pass does not have the shape its op needs; located on the expression.</summary>
        public static readonly DiagnosticDescriptor ModelShape = Error(
            ModelShapeId,
            "Shapes do not fit",
            "{0}");

        /// <summary>A construct of a forward pass or module constructor that StaticGrad cannot turn into the graph.</summary>
        public static readonly DiagnosticDescriptor ModelUnsupported = Error(
            ModelUnsupportedId,
            "Not supported in a model",
            "StaticGrad cannot compile this into the model: {0}");

        /// <summary>An argument of a module or op that is not a usable constant, or out of range.</summary>
        public static readonly DiagnosticDescriptor ModelArgument = Error(
            ModelArgumentId,
            "Invalid module or op argument",
            "{0}");

        /// <summary>A [Model] or [Module] class declared in a way the generator cannot extend (Forward, constructors, inputs, loss).</summary>
        public static readonly DiagnosticDescriptor ModelDeclaration = Error(
            ModelDeclarationId,
            "Invalid model declaration",
            "{0}");

        /// <summary>The file a [FromOnnx] names is not among the project's AdditionalFiles (or was not converted to text).</summary>
        public static readonly DiagnosticDescriptor OnnxFileNotFound = Error(
            OnnxFileNotFoundId,
            "ONNX file not found",
            "{0}");

        /// <summary>The file a [FromOnnx] names is not a readable ONNX model (not ONNX, truncated, corrupt, too large, a cycle).</summary>
        public static readonly DiagnosticDescriptor OnnxFileInvalid = Error(
            OnnxFileInvalidId,
            "ONNX file cannot be read",
            "{0}");

        /// <summary>The ONNX graph uses an operator, attribute or shape StaticGrad does not import; names the node.</summary>
        public static readonly DiagnosticDescriptor OnnxUnsupported = Error(
            OnnxUnsupportedId,
            "ONNX graph cannot be imported",
            "{0}");

        /// <summary>
        /// The generator failed while writing a type's code: a bug in StaticGrad, not in the user's code. Reported instead of
        /// letting the exception escape (which the compiler turns into warning CS8785 and leaves every generated member missing
        /// without a word on why). Not located: the specs the emitters read keep no syntax, so that editing above a type does not
        /// make its code be written again.
        /// </summary>
        public static readonly DiagnosticDescriptor InternalError = Error(
            InternalErrorId,
            "StaticGrad failed to write the code",
            "StaticGrad could not write the code for '{0}': {1}. This is a bug in StaticGrad, not in your code; please report it with the declaration of '{0}'.");

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
