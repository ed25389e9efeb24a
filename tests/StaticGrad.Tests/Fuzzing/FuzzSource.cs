using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;
using Microsoft.CodeAnalysis.Text;

namespace StaticGrad.Tests.Fuzzing;

/// <summary>A diagnostic StaticGrad must report: its id, and the span of source it must lie inside.</summary>
internal sealed record ExpectedFault(string Id, TextSpan Span, string Why, bool InSecondFile = false);

/// <summary>
/// Writes a <see cref="FuzzCase"/> as C# and, while writing, works out what StaticGrad must say about it: the oracle.
/// The oracle is written from the rules in the README's diagnostics table, not from the parser's code, and follows the
/// same order (a broken attribute stops everything else; a broken element type stops the shape checks), because an
/// error that makes the rest meaningless is reported alone.
/// </summary>
internal sealed class FuzzSource
{
    private const long MaxElements = 0x7FFFFFC7; // Array.MaxLength
    private const string TypeName = "Target";

    private readonly FuzzCase _case;
    private readonly FuzzUnit _unit;
    private StringBuilder _text = new();
    private readonly List<ExpectedFault> _faults = new();
    private readonly List<TextSpan> _attributeSpans = new();
    private readonly Dictionary<MemberKind, TextSpan> _memberSpans = new();
    private readonly List<TextSpan> _containerIdentifiers = new();
    private TextSpan _targetIdentifier;
    private TextSpan _typeParameter;
    private TextSpan _baseSpan;
    private bool _hasUsing;

    private FuzzSource(FuzzCase fuzzCase)
    {
        _case = fuzzCase;
        _unit = fuzzCase.Unit;
    }

    /// <summary>The annotated file.</summary>
    public string Text { get; private set; } = string.Empty;

    /// <summary>The file with the other partial declarations, when the case splits them off; else <see langword="null"/>.</summary>
    public string? SecondText { get; private set; }

    /// <summary><c>global using StaticGrad;</c> when the case asks for it, else <see langword="null"/>.</summary>
    public string? GlobalUsings => _case.GlobalUsing ? "global using StaticGrad;\n" : null;

    /// <summary>Code that uses the generated API, present only when the case is valid and the type is reachable.</summary>
    public string? Usage { get; private set; }

    /// <summary>The diagnostics StaticGrad must report (empty for a valid case).</summary>
    public IReadOnlyList<ExpectedFault> Faults => _faults;

    /// <summary>
    /// Whether the case is broken in a way only the compiler speaks to: C# 10 with generic attributes or <c>file</c> types
    /// (C# 11 features), or a half-typed attribute. Then only the general promises are checked, not which StaticGrad
    /// diagnostic appears.
    /// </summary>
    public bool Indeterminate { get; private set; }

    /// <summary>No fault and nothing indeterminate: StaticGrad must generate code that compiles.</summary>
    public bool Valid => _faults.Count == 0 && !Indeterminate;

    public static FuzzSource Write(FuzzCase fuzzCase)
    {
        var source = new FuzzSource(fuzzCase);
        source.WriteFile();
        return source;
    }

    private FuzzUnit U => _unit;

    /// <summary>Only classes and records derive from a base class here (a record from a record).</summary>
    private bool HasBase => U.Base != BaseKind.None && U.Target is TargetKind.Class or TargetKind.Record or TargetKind.AbstractClass or TargetKind.SealedClass;

    private string BaseMemberText()
    {
        string t = U.MatMul is { } m ? ElementKeyword(m.Element) : "float";
        return U.Base switch
        {
            BaseKind.ReservedMatMulField => "public int K;",
            BaseKind.ReservedNetworkProperty => "public int Parameters => 0;",
            BaseKind.ForwardOtherSignature => "public void Forward(int value) { }",
            BaseKind.ForwardSameSignature => $"public static void Forward(global::System.ReadOnlySpan<{t}> w, global::System.ReadOnlySpan<{t}> x, global::System.Span<{t}> d) {{ }}",
            BaseKind.PrivateK => "private int K = 0; public int Other => K;",
            _ => "public int Other;",
        };
    }

