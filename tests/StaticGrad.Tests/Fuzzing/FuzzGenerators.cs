using System.Linq;
using CsCheck;

namespace StaticGrad.Tests.Fuzzing;

/// <summary>
/// CsCheck generators for <see cref="FuzzCase"/>. Weighted so that about a third of the cases are valid (the generated
/// code must compile) and the rest hit every diagnostic StaticGrad has; CsCheck shrinks a failing case towards the
/// first choice of each <see cref="Gen.Frequency{T}((int, T)[])"/>, so those first choices are the plain ones.
/// </summary>
internal static class FuzzGenerators
{
    /// <summary>Dimensions: mostly small and valid, with 0, negatives, and sizes whose products overflow an array.</summary>
    private static readonly Gen<int> Dimension = Gen.Frequency(
        (60, Gen.Int[1, 12]),
        (8, Gen.OneOf(16, 32, 64)),
        (4, Gen.Const(0)),
        (3, Gen.OneOf(-1, int.MinValue)),
        (3, Gen.OneOf(46341, 65536, 1 << 30, int.MaxValue)));

    /// <summary>Network widths: small, so that random chains line up often.</summary>
    private static readonly Gen<int> Width = Gen.Frequency(
        (80, Gen.Int[1, 4]),
        (4, Gen.Const(0)),
        (2, Gen.Const(-3)),
        (2, Gen.OneOf(50000, int.MaxValue)));

    private static readonly Gen<ArgKind> Kind = Gen.Frequency(
        (85, ArgKind.Literal),
        (12, ArgKind.ConstantExpression),
        (1, ArgKind.WrongType),
        (1, ArgKind.NonConstant));

    private static readonly Gen<Spelling> Spelling = Gen.Frequency(
        (50, Fuzzing.Spelling.Short),
        (10, Fuzzing.Spelling.WithSuffix),
        (10, Fuzzing.Spelling.Namespaced),
        (10, Fuzzing.Spelling.GlobalQualified),
        (10, Fuzzing.Spelling.NamespaceAlias),
        (10, Fuzzing.Spelling.TypeAlias));

    private static readonly Gen<ElementArg> MatMulElement = Gen.Frequency(
        (50, ElementArg.NonGeneric),
        (20, ElementArg.Float),
        (20, ElementArg.Double),
        (4, ElementArg.Int),
        (2, ElementArg.Undefined));

    private static readonly Gen<ElementArg> LinearElement = Gen.Frequency(
        (60, ElementArg.NonGeneric),
        (15, ElementArg.Float),
        (20, ElementArg.Double),
        (2, ElementArg.Int),
        (1, ElementArg.Undefined));

    private static Gen<Arg[]> Args(Gen<int> values, int count) =>
        Gen.Frequency(
            (97, Gen.Const(count)),
            (1, Gen.Const(count - 1)),
            (1, Gen.Const(count + 1)))
        .SelectMany(n => Gen.Select(Kind, values, Gen.Frequency((85, false), (15, true)), (k, v, named) => new Arg(k, v, named)).Array[n]);

    private static readonly Gen<MatMulAttr> MatMul =
        Gen.Select(
            Spelling,
            MatMulElement,
            Args(Dimension, 3),
            Gen.Frequency((70, (int?)null), (10, (int?)0), (8, (int?)1), (8, (int?)2), (4, (int?)7)),
            Gen.Frequency((80, Gen.Const((int?)null)), (8, Gen.Const((int?)1)), (8, Gen.Const((int?)2)), (4, Gen.OneOf<int?>(0, -1, 65))),
            (s, e, a, u, t) => new MatMulAttr(s, e, a, u, t));

    private static readonly Gen<LayerAttr> Layer =
        Gen.Frequency(
            (40, LayerKind.Linear),
            (12, LayerKind.ReLU),
            (6, LayerKind.Sigmoid),
            (6, LayerKind.Tanh),
            (8, LayerKind.SoftmaxCrossEntropy),
            (6, LayerKind.MulticlassSvm),
            (6, LayerKind.MeanSquaredError))
        .SelectMany(LayerOf);

    private static readonly Gen<LayerAttr> Activation =
        Gen.Frequency((60, LayerKind.ReLU), (20, LayerKind.Sigmoid), (20, LayerKind.Tanh)).SelectMany(LayerOf);

    private static readonly Gen<LayerAttr?> Loss =
        Gen.Frequency(
            (25, Gen.Const((LayerAttr?)null)),
            (35, LayerOf(LayerKind.SoftmaxCrossEntropy).Select(l => (LayerAttr?)l)),
            (20, LayerOf(LayerKind.MulticlassSvm).Select(l => (LayerAttr?)l)),
            (20, LayerOf(LayerKind.MeanSquaredError).Select(l => (LayerAttr?)l)));

    /// <summary>Linear, then (activation, Linear)…, then perhaps a loss: the shape real networks have.</summary>
    private static readonly Gen<LayerAttr[]> WellFormedLayers =
        from hidden in Gen.Int[0, 2]
        from first in LayerOf(LayerKind.Linear)
        from activations in Activation.Array[hidden]
        from linears in LayerOf(LayerKind.Linear).Array[hidden]
        from loss in Loss
        select new[] { first }
            .Concat(Enumerable.Range(0, hidden).SelectMany(i => new[] { activations[i], linears[i] }))
            .Concat(loss is null ? new LayerAttr[0] : new[] { loss })
            .ToArray();

