using System.Linq;

namespace StaticGrad.Tests.Fuzzing;

// The shape of one fuzz case: a compilation's settings and one annotated type, built from these plain values.
// FuzzGenerators draws them at random, FuzzSource writes them as C# and says what StaticGrad must answer.

/// <summary>The kind of declaration that carries the attributes.</summary>
internal enum TargetKind { Class, Struct, Record, RecordStruct, Interface, StaticClass, AbstractClass, SealedClass }

/// <summary>How an attribute's name is written.</summary>
internal enum Spelling { Short, WithSuffix, Namespaced, GlobalQualified, NamespaceAlias, TypeAlias }

/// <summary>How one constructor argument is written.</summary>
internal enum ArgKind
{
    /// <summary>An int literal: <c>5</c>, <c>-1</c>, <c>2147483647</c>.</summary>
    Literal,

    /// <summary>A constant expression with the same value: <c>(2 * 3 - 1)</c>, <c>int.MaxValue</c>.</summary>
    ConstantExpression,

    /// <summary>A string where an int belongs (CS1503).</summary>
    WrongType,

    /// <summary>A static field that is not const (CS0182).</summary>
    NonConstant,
}

/// <summary>One constructor argument; <paramref name="Named"/> writes it as <c>k: 10</c>.</summary>
internal sealed record Arg(ArgKind Kind, int Value, bool Named);

/// <summary>The type argument of MatMul&lt;T&gt; / Linear&lt;T&gt;, or the non-generic form.</summary>
internal enum ElementArg { NonGeneric, Float, Double, Int, Undefined }

internal enum LayerKind { Linear, ReLU, Sigmoid, Tanh, SoftmaxCrossEntropy, MulticlassSvm, MeanSquaredError }

/// <summary>A MatMul attribute. <paramref name="Unroll"/> 0/1/2 are UnrollMode's members; 7 is not one.</summary>
internal sealed record MatMulAttr(Spelling Spelling, ElementArg Element, Arg[] Args, int? Unroll, int? Threads)
{
    public override string ToString() => $"MatMul({Spelling}, {Element}, [{string.Join(", ", Args.Select(a => a.ToString()))}], Unroll={Unroll}, Threads={Threads})";
}

/// <summary>A layer or loss attribute.</summary>
internal sealed record LayerAttr(LayerKind Kind, Spelling Spelling, ElementArg Element, Arg[] Args, bool? Bias, double? Margin)
{
    public override string ToString() => $"{Kind}({Spelling}, {Element}, [{string.Join(", ", Args.Select(a => a.ToString()))}], Bias={Bias}, Margin={Margin})";
}

/// <summary>User members placed in the annotated type, some named like generated ones.</summary>
internal enum MemberKind
{
    Unrelated,
    ForwardOverload,
    ForwardSameSignature,
    ForwardProperty,
    ReservedMatMulName,
    ReservedNetworkName,
    LayerPrefixedName,
    NestedTypeNamedWMatrix,
    ChainingConstructor,
    NonChainingConstructor,
    IntIntConstructor,
    SyntaxError,
}

internal enum NamespaceStyle { Global, Block, FileScoped }

/// <summary>The first attribute as it looks while being typed: a parse error inside or around it.</summary>
internal enum BrokenSyntax { None, MissingCloseParen, TrailingComma, EmptyArgument, MissingCloseBracket }

/// <summary>A base class for class and record targets, and the one member it declares.</summary>
internal enum BaseKind { None, Unrelated, ReservedMatMulField, ReservedNetworkProperty, ForwardOtherSignature, ForwardSameSignature, PrivateK }

/// <summary>
/// One annotated type and what surrounds it. <paramref name="NotPartialLevel"/>: −1 all partial, 0 the type itself, 1… a
/// containing type. <paramref name="SplitLayers"/> puts the last layer attribute on a second partial declaration.
/// </summary>
internal sealed record FuzzUnit(
    TargetKind Target,
    bool Generic,
    bool TypeParameterNamedM,
    int Containers,
    bool ContainerGeneric,
    bool ContainerIsStruct,
    int NotPartialLevel,
    bool FileLocal,
    int Declarations,
    bool SplitLayers,
    NamespaceStyle Namespace,
    bool NullableDisable,
    bool AttributeListPerAttribute,
    MatMulAttr? MatMul,
    LayerAttr[] Layers,
    MemberKind[] Members,
    bool SyntaxErrorNearby,
    BaseKind Base,
    BrokenSyntax Broken,
    bool SecondFile)
{
    public override string ToString() =>
        $"{Target} generic={Generic} typeParamM={TypeParameterNamedM} containers={Containers} containerGeneric={ContainerGeneric} containerStruct={ContainerIsStruct} " +
        $"notPartial={NotPartialLevel} file={FileLocal} decls={Declarations} split={SplitLayers} ns={Namespace} nullableDisable={NullableDisable} " +
        $"listPerAttr={AttributeListPerAttribute} matmul={MatMul} layers=[{string.Join(", ", Layers.Select(l => l.ToString()))}] " +
        $"members=[{string.Join(", ", Members)}] syntaxErrorNearby={SyntaxErrorNearby} base={Base} broken={Broken} secondFile={SecondFile}";
}

/// <summary>
/// A whole case: compilation settings plus one unit. <paramref name="LanguageVersion"/> 0 means latest;
/// <paramref name="NetStandard"/> compiles against netstandard2.0 + System.Memory instead of .NET 8 (no SIMD, no public MathF).
/// </summary>
internal sealed record FuzzCase(int LanguageVersion, bool NullableEnabled, bool AllowUnsafe, bool GlobalUsing, bool NetStandard, FuzzUnit Unit)
{
    public override string ToString() =>
        $"C# {(LanguageVersion == 0 ? "latest" : LanguageVersion)} {(NetStandard ? "netstandard2.0" : "net8.0")} nullable={NullableEnabled} unsafe={AllowUnsafe} globalUsing={GlobalUsing} {Unit}";
}