    private bool IsClassKind => U.Target is TargetKind.Class or TargetKind.Record or TargetKind.StaticClass or TargetKind.AbstractClass or TargetKind.SealedClass;

    private void WriteFile()
    {
        bool usesGeneric = (U.MatMul is { Element: not ElementArg.NonGeneric }) || U.Layers.Any(l => l.Element != ElementArg.NonGeneric);
        Indeterminate = (_case.LanguageVersion == 10 && (usesGeneric || U.FileLocal)) || U.Broken != BrokenSyntax.None;

        _hasUsing = _case.GlobalUsing;
        WriteHeader(usesGeneric);
        string indent = OpenScopes(firstFile: true);
        WriteTarget(indent);
        if (!SplitFiles)
        {
            WriteOtherDeclarations(indent);
        }

        CloseScopes(indent, firstFile: true);
        Text = _text.ToString();

        if (SplitFiles)
        {
            // The other partial declarations in a second file, which reopens the namespace and the containers.
            _text = new StringBuilder();
            WriteHeader(usesGeneric);
            indent = OpenScopes(firstFile: false);
            WriteOtherDeclarations(indent);
            CloseScopes(indent, firstFile: false);
            SecondText = _text.ToString();
        }

        Expect();
        if (Valid)
        {
            Usage = WriteUsage();
        }
    }

    /// <summary>The partial declarations after the first go into a second file (file-local types cannot span files).</summary>
    private bool SplitFiles => U.SecondFile && U.Declarations > 1 && !U.FileLocal;

    private void WriteHeader(bool usesGeneric)
    {
        var spellings = U.Layers.Select(l => l.Spelling).Concat(U.MatMul is { } m ? new[] { m.Spelling } : Array.Empty<Spelling>()).ToList();
        if (U.NullableDisable)
        {
            _text.Append("#nullable disable\n");
        }

        if (!_case.GlobalUsing && spellings.Any(s => s is Spelling.Short or Spelling.WithSuffix || (s == Spelling.TypeAlias && usesGeneric)))
        {
            _text.Append("using StaticGrad;\n");
            _hasUsing = true;
        }

        if (spellings.Any(s => s is Spelling.NamespaceAlias or Spelling.TypeAlias))
        {
            _text.Append("using SG = StaticGrad;\n");
            foreach (string name in new[] { "MatMul", "Linear", "ReLU", "Sigmoid", "Tanh", "SoftmaxCrossEntropy", "MulticlassSvm", "MeanSquaredError" })
            {
                _text.Append($"using Sg{name} = StaticGrad.{name}Attribute;\n");
            }
        }

        _text.Append('\n');
    }

    /// <summary>Opens the namespace and the containing types; the first file also declares the helpers and the base class.</summary>
    private string OpenScopes(bool firstFile)
    {
        string indent = string.Empty;
        switch (U.Namespace)
        {
            case NamespaceStyle.Block:
                _text.Append("namespace Fuzz.Case\n{\n");
                indent = "    ";
                break;
            case NamespaceStyle.FileScoped:
                _text.Append("namespace Fuzz.Case;\n\n");
                break;
        }

        if (firstFile)
        {
            _text.Append(indent).Append("internal static class NonConstantDims { public static int Value = 3; }\n\n");
            if (HasBase)
            {
                _text.Append(indent).Append(U.Target == TargetKind.Record ? "public record FuzzBase\n" : "public class FuzzBase\n")
                    .Append(indent).Append("{\n").Append(indent).Append("    ").Append(BaseMemberText()).Append('\n').Append(indent).Append("}\n\n");
            }
        }

        for (int level = U.Containers; level >= 1; level--)
        {
            string keyword = U.ContainerIsStruct && level == 1 ? "struct" : "class";
            string partial = firstFile && U.NotPartialLevel == level ? string.Empty : "partial ";
            _text.Append(indent).Append($"public {partial}{keyword} ");
            if (firstFile)
            {
                _containerIdentifiers.Add(Mark($"Outer{level}"));
            }
            else
            {
                _text.Append($"Outer{level}");
            }

            _text.Append(U.ContainerGeneric ? $"<TOuter{level}>\n" : "\n");
            _text.Append(indent).Append("{\n");
            indent += "    ";
        }

        return indent;
    }