    private static Gen<LayerAttr> LayerOf(LayerKind kind) =>
        Gen.Select(
            Spelling,
            kind == LayerKind.Linear ? LinearElement : Gen.Const(ElementArg.NonGeneric),
            kind == LayerKind.Linear ? Args(Width, 2) : Gen.Frequency((99, new Arg[0]), (1, new[] { new Arg(ArgKind.Literal, 3, false) })),
            kind == LayerKind.Linear ? Gen.Frequency((80, (bool?)null), (10, true), (10, false)) : Gen.Const((bool?)null),
            kind == LayerKind.MulticlassSvm ? Gen.Frequency((70, (double?)null), (15, 0.5), (5, 0.0), (5, -1.0), (5, double.NaN)) : Gen.Const((double?)null),
            (s, e, a, b, m) => new LayerAttr(kind, s, e, a, b, m));

    /// <summary>Layer lists: half of them made to chain (each Linear's inputs set to the width before it), the rest as drawn.</summary>
    private static readonly Gen<LayerAttr[]> Layers =
        Gen.Select(
            Gen.Frequency((60, WellFormedLayers), (40, Layer.Array[1, 6])),
            Gen.Frequency((70, true), (30, false)),
            (layers, chain) => chain ? Chain(layers) : layers);

    private static readonly Gen<MemberKind[]> Members =
        Gen.Frequency(
            (65, Gen.Const(new MemberKind[0])),
            (35, Gen.Enum<MemberKind>().Array[1, 3]))
        .Select(m => m.Distinct().ToArray());

    private static readonly Gen<TargetKind> Target = Gen.Frequency(
        (50, TargetKind.Class),
        (8, TargetKind.Struct),
        (8, TargetKind.Record),
        (6, TargetKind.RecordStruct),
        (4, TargetKind.Interface),
        (6, TargetKind.StaticClass),
        (6, TargetKind.AbstractClass),
        (12, TargetKind.SealedClass));

    /// <summary>What a unit carries: a MatMul, a network, or (rarely) both.</summary>
    private static readonly Gen<(MatMulAttr?, LayerAttr[])> Attributes = Gen.Frequency(
        (45, MatMul.Select(m => ((MatMulAttr?)m, new LayerAttr[0]))),
        (50, Layers.Select(l => ((MatMulAttr?)null, l))),
        (5, Gen.Select(MatMul, Layers, (m, l) => ((MatMulAttr?)m, l))));

    private static readonly Gen<FuzzUnit> Unit =
        from target in Target
        from generic in Gen.Frequency((85, false), (15, true))
        from typeParameterM in Gen.Frequency((90, false), (10, true))
        from containers in Gen.Frequency((70, 0), (20, 1), (10, 2))
        from containerGeneric in Gen.Frequency((80, false), (20, true))
        from containerStruct in Gen.Frequency((80, false), (20, true))
        from notPartial in Gen.Frequency((88, -1), (8, 0), (4, 1))
        from fileLocal in Gen.Frequency((95, false), (5, true))
        from declarations in Gen.Frequency((80, 1), (15, 2), (5, 3))
        from split in Gen.Frequency((90, false), (10, true))
        from ns in Gen.Enum<NamespaceStyle>()
        from nullableDisable in Gen.Frequency((85, false), (15, true))
        from listPerAttribute in Gen.Bool
        from attributes in Attributes
        from members in Members
        from syntaxError in Gen.Frequency((92, false), (8, true))
        from baseKind in Gen.Frequency((80, Gen.Const(BaseKind.None)), (20, Gen.Enum<BaseKind>()))
        from broken in Gen.Frequency((94, Gen.Const(BrokenSyntax.None)), (6, Gen.Enum<BrokenSyntax>()))
        from secondFile in Gen.Bool
        select new FuzzUnit(
            target,
            generic,
            generic && typeParameterM,
            containers,
            containers > 0 && containerGeneric,
            containers > 0 && containerStruct,
            notPartial > containers ? -1 : notPartial,
            fileLocal && containers == 0,
            declarations,
            split && declarations > 1,
            ns,
            nullableDisable,
            listPerAttribute,
            attributes.Item1,
            attributes.Item2,
            members,
            syntaxError,
            baseKind,
            broken,
            secondFile);

    public static readonly Gen<FuzzCase> Case =
        from languageVersion in Gen.Frequency((40, 0), (20, 12), (20, 11), (20, 10))
        from nullable in Gen.Bool
        from allowUnsafe in Gen.Frequency((70, true), (30, false))
        from globalUsing in Gen.Frequency((80, false), (20, true))
        from netStandard in Gen.Frequency((85, false), (15, true))
        from unit in Unit
        select new FuzzCase(languageVersion, nullable, allowUnsafe, globalUsing, netStandard, unit);

    /// <summary>Makes a layer list consistent: each Linear takes the width before it and the first Linear's element type.</summary>
    private static LayerAttr[] Chain(LayerAttr[] layers)
    {
        var result = new LayerAttr[layers.Length];
        int? width = null;
        ElementArg? element = null;
        for (int i = 0; i < layers.Length; i++)
        {
            LayerAttr layer = layers[i];
            if (layer.Kind == LayerKind.Linear && element is { } first)
            {
                layer = layer with { Element = first };
            }
            else if (layer.Kind == LayerKind.Linear)
            {
                element = layer.Element;
            }

            if (layer.Kind == LayerKind.Linear && layer.Args.Length == 2)
            {
                if (width is { } w && layer.Args[0].Kind is ArgKind.Literal or ArgKind.ConstantExpression)
                {
                    var args = (Arg[])layer.Args.Clone();
                    args[0] = args[0] with { Value = w };
                    layer = layer with { Args = args };
                }

                width = layer.Args[1].Value;
            }

            result[i] = layer;
        }

        return result;
    }
}