    private void CloseScopes(string indent, bool firstFile)
    {
        for (int level = 1; level <= U.Containers; level++)
        {
            indent = indent.Substring(4);
            _text.Append(indent).Append("}\n");
        }

        if (firstFile && U.SyntaxErrorNearby)
        {
            _text.Append(indent).Append("public class Nearby { public int Broken() { int x = ; return x; } }\n");
        }

        if (U.Namespace == NamespaceStyle.Block)
        {
            _text.Append("}\n");
        }
    }

    private string Keyword => U.Target switch
    {
        TargetKind.Struct => "struct",
        TargetKind.Record => "record",
        TargetKind.RecordStruct => "record struct",
        TargetKind.Interface => "interface",
        _ => "class",
    };

    private string TypeParameterName => U.TypeParameterNamedM ? "M" : "TItem";

    /// <summary>How many layer attributes sit on the first declaration (all but the last when the layers are split).</summary>
    private int LayersOnFirst => U.SplitLayers && U.Layers.Length > 1 ? U.Layers.Length - 1 : U.Layers.Length;

    private void WriteTarget(string indent)
    {
        string modifiers = U.Target switch
        {
            TargetKind.StaticClass => "static ",
            TargetKind.AbstractClass => "abstract ",
            TargetKind.SealedClass => "sealed ",
            _ => string.Empty,
        };
        string access = U.FileLocal ? "file " : "public ";

        var attributes = new List<Action>();
        if (U.MatMul is { } matMul)
        {
            attributes.Add(() => WriteAttribute(MatMulText(matMul)));
        }

        foreach (LayerAttr layer in U.Layers.Take(LayersOnFirst))
        {
            attributes.Add(() => WriteAttribute(LayerText(layer)));
        }

        WriteAttributeLists(indent, attributes);
        _text.Append(indent).Append(access).Append(modifiers).Append(U.NotPartialLevel == 0 ? string.Empty : "partial ").Append(Keyword).Append(' ');
        _targetIdentifier = Mark(TypeName);
        if (U.Generic)
        {
            _text.Append('<');
            _typeParameter = Mark(TypeParameterName);
            _text.Append('>');
        }

        if (HasBase)
        {
            _text.Append(" : ");
            _baseSpan = Mark("FuzzBase");
        }

        _text.Append('\n').Append(indent).Append("{\n");
        foreach (MemberKind member in U.Members)
        {
            _text.Append(indent).Append("    ");
            _memberSpans[member] = Mark(MemberText(member));
            _text.Append('\n');
        }

        _text.Append(indent).Append("}\n");
    }

    /// <summary>Declarations 2…n: bare partial declarations; the second carries the last layer when the layers are split.</summary>
    private void WriteOtherDeclarations(string indent)
    {
        for (int declaration = 1; declaration < U.Declarations; declaration++)
        {
            if (declaration == 1 && LayersOnFirst < U.Layers.Length)
            {
                LayerAttr last = U.Layers[U.Layers.Length - 1];
                WriteAttributeLists(indent, new List<Action> { () => WriteAttribute(LayerText(last)) });
            }

            string extraModifiers = U.Target == TargetKind.StaticClass ? "static " : string.Empty;
            _text.Append(indent).Append(U.FileLocal ? "file " : string.Empty).Append(extraModifiers).Append("partial ").Append(Keyword).Append(' ').Append(TypeName);
            _text.Append(U.Generic ? $"<{TypeParameterName}>" : string.Empty).Append(" { }\n");
        }
    }

    private void WriteAttributeLists(string indent, List<Action> attributes)
    {
        if (attributes.Count == 0)
        {
            return;
        }

        // While typing, the first list may not be closed yet.
        string close = U.Broken == BrokenSyntax.MissingCloseBracket && _attributeSpans.Count == 0 ? "\n" : "]\n";
        if (U.AttributeListPerAttribute)
        {
            foreach (Action attribute in attributes)
            {
                _text.Append(indent).Append('[');
                attribute();
                _text.Append(close);
                close = "]\n";
            }
        }
        else
        {
            _text.Append(indent).Append('[');
            for (int i = 0; i < attributes.Count; i++)
            {
                if (i > 0)
                {
                    _text.Append(", ");
                }

                attributes[i]();
            }

            _text.Append(close);
        }
    }

    private void WriteAttribute(string text)
    {
        if (_attributeSpans.Count == 0 && text.EndsWith(")", StringComparison.Ordinal))
        {
            text = U.Broken switch
            {
                BrokenSyntax.MissingCloseParen => text.Substring(0, text.Length - 1),
                BrokenSyntax.TrailingComma => text.Substring(0, text.Length - 1) + ",)",
                BrokenSyntax.EmptyArgument => text.Replace("(", "(, "),
                _ => text,
            };
        }

        _attributeSpans.Add(Mark(text));
    }

    private TextSpan Mark(string text)
    {
        int start = _text.Length;
        _text.Append(text);
        return new TextSpan(start, text.Length);
    }

    private string MatMulText(MatMulAttr a)
    {
        var parts = new List<string>(ArgumentTexts(a.Args, new[] { "m", "k", "n" }));
        if (a.Unroll is { } unroll)
        {
            string mode = unroll switch { 0 => "Auto", 1 => "Always", 2 => "Never", _ => null! };
            string type = _hasUsing ? "UnrollMode" : "global::StaticGrad.UnrollMode";
            parts.Add(mode is null ? $"Unroll = ({type}){unroll}" : $"Unroll = {type}.{mode}");
        }

        if (a.Threads is { } threads)
        {
            parts.Add($"Threads = {threads}");
        }

        return $"{Name("MatMul", a.Spelling, a.Element)}({string.Join(", ", parts)})";
    }

    private string LayerText(LayerAttr a)
    {
        var parts = new List<string>(ArgumentTexts(a.Args, new[] { "inputs", "outputs" }));
        if (a.Bias is { } bias)
        {
            parts.Add(bias ? "Bias = true" : "Bias = false");
        }

        if (a.Margin is { } margin)
        {
            parts.Add("Margin = " + (double.IsNaN(margin) ? "double.NaN" : margin.ToString("0.0##", CultureInfo.InvariantCulture)));
        }

        string name = Name(a.Kind.ToString(), a.Spelling, a.Element);
        return parts.Count == 0 ? name : $"{name}({string.Join(", ", parts)})";
    }

    /// <summary>Arguments in order; when every one is named, in reverse order (named arguments may come in any order).</summary>
    private static IEnumerable<string> ArgumentTexts(Arg[] args, string[] names)
    {
        var texts = args.Select((arg, i) =>
        {
            string value = arg.Kind switch
            {
                ArgKind.Literal => arg.Value.ToString(CultureInfo.InvariantCulture),
                ArgKind.ConstantExpression => arg.Value == int.MaxValue ? "int.MaxValue" : $"(1 * ({arg.Value.ToString(CultureInfo.InvariantCulture)}))",
                ArgKind.WrongType => $"\"{arg.Value}\"",
                _ => "NonConstantDims.Value",
            };
            return arg.Named && i < names.Length ? $"{names[i]}: {value}" : value;
        }).ToList();
        bool allNamed = args.Length == names.Length && args.All(a => a.Named);
        if (allNamed)
        {
            texts.Reverse();
        }

        return texts;
    }

    private static string Name(string name, Spelling spelling, ElementArg element)
    {
        string typeArgument = element switch
        {
            ElementArg.Float => "<float>",
            ElementArg.Double => "<double>",
            ElementArg.Int => "<int>",
            ElementArg.Undefined => "<UndefinedElement>",
            _ => string.Empty,
        };
        return spelling switch
        {
            Spelling.WithSuffix => $"{name}Attribute{typeArgument}",
            Spelling.Namespaced => $"StaticGrad.{name}{typeArgument}",
            Spelling.GlobalQualified => $"global::StaticGrad.{name}{typeArgument}",
            Spelling.NamespaceAlias => $"SG.{name}{typeArgument}",
            Spelling.TypeAlias when typeArgument.Length == 0 => $"Sg{name}",
            _ => $"{name}{typeArgument}",
        };
    }

    private string ElementKeyword(ElementArg element) => element == ElementArg.Double ? "double" : "float";

    private string MemberText(MemberKind member)
    {
        bool isStatic = U.Target == TargetKind.StaticClass;
        string instance = isStatic ? "static " : string.Empty;
        string t = U.MatMul is { } m ? ElementKeyword(m.Element) : ElementKeyword(U.Layers.FirstOrDefault(l => l.Kind == LayerKind.Linear)?.Element ?? ElementArg.NonGeneric);
        return member switch
        {
            MemberKind.Unrelated => $"public {instance}int Unrelated() => 1;",
            MemberKind.ForwardOverload => "public static void Forward(int value) { }",
            MemberKind.ForwardSameSignature => $"public static void Forward(global::System.ReadOnlySpan<{t}> w, global::System.ReadOnlySpan<{t}> x, global::System.Span<{t}> d) {{ }}",
            MemberKind.ForwardProperty => $"public {instance}int Forward => 0;",
            MemberKind.ReservedMatMulName => $"public {instance}int K;",
            MemberKind.ReservedNetworkName => $"public {instance}int Parameters => 0;",
            MemberKind.LayerPrefixedName => $"public {instance}int Layer0Scale;",
            MemberKind.NestedTypeNamedWMatrix => "public sealed class WMatrix { }",
            MemberKind.ChainingConstructor => $"public {TypeName}(long seed) : this((int)seed, 4) {{ }}",
            MemberKind.NonChainingConstructor => $"public {TypeName}(string name) {{ }}",
            MemberKind.IntIntConstructor => $"public {TypeName}(int a, int b) {{ }}",
            _ => "public int Broken() => ;",
        };
    }

    // ---- the oracle ----

    private void Fault(string id, TextSpan span, string why) => _faults.Add(new ExpectedFault(id, span, why));

    private void Expect()
    {
        int attribute = 0;
        if (U.MatMul is { } matMul)
        {
            ExpectMatMul(matMul, _attributeSpans[attribute++]);
        }
        else if (U.Layers.Length > 0)
        {
            ExpectNetwork(_attributeSpans.Skip(attribute).ToList());
        }
    }

    private static bool ArgumentsCompile(Arg[] args, int count) =>
        args.Length == count && args.All(a => a.Kind is ArgKind.Literal or ArgKind.ConstantExpression);

    private void ExpectMatMul(MatMulAttr a, TextSpan span)
    {
        if (!ArgumentsCompile(a.Args, 3) || a.Element == ElementArg.Undefined || U.Target == TargetKind.Interface)
        {
            Fault("SGR0018", span, "the MatMul attribute does not compile or does not apply");
            return;
        }

        if (U.Layers.Length > 0)
        {
            Fault("SGR0009", span, "MatMul beside network layers");
            return;
        }

        if (a.Element == ElementArg.Int)
        {
            Fault("SGR0007", span, "MatMul<int>");
            return;
        }

        long[] dims = a.Args.Select(x => (long)x.Value).ToArray();
        foreach (long dim in dims.Where(d => d <= 0))
        {
            Fault("SGR0001", span, $"dimension {dim}");
        }

        if (dims.All(d => d > 0) && (dims[0] * dims[1] > MaxElements || dims[1] * dims[2] > MaxElements || dims[0] * dims[2] > MaxElements))
        {
            Fault("SGR0004", span, "an operand larger than Array.MaxLength");
        }

        if (a.Unroll is { } unroll && unroll is not (0 or 1 or 2))
        {
            Fault("SGR0018", span, $"Unroll = {unroll}");
        }

        ExpectTarget();
        if (U.TypeParameterNamedM)
        {
            Fault("SGR0006", _typeParameter, "type parameter M");
        }

        ExpectMember(MemberKind.ForwardSameSignature, "Forward with the generated signature");
        ExpectMember(MemberKind.ForwardProperty, "a property named Forward");
        ExpectMember(MemberKind.ReservedMatMulName, "a field named K");
        ExpectMember(MemberKind.NestedTypeNamedWMatrix, "a nested type named WMatrix");
        if (HasBase && U.Base is BaseKind.ReservedMatMulField or BaseKind.ForwardSameSignature)
        {
            Fault("SGR0006", _baseSpan, $"a base class with {U.Base}");
        }
    }

    private void ExpectNetwork(List<TextSpan> spans)
    {
        LayerAttr[] layers = U.Layers;
        bool usable = true;
        for (int i = 0; i < layers.Length; i++)
        {
            LayerAttr layer = layers[i];
            bool compiles = ArgumentsCompile(layer.Args, layer.Kind == LayerKind.Linear ? 2 : 0) && layer.Element != ElementArg.Undefined;
            if (!compiles || !IsClassKind)
            {
                LayerFault(spans, i, "SGR0018", "a layer attribute that does not compile or a network on a non-class");
                usable = false;
            }
        }

        if (!usable)
        {
            return;
        }

        if (U.SplitLayers && layers.Length > 1)
        {
            LayerFault(spans, layers.Length - 1, "SGR0013", "layers on two declarations");
            return;
        }

        int? pendingLoss = null;
        bool chainValid = true;
        bool allDimensionsValid = true;
        long width = 0;
        ElementArg? element = null;
        int elementSource = -1;
        bool hasLinear = false;
        long parameterCount = 0;
        bool layerTooLarge = false;
        for (int i = 0; i < layers.Length; i++)
        {
            LayerAttr layer = layers[i];
            if (pendingLoss is { } loss)
            {
                LayerFault(spans, loss, "SGR0012", "a loss before another layer");
                pendingLoss = null;
            }

            switch (layer.Kind)
            {
                case LayerKind.SoftmaxCrossEntropy or LayerKind.MulticlassSvm or LayerKind.MeanSquaredError:
                    if (layer.Margin is { } margin && (!(margin > 0) || double.IsInfinity(margin)))
                    {
                        LayerFault(spans, i, "SGR0019", $"Margin = {margin}");
                    }

                    pendingLoss = i;
                    if (i == 0)
                    {
                        LayerFault(spans, i, "SGR0014", "a network starting with a loss");
                        chainValid = false;
                    }
                    else if (layer.Kind != LayerKind.MeanSquaredError && chainValid && width < 2)
                    {
                        LayerFault(spans, i, "SGR0011", $"a classification loss on {width} outputs");
                    }

                    continue;
                case LayerKind.ReLU or LayerKind.Sigmoid or LayerKind.Tanh:
                    if (i == 0)
                    {
                        LayerFault(spans, i, "SGR0014", "a network starting with an activation");
                        chainValid = false;
                    }

                    continue;
            }

            if (layer.Element == ElementArg.Int)
            {
                LayerFault(spans, i, "SGR0007", "Linear<int>");
                chainValid = false;
                continue;
            }

            string keyword = ElementKeyword(layer.Element);
            if (element is null)
            {
                element = layer.Element;
                elementSource = i;
            }
            else if (ElementKeyword(element.Value) != keyword)
            {
                LayerFault(spans, i, "SGR0015", "Linear layers of two element types");
            }

            long inputs = layer.Args[0].Value, outputs = layer.Args[1].Value;
            bool dimensionsValid = inputs > 0 && outputs > 0;
            if (inputs <= 0)
            {
                LayerFault(spans, i, "SGR0001", $"inputs {inputs}");
            }

            if (outputs <= 0)
            {
                LayerFault(spans, i, "SGR0001", $"outputs {outputs}");
            }

            if (dimensionsValid && inputs * outputs > MaxElements)
            {
                LayerFault(spans, i, "SGR0004", "a weight matrix larger than Array.MaxLength");
                layerTooLarge = true;
            }

            if (i > 0 && chainValid && dimensionsValid && inputs != width)
            {
                LayerFault(spans, i, "SGR0003", $"inputs {inputs} after width {width}");
            }

            chainValid &= dimensionsValid;
            allDimensionsValid &= dimensionsValid;
            width = outputs;
            hasLinear = true;
            parameterCount += inputs * outputs + (layer.Bias == false ? 0 : outputs);
        }

        if (!hasLinear && chainValid)
        {
            LayerFault(spans, 0, "SGR0014", "a network without a Linear layer");
        }

        // The total is reported when every layer fits on its own but all of them together do not.
        if (allDimensionsValid && !layerTooLarge && elementSource >= 0 && parameterCount > MaxElements)
        {
            LayerFault(spans, elementSource, "SGR0004", "more parameters than Array.MaxLength");
        }

        if (U.Target == TargetKind.StaticClass)
        {
            Fault("SGR0005", _targetIdentifier, "a static network class");
        }

        ExpectTarget();
        ExpectMember(MemberKind.ForwardOverload, "a method named Forward");
        ExpectMember(MemberKind.ForwardSameSignature, "a method named Forward");
        ExpectMember(MemberKind.ForwardProperty, "a property named Forward");
        ExpectMember(MemberKind.ReservedNetworkName, "a property named Parameters");
        ExpectMember(MemberKind.LayerPrefixedName, "a member named Layer0…");
        ExpectMember(MemberKind.IntIntConstructor, "a constructor (int, int)");
        if (HasBase && U.Base is BaseKind.ReservedNetworkProperty or BaseKind.ForwardOtherSignature or BaseKind.ForwardSameSignature)
        {
            Fault("SGR0006", _baseSpan, $"a base class with {U.Base}");
        }

        if (_memberSpans.TryGetValue(MemberKind.NonChainingConstructor, out TextSpan constructor))
        {
            Fault("SGR0017", constructor, "a constructor that does not chain");
        }
    }

    /// <summary>A fault on layer attribute <paramref name="index"/>, which sits in the second file when the last layer was split off there.</summary>
    private void LayerFault(List<TextSpan> spans, int index, string id, string why)
    {
        bool second = SplitFiles && LayersOnFirst < U.Layers.Length && index == U.Layers.Length - 1;
        _faults.Add(new ExpectedFault(id, spans[index], why, second));
    }

    private void ExpectTarget()
    {
        if (U.FileLocal)
        {
            Fault("SGR0005", _targetIdentifier, "a file-local type");
        }
        else if (U.NotPartialLevel == 0)
        {
            Fault("SGR0002", _targetIdentifier, "the type is not partial");
        }

        if (U.NotPartialLevel >= 1)
        {
            // _containerIdentifiers runs from the outermost container (level = Containers) inwards.
            Fault("SGR0002", _containerIdentifiers[U.Containers - U.NotPartialLevel], "a containing type is not partial");
        }
    }

    private void ExpectMember(MemberKind member, string why)
    {
        if (_memberSpans.TryGetValue(member, out TextSpan span))
        {
            Fault("SGR0006", span, why);
        }
    }

    // ---- using the generated API ----

    private string? WriteUsage()
    {
        if (U.FileLocal || U.Target == TargetKind.Interface)
        {
            return null;
        }

        var name = new StringBuilder(U.Namespace == NamespaceStyle.Global ? "global::" : "global::Fuzz.Case.");
        for (int level = U.Containers; level >= 1; level--)
        {
            name.Append($"Outer{level}").Append(U.ContainerGeneric ? "<int>" : string.Empty).Append('.');
        }

        name.Append(TypeName).Append(U.Generic ? "<int>" : string.Empty);
        string type = name.ToString();

        string body;
        if (U.MatMul is { } matMul)
        {
            long m = matMul.Args[0].Value, k = matMul.Args[1].Value, n = matMul.Args[2].Value;
            string t = ElementKeyword(matMul.Element);
            body = $"{type}.Forward(new {t}[{m * k}], new {t}[{k * n}], new {t}[{m * n}]);\n" +
                   $"            _ = new {type}.WMatrix(); _ = {type}.M * {type}.K * {type}.N;";
        }
        else
        {
            body = U.Target is TargetKind.AbstractClass
                ? $"_ = {type}.InputSize + {type}.OutputSize + {type}.ParameterCount;"
                : $"var network = new {type}(seed: 1, maxBatchSize: 2);\n            _ = network.Parameters.Length + {type}.InputSize;";
        }

        return "namespace FuzzUsage\n{\n    internal static class Use\n    {\n        public static void Run()\n        {\n            " + body + "\n        }\n    }\n}\n";
    }
}
