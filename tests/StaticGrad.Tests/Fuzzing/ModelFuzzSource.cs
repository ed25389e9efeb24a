using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;

namespace StaticGrad.Tests.Fuzzing;

/// <summary>
/// One random <c>[Model]</c> source for <see cref="ModelFuzzTests"/>: its text, the seed that wrote it, and what the
/// builder knows about it (valid, or one mistake with the SGR id it must produce).
/// </summary>
/// <param name="Seed">The seed of <see cref="ModelFuzzSource.Build"/> that writes this case again.</param>
/// <param name="Source">The C# source.</param>
/// <param name="Mistake">Null for a case built valid; otherwise what was broken.</param>
/// <param name="ExpectedIds">The SGR ids of which at least one must be reported as an error (empty for a valid case).</param>
/// <param name="Features">What the case uses, for the tally.</param>
internal sealed record ModelFuzzCase(int Seed, string Source, string? Mistake, string[] ExpectedIds, string[] Features)
{
    public bool Valid => Mistake is null;

    public override string ToString() => $"seed {Seed}, {(Mistake is null ? "built valid" : $"one mistake: {Mistake} (expects {string.Join(" or ", ExpectedIds)})")}{Environment.NewLine}{Source}";
}

/// <summary>
/// Writes random models as C# code: a chain (with branches that join again) of every op the front end knows, the shape of
/// each value tracked as it is written so the valid ones chain, [Module] blocks, arrays of modules walked by loops with
/// constant bounds, private helpers, constant conditions, reassigned locals, a second input; and, for half of the cases,
/// exactly one mistake of one kind (a shape that does not fit, a bad argument, an unsupported construct, a bad declaration).
/// </summary>
internal sealed class ModelFuzzSource
{
    private const string Shape = "SGR0021", Unsupported = "SGR0022", Argument = "SGR0023", Declaration = "SGR0024";

    private static readonly string[] ShapeMistakes =
    {
        "linear-in", "conv-channels", "conv-rank", "binary-mismatch", "pool-too-large", "reshape-size", "transpose-range",
        "batchnorm-rank", "batchnorm-channels", "layernorm", "concat-dimension", "concat-mismatch", "cross-entropy-output", "module-inner",
        "conv-window", "size-in-reshape",
    };

    private static readonly string[] ArgumentMistakes =
    {
        "negative-padding", "zero-kernel", "zero-stride", "zero-out-features", "dropout-p", "gelu-approximate", "adaptive-size",
        "pool-zero-kernel", "pool-negative-stride", "layernorm-eps", "batchnorm-momentum", "non-constant", "module-argument",
    };

    private static readonly string[] UnsupportedMistakes =
    {
        "while", "do-while", "switch", "try", "math-max-tensors", "math-max-int", "module-in-forward", "returns-input", "lock",
        "other-class-call", "local-function", "tensor-field", "non-constant-if", "static-field", "output-twice",
    };

    private static readonly string[] DeclarationMistakes =
    {
        "missing-shape", "zero-shape", "five-dimensions", "constructor-parameters", "two-forwards", "no-forward", "base-class",
        "int-input", "module-base-class", "loss-on-two-outputs",
    };

    private readonly Random _random;
    private readonly List<string> _fields = new();
    private readonly List<string> _constructor = new();
    private readonly List<string> _statements = new();
    private readonly List<string> _helpers = new();
    private readonly SortedSet<string> _features = new(StringComparer.Ordinal);
    private readonly List<(string Name, int[] Shape)> _values = new();
    private int _counter;
    private string _current = "x";
    private int[] _shape;
    private bool _currentIsInput = true;
    private bool _mlpBlock, _convBlock, _otherClass, _baseClass;
    private string _blockLinear = "new Linear(features, features)";
    private string _blockDropout = "0.1";
    private int? _sideFeatures;

    /// <summary>The second value Forward returns in a tuple (null: it returns one tensor), and whether the tuple names its elements.</summary>
    private string? _secondOutput;
    private bool _namedOutputs;

    private ModelFuzzSource(int seed)
    {
        _random = new Random(seed);
        _shape = Array.Empty<int>();
    }

    /// <summary>Writes the case of this seed: half built valid, half with one mistake.</summary>
    public static ModelFuzzCase Build(int seed) => new ModelFuzzSource(seed).Write(seed);

    private int Next(int min, int max) => _random.Next(min, max);

    private bool Chance(int percent) => _random.Next(100) < percent;

    private T Pick<T>(IReadOnlyList<T> items) => items[_random.Next(items.Count)];

    private string Name(string prefix) => $"{prefix}{_counter++}";

    private static int Size(int[] shape) => shape.Aggregate(1, (a, b) => a * b);

    private static string Dims(IEnumerable<int> dims) => string.Join(", ", dims.Select(d => d.ToString(CultureInfo.InvariantCulture)));

    private static string Real(double value) => value.ToString("0.0##", CultureInfo.InvariantCulture);

    private ModelFuzzCase Write(int seed)
    {
        int kind = Next(0, 10);
        string? mistake = null;
        string[] expected = Array.Empty<string>();
        if (kind >= 5)
        {
            (string[] list, string id) = Pick(new[] { (ShapeMistakes, Shape), (ArgumentMistakes, Argument), (UnsupportedMistakes, Unsupported), (DeclarationMistakes, Declaration) });
            mistake = Pick(list);
            expected = new[] { id };
        }

        // The input: an image, a vector or a sequence of rows.
        _shape = Next(0, 10) switch
        {
            < 5 => new[] { Next(1, 4), Next(3, 10), Next(3, 10) },
            < 8 => new[] { Next(2, 13) },
            _ => new[] { Next(2, 5), Next(2, 7) },
        };
        int[] input = _shape;
        if (Chance(25))
        {
            _sideFeatures = Next(2, 7);
            _features.Add("two-inputs");
        }

        bool declarationMistake = mistake is not null && DeclarationMistakes.Contains(mistake);
        bool forwardMistake = mistake is not null && !declarationMistake && mistake != "cross-entropy-output";
        int steps = Next(1, 7);
        int mistakeStep = forwardMistake ? Next(0, steps) : -1;
        bool injected = false;
        for (int step = 0; step < steps && !injected; step++)
        {
            if (step == mistakeStep)
            {
                injected = true;
                if (!TryMistake(mistake!))
                {
                    string fallback = Fallback(mistake!);
                    _features.Add($"fallback:{mistake}");
                    mistake = $"{mistake} → {fallback}";
                    TryMistake(fallback);
                }

                break;
            }

            ValidStep();
        }

        if (mistake == "module-base-class")
        {
            Block();
        }

        if (_currentIsInput && mistake is not "returns-input")
        {
            Emit($"Relu({_current})", _shape, "relu");
        }

        string loss = "None";
        if (mistake == "cross-entropy-output")
        {
            // One score per position is not a classifier (a positions×classes output needs at least 2 classes).
            Emit($"{_current}.Reshape(-1, 1)", new[] { Size(_shape), 1 }, "reshape");
            loss = "SoftmaxCrossEntropy";
        }
        else if (mistake == "loss-on-two-outputs")
        {
            // A loss needs one output: Forward returns two.
            loss = "MeanSquaredError";
            _secondOutput = $"Relu({_current})";
            _features.Add("two-outputs");
        }
        else
        {
            loss = _shape.Length == 1 && _shape[0] >= 2 && Chance(50) ? Pick(new[] { "SoftmaxCrossEntropy", "SoftmaxCrossEntropy", "MulticlassSvm" }) : Pick(new[] { "None", "MeanSquaredError" });
        }

        if (loss == "None" && _secondOutput is null && Chance(30))
        {
            _secondOutput = $"Relu({_current})";
            _namedOutputs = Chance(50);
            _features.Add("two-outputs");
        }

        string[] ids = mistake is null ? Array.Empty<string>() : expected;
        if (mistake is "non-constant")
        {
            // Not a literal: the interpreter stops at the expression it cannot evaluate (SGR0022) before the op could read it.
            ids = new[] { Unsupported, Argument };
        }

        _features.Add(mistake is null ? "valid" : "mistake");
        return new ModelFuzzCase(seed, Render(input, loss, declarationMistake ? mistake : null), mistake, ids, _features.ToArray());
    }

    // ---- valid steps ----

    /// <summary>Writes <c>var hN = expression;</c>, or reassigns the current local now and then; the result becomes current.</summary>
    private void Emit(string expression, int[] shape, string feature)
    {
        _features.Add(feature);
        if (!_currentIsInput && Chance(30))
        {
            _statements.Add($"{_current} = {expression};");
            _features.Add("reassigned-local");
        }
        else
        {
            string name = Name("h");
            _statements.Add($"var {name} = {expression};");
            _current = name;
        }

        _currentIsInput = false;
        _shape = shape;
        _values.Add((_current, shape));
    }

    private string Field(string type, string initializer)
    {
        string name = Name(type.ToLowerInvariant().Replace("[]", "s", StringComparison.Ordinal));
        _fields.Add($"readonly {type} {name} = {initializer};");
        return name;
    }

    private string Activation(string x) => Next(0, 6) switch
    {
        0 => $"Relu({x})",
        1 => $"Gelu({x})",
        2 => $"Gelu({x}, approximate: \"tanh\")",
        3 => $"Silu({x})",
        4 => $"Sigmoid({x})",
        _ => $"Tanh({x})",
    };

    private void ValidStep()
    {
        int[] s = _shape;
        int rank = s.Length, last = s[rank - 1], size = Size(s);
        var options = new List<Action>
        {
            () => Linear(),
            () => Emit(Activation(_current), s, "activation"),
            () => Emit($"{Field("LayerNorm", $"new({last}{(Chance(30) ? ", eps: 1e-3" : string.Empty)})")}.Forward({_current})", s, "layernorm"),
            () => Emit($"{Field("Dropout", $"new({Real(Pick(new[] { 0.0, 0.1, 0.5 }))})")}.Forward({_current})", s, "dropout"),
            () => Residual(),
            () => Block(),
            () => Stack(),
            () => Helper(),
            () => Conditional(),
        };
        if (size <= 512)
        {
            options.Add(() => Concat());
        }

        if (rank >= 2)
        {
            options.Add(() => Emit($"{_current}.Flatten()", new[] { size }, "flatten"));
            options.Add(() => Transpose());
            options.Add(() => Emit($"Softmax({_current}, {Next(-rank, rank)})", s, "softmax"));
            options.Add(() => Emit($"ScaledDotProductAttention({_current}, {_current}, {_current}{(Chance(50) ? ", causal: true" : string.Empty)})", s, "attention"));
            int d = Next(0, rank), start = Next(0, s[d]);
            options.Add(() => Emit($"{_current}.Narrow({d}, {start}, {s[d] - start})", s.Select((n, i) => i == d ? n - start : n).ToArray(), "narrow"));
            if (rank == 2 && s[0] <= 16)
            {
                options.Add(() => Recurrent());
            }

            if (s[rank - 2] <= 32)
            {
                options.Add(() => Emit($"MatMul({_current}, {_current}.Transpose({rank - 2}, {rank - 1}))", s.Take(rank - 1).Append(s[rank - 2]).ToArray(), "matmul"));
            }
        }

        if (size <= 4096)
        {
            options.Add(() => Emit($"{_current} + {Field("Parameter", $"new({Dims(s)})")}", s, "parameter"));
        }

        options.Add(() => Reshape());
        if (rank is 1 or 2)
        {
            options.Add(() => Emit($"{Field("BatchNorm1d", $"new({s[0]})")}.Forward({_current})", s, "batchnorm1d"));
        }

        if (_sideFeatures is { } side)
        {
            options.Add(() => Emit($"{_current} + {Field("Linear", $"new({side}, {last})")}.Forward(y)", s, "side-input"));
        }

        if (rank == 3)
        {
            options.Add(() => Conv());
            options.Add(() => Conv());
            options.Add(() => Pool());
            options.Add(() => Emit($"{Field("BatchNorm2d", $"new({s[0]}{(Chance(30) ? ", momentum: 0.2" : string.Empty)})")}.Forward({_current})", s, "batchnorm2d"));
            options.Add(() => Emit($"AdaptiveAvgPool2d({_current}, 1)", new[] { s[0], 1, 1 }, "adaptive"));
            options.Add(() => Emit($"{_current} * Sigmoid(AdaptiveAvgPool2d({_current}, 1))", s, "broadcast-gate"));
            options.Add(() => ConvBlock());
        }

        Pick(options)();
    }

    private void Linear()
    {
        int last = _shape[^1], output = Next(1, 9);
        string bias = Chance(25) ? ", bias: false" : string.Empty;
        string field = Field("Linear", $"new({last}, {output}{bias})");
        int[] shape = _shape.Take(_shape.Length - 1).Append(output).ToArray();
        Emit($"{field}.Forward({_current})", shape, bias.Length > 0 ? "linear-no-bias" : "linear");
    }

    /// <summary>A GRU or LSTM over the steps × features value: its output, a final state, or a deconstruction statement.</summary>
    private void Recurrent()
    {
        int steps = _shape[0], features = _shape[1], hidden = Next(1, 7), layers = Next(1, 3);
        bool lstm = Chance(50);
        var arguments = new List<string> { features.ToString(CultureInfo.InvariantCulture), hidden.ToString(CultureInfo.InvariantCulture) };
        if (layers > 1 || Chance(20))
        {
            arguments.Add($"numLayers: {layers}");
        }

        if (Chance(25))
        {
            arguments.Add("bias: false");
        }

        string field = Field(lstm ? "LSTM" : "GRU", $"new({string.Join(", ", arguments)})");
        switch (Next(0, 3))
        {
            case 0:
                Emit($"{field}.Forward({_current}).Output", new[] { steps, hidden }, lstm ? "lstm-output" : "gru-output");
                break;
            case 1:
                Emit(lstm ? $"{field}.Forward({_current}).Final.{(Chance(50) ? "Cell" : "Hidden")}" : $"{field}.Forward({_current}).Hidden", new[] { layers, hidden }, lstm ? "lstm-final" : "gru-final");
                break;
            default:
                {
                    string output = Name("h"), final = Name("h");
                    _statements.Add(lstm ? $"var ({output}, ({final}, _)) = {field}.Forward({_current});" : $"var ({output}, {final}) = {field}.Forward({_current});");
                    _features.Add("recurrent-deconstruction");
                    _values.Add((output, new[] { steps, hidden }));
                    _current = final;
                    _currentIsInput = false;
                    _shape = new[] { layers, hidden };
                    _values.Add((_current, _shape));
                    break;
                }
        }
    }

    private void Conv()
    {
        int c = _shape[0], h = _shape[1], w = _shape[2];
        int padding = Next(0, 3), kernel = Next(1, Math.Min(Math.Min(h, w) + (2 * padding), 5) + 1), stride = Next(1, 3), output = Next(1, 5);
        var arguments = new List<string> { c.ToString(CultureInfo.InvariantCulture), output.ToString(CultureInfo.InvariantCulture), kernel.ToString(CultureInfo.InvariantCulture) };
        if (stride != 1 || Chance(20))
        {
            arguments.Add($"stride: {stride}");
        }

        if (padding != 0 || Chance(20))
        {
            arguments.Add($"padding: {padding}");
        }

        if (Chance(25))
        {
            arguments.Add("bias: false");
        }

        int outH = ((h + (2 * padding) - kernel) / stride) + 1, outW = ((w + (2 * padding) - kernel) / stride) + 1;
        Emit($"{Field("Conv2d", $"new({string.Join(", ", arguments)})")}.Forward({_current})", new[] { output, outH, outW }, stride == 1 ? "conv" : "conv-strided");
    }

    private void Pool()
    {
        int c = _shape[0], h = _shape[1], w = _shape[2];
        int kernel = Next(1, Math.Min(Math.Min(h, w), 4) + 1), stride = Chance(50) ? 0 : Next(1, 4);
        string name = Chance(50) ? "MaxPool2d" : "AvgPool2d";
        int step = stride == 0 ? kernel : stride;
        string call = stride == 0 ? $"{name}({_current}, {kernel})" : $"{name}({_current}, {kernel}, stride: {stride})";
        Emit(call, new[] { c, ((h - kernel) / step) + 1, ((w - kernel) / step) + 1 }, name.ToLowerInvariant());
    }

    private void Transpose()
    {
        int rank = _shape.Length, a = Next(0, rank), b = Next(0, rank);
        int[] shape = (int[])_shape.Clone();
        (shape[a], shape[b]) = (shape[b], shape[a]);
        int wa = Chance(30) ? a - rank : a, wb = Chance(30) ? b - rank : b;
        Emit($"{_current}.Transpose({wa}, {wb})", shape, "transpose");
    }

    private void Reshape()
    {
        int size = Size(_shape);
        if (_shape.Length >= 2 && Chance(30))
        {
            Emit($"{_current}.Reshape({_current}.Size(0), -1)", new[] { _shape[0], size / _shape[0] }, "reshape-size");
            return;
        }

        var dims = new List<int>();
        int rest = size, rank = Next(1, 4);
        for (int i = 0; i < rank - 1; i++)
        {
            int[] divisors = Enumerable.Range(1, rest).Where(d => rest % d == 0).ToArray();
            int d = Pick(divisors);
            dims.Add(d);
            rest /= d;
        }

        dims.Add(rest);
        string[] written = dims.Select(d => d.ToString(CultureInfo.InvariantCulture)).ToArray();
        if (Chance(40))
        {
            written[Next(0, written.Length)] = "-1";
        }

        Emit($"{_current}.Reshape({string.Join(", ", written)})", dims.ToArray(), "reshape");
    }

    private void Concat()
    {
        int rank = _shape.Length, d = Next(0, rank);
        int[] shape = (int[])_shape.Clone();
        shape[d] *= 2;
        string other = Chance(50) ? _current : Activation(_current);
        Emit($"Concat({(Chance(30) ? d - rank : d)}, {_current}, {other})", shape, other == _current ? "concat-self" : "concat");
    }

    /// <summary>
    /// A value used twice: <c>h + f(h)</c>, <c>h * h</c>, a branch kept in a local and joined later, or a residual block's end
    /// <c>h + bn(f(h))</c> (either order, with or without a ReLU: the normalisation may fold the addition in).
    /// </summary>
    private void Residual()
    {
        string op = Pick(new[] { "+", "-", "*" });
        int[] s = _shape;
        switch (Next(0, 4))
        {
            case 3 when s.Length is 1 or 3:
                string norm = Field(s.Length == 3 ? "BatchNorm2d" : "BatchNorm1d", $"new({s[0]})");
                string normalised = $"{norm}.Forward({Activation(_current)})";
                string sum = Chance(50) ? $"{_current} + {normalised}" : $"{normalised} + {_current}";
                Emit(Chance(50) ? $"Relu({sum})" : sum, s, "residual-norm");
                break;
            case 0:
                Emit($"{_current} {op} {Activation(_current)}", s, "residual");
                break;
            case 1:
                Emit($"{_current} {op} {_current}", s, "self-binary");
                break;
            default:
                string start = _current;
                string branch = Name("b");
                _statements.Add($"var {branch} = {Activation(start)};");
                Emit($"{Field("LayerNorm", $"new({s[^1]})")}.Forward({start})", s, "layernorm");
                Emit($"{_current} {op} {branch}", s, "branch-join");
                break;
        }
    }

    /// <summary>A [Module] block on the last dimension, built from a constructor argument.</summary>
    private void Block()
    {
        _mlpBlock = true;
        int last = _shape[^1];
        string field = Name("block");
        _fields.Add(Chance(50) ? $"readonly FuzzBlock {field} = new({last});" : $"readonly FuzzBlock {field} = new FuzzBlock(features: {last});");
        Emit($"{field}.Forward({_current})", _shape, "module");
    }

    private void ConvBlock()
    {
        _convBlock = true;
        string field = Name("convBlock");
        _fields.Add($"readonly FuzzConvBlock {field} = new({_shape[0]});");
        Emit($"{field}.Forward({_current})", _shape, "conv-module");
    }

    /// <summary>An array of modules walked by a loop with constant bounds.</summary>
    private void Stack()
    {
        int last = _shape[^1], count = Next(1, 4);
        string field = Name("stack");
        if (Chance(50))
        {
            _fields.Add($"readonly Linear[] {field} = {{ {string.Join(", ", Enumerable.Repeat($"new Linear({last}, {last})", count))} }};");
        }
        else
        {
            _fields.Add($"readonly Linear[] {field};");
            _constructor.Add($"{field} = new Linear[{count}];");
            _constructor.Add($"for (int i = 0; i < {field}.Length; i++)");
            _constructor.Add("{");
            _constructor.Add($"    {field}[i] = new Linear({last}, {last});");
            _constructor.Add("}");
            _features.Add("constructor-loop");
        }

        string start = _current;
        string local = Name("h");
        _statements.Add($"var {local} = {start};");
        if (Chance(50))
        {
            _statements.Add($"foreach (Linear layer in {field})");
            _statements.Add("{");
            _statements.Add($"    {local} = {Activation($"layer.Forward({local})")};");
            _statements.Add("}");
            _features.Add("foreach");
        }
        else
        {
            _statements.Add($"for (int i = 0; i < {field}.Length; i++)");
            _statements.Add("{");
            _statements.Add($"    if (i == {count}) break;");
            _statements.Add($"    {local} = {field}[i].Forward({local});");
            _statements.Add("}");
            _features.Add("for");
        }

        _current = local;
        _currentIsInput = false;
        _values.Add((local, _shape));
    }

    /// <summary>A private helper, static or using a field.</summary>
    private void Helper()
    {
        string name = Name("Helper");
        int last = _shape[^1];
        switch (Next(0, 3))
        {
            case 0:
                _helpers.Add($"private static Tensor {name}(Tensor a) => {Activation("a")};");
                break;
            case 1:
                string field = Field("Linear", $"new({last}, {last})");
                _helpers.Add($"private Tensor {name}(Tensor a)\n    {{\n        var t = {field}.Forward(a);\n        return a + t;\n    }}");
                break;
            default:
                _helpers.Add($"private Tensor {name}(Tensor a, int times)\n    {{\n        for (int k = 0; k < times; k++)\n        {{\n            a = {Activation("a")};\n        }}\n\n        return a;\n    }}");
                Emit($"{name}({_current}, {Next(1, 3)})", _shape, "helper-loop");
                return;
        }

        Emit($"{name}({_current})", _shape, "helper");
    }

    /// <summary>An if on a constant: the size of a dimension or a const.</summary>
    private void Conditional()
    {
        int d = Next(0, _shape.Length), threshold = Next(1, 8);
        string local = Name("h");
        _statements.Add($"Tensor {local};");
        _statements.Add($"if ({_current}.Size({d}) > {threshold})");
        _statements.Add("{");
        _statements.Add($"    {local} = {Activation(_current)};");
        _statements.Add("}");
        _statements.Add("else");
        _statements.Add("{");
        _statements.Add($"    {local} = {Activation(_current)};");
        _statements.Add("}");
        _features.Add("if");
        _current = local;
        _currentIsInput = false;
        _values.Add((local, _shape));
    }

    // ---- mistakes ----

    private static string Fallback(string mistake) =>
        ShapeMistakes.Contains(mistake) ? "reshape-size" : ArgumentMistakes.Contains(mistake) ? "dropout-p" : "while";

    /// <summary>Writes one mistake of this kind on the current value; false when it does not apply to its shape.</summary>
    private bool TryMistake(string mistake)
    {
        int[] s = _shape;
        int rank = s.Length, last = s[^1], size = Size(s);
        string x = _current;
        switch (mistake)
        {
            case "linear-in":
                int wrong = Chance(50) ? last + Next(1, 4) : last > 1 ? last - 1 : last * 2;
                Emit($"{Field("Linear", $"new({wrong}, 3)")}.Forward({x})", s.Take(rank - 1).Append(3).ToArray(), "linear");
                return true;
            case "conv-channels" when rank == 3:
                Emit($"{Field("Conv2d", $"new({s[0] + Next(1, 3)}, 2, 1)")}.Forward({x})", s, "conv");
                return true;
            case "conv-rank" when rank != 3:
                Emit($"{Field("Conv2d", $"new({s[0]}, 2, 1)")}.Forward({x})", s, "conv");
                return true;
            case "conv-window" when rank == 3:
                Emit($"{Field("Conv2d", $"new({s[0]}, 2, {Math.Min(s[1], s[2]) + 1})")}.Forward({x})", s, "conv");
                return true;
            case "binary-mismatch":
                {
                    int p = Next(2, 6), q = p + Next(1, 4);
                    string a = Field("Linear", $"new({last}, {p})"), b = Field("Linear", $"new({last}, {q})");
                    string left = Name("a"), right = Name("a");
                    _statements.Add($"var {left} = {a}.Forward({x});");
                    _statements.Add($"var {right} = {b}.Forward({x});");
                    Emit($"{left} {Pick(new[] { "+", "-", "*" })} {right}", s, "binary");
                    return true;
                }

            case "pool-too-large" when rank == 3:
                Emit($"{Pick(new[] { "MaxPool2d", "AvgPool2d" })}({x}, {Math.Min(s[1], s[2]) + Next(1, 3)})", s, "pool");
                return true;
            case "reshape-size":
                Emit($"{x}.Reshape({(Chance(50) ? $"{size + 1}" : $"2, {size}")})", s, "reshape");
                return true;
            case "size-in-reshape" when last != 1:
                Emit($"{x}.Reshape({x}.Size({rank - 1}), {size})", s, "reshape");
                return true;
            case "transpose-range":
                Emit($"{x}.Transpose({Pick(new[] { $"0, {rank}", $"{rank + 1}, 0", $"{-rank - 1}, 0" })})", s, "transpose");
                return true;
            case "batchnorm-rank" when rank != 3:
                Emit($"{Field("BatchNorm2d", $"new({s[0]})")}.Forward({x})", s, "batchnorm2d");
                return true;
            case "batchnorm-rank" when rank == 3:
                Emit($"{Field("BatchNorm1d", $"new({s[0]})")}.Forward({x})", s, "batchnorm1d");
                return true;
            case "batchnorm-channels" when rank == 3:
                Emit($"{Field("BatchNorm2d", $"new({s[0] + 1})")}.Forward({x})", s, "batchnorm2d");
                return true;
            case "layernorm":
                Emit($"{Field("LayerNorm", $"new({last + 1})")}.Forward({x})", s, "layernorm");
                return true;
            case "concat-dimension":
                Emit($"Concat({Pick(new[] { rank, -rank - 1 })}, {x}, {x})", s, "concat");
                return true;
            case "concat-mismatch" when rank >= 2:
                Emit($"Concat(0, {x}, {Field("Linear", $"new({last}, {last + 1})")}.Forward({x}))", s, "concat");
                return true;
            case "module-inner":
                _blockLinear = "new Linear(features + 1, features)";
                Block();
                return true;

            case "negative-padding" when rank == 3:
                Emit($"{Field("Conv2d", $"new({s[0]}, 2, 1, padding: -{Next(1, 3)})")}.Forward({x})", s, "conv");
                return true;
            case "zero-kernel" when rank == 3:
                Emit($"{Field("Conv2d", $"new({s[0]}, 2, {Pick(new[] { 0, -1 })})")}.Forward({x})", s, "conv");
                return true;
            case "zero-stride" when rank == 3:
                Emit($"{Field("Conv2d", $"new({s[0]}, 2, 1, stride: 0)")}.Forward({x})", s, "conv");
                return true;
            case "zero-out-features":
                Emit($"{Field("Linear", $"new({last}, {Pick(new[] { 0, -3 })})")}.Forward({x})", s, "linear");
                return true;
            case "dropout-p":
                Emit($"{Field("Dropout", $"new({Pick(new[] { "1.0", "1.5", "-0.1" })})")}.Forward({x})", s, "dropout");
                return true;
            case "gelu-approximate":
                Emit($"Gelu({x}, approximate: \"{Pick(new[] { "fast", "Tanh", string.Empty })}\")", s, "activation");
                return true;
            case "adaptive-size" when rank == 3:
                Emit($"AdaptiveAvgPool2d({x}, {Pick(new[] { 0, 2, 3 })})", s, "adaptive");
                return true;
            case "pool-zero-kernel" when rank == 3:
                Emit($"MaxPool2d({x}, 0)", s, "pool");
                return true;
            case "pool-negative-stride" when rank == 3:
                Emit($"AvgPool2d({x}, 1, stride: -1)", s, "pool");
                return true;
            case "layernorm-eps":
                Emit($"{Field("LayerNorm", $"new({last}, eps: {Pick(new[] { "0", "-1e-5" })})")}.Forward({x})", s, "layernorm");
                return true;
            case "batchnorm-momentum" when rank == 3:
                Emit($"{Field("BatchNorm2d", $"new({s[0]}, momentum: 1.5)")}.Forward({x})", s, "batchnorm2d");
                return true;
            case "non-constant":
                Emit($"{Field("Linear", $"new({last}, System.Environment.ProcessorCount)")}.Forward({x})", s, "linear");
                return true;
            case "module-argument":
                _blockDropout = "1.5";
                Block();
                return true;

            case "while":
                {
                    string local = Name("h");
                    _statements.Add($"var {local} = {x};");
                    _statements.Add($"while ({local}.Size(0) > 100)");
                    _statements.Add("{");
                    _statements.Add($"    {local} = Relu({local});");
                    _statements.Add("}");
                    _current = local;
                    _currentIsInput = false;
                    return true;
                }

            case "do-while":
                {
                    string local = Name("h");
                    _statements.Add($"var {local} = {x};");
                    _statements.Add($"do {{ {local} = Relu({local}); }} while ({local}.Size(0) > 100);");
                    _current = local;
                    _currentIsInput = false;
                    return true;
                }

            case "switch":
                {
                    string local = Name("h");
                    _statements.Add($"var {local} = {x};");
                    _statements.Add($"switch ({rank})");
                    _statements.Add("{");
                    _statements.Add($"    case 1: {local} = Relu({local}); break;");
                    _statements.Add($"    default: {local} = Tanh({local}); break;");
                    _statements.Add("}");
                    _current = local;
                    _currentIsInput = false;
                    return true;
                }

            case "try":
                {
                    string local = Name("h");
                    _statements.Add($"var {local} = {x};");
                    _statements.Add($"try {{ {local} = Relu({local}); }} finally {{ }}");
                    _current = local;
                    _currentIsInput = false;
                    return true;
                }

            case "lock":
                {
                    string local = Name("h");
                    _statements.Add($"var {local} = {x};");
                    _statements.Add($"lock (this) {{ {local} = Relu({local}); }}");
                    _current = local;
                    _currentIsInput = false;
                    return true;
                }

            case "math-max-tensors":
                Emit($"System.Math.Max({x}, {x})", s, "math-max");
                return true;
            case "math-max-int" when rank == 3 && Math.Min(s[1], s[2]) >= 2:
                Emit($"MaxPool2d({x}, System.Math.Max(1, 2))", new[] { s[0], s[1] / 2, s[2] / 2 }, "math-max");
                return true;
            case "math-max-int":
                Emit($"{x}.Reshape(System.Math.Max({size}, 1))", new[] { size }, "math-max");
                return true;
            case "module-in-forward":
                Emit($"new Linear({last}, 2).Forward({x})", s.Take(rank - 1).Append(2).ToArray(), "module-in-forward");
                return true;
            case "output-twice":
                // The same value as both elements of the tuple Forward returns.
                _secondOutput = "same";
                _features.Add("two-outputs");
                return true;
            case "returns-input":
                _statements.Clear();
                _current = "x";
                _currentIsInput = true;
                return true;
            case "other-class-call":
                _otherClass = true;
                Emit($"FuzzOther.Twice({x})", s, "other-class");
                return true;
            case "local-function":
                _statements.Add("static Tensor Local(Tensor a) => Relu(a);");
                Emit($"Local({x})", s, "local-function");
                return true;
            case "tensor-field":
                _fields.Add("Tensor? stored;");
                _statements.Add($"stored = {x};");
                return true;
            case "non-constant-if":
                {
                    string local = Name("h");
                    _statements.Add($"var {local} = {x};");
                    _statements.Add($"if (System.Environment.ProcessorCount > 1) {{ {local} = Relu({local}); }}");
                    _current = local;
                    _currentIsInput = false;
                    return true;
                }

            case "static-field":
                _fields.Add("static readonly Linear shared = new(1, 1);");
                Emit($"shared.Forward({x})", s.Take(rank - 1).Append(1).ToArray(), "static-field");
                return true;
            default:
                return false;
        }
    }

    // ---- rendering ----

    private string Render(int[] input, string loss, string? declaration)
    {
        var text = new StringBuilder();
        text.Append("using StaticGrad;\nusing static StaticGrad.Functional;\n\nnamespace Fuzz;\n\n");
        if (_mlpBlock)
        {
            string baseList = declaration == "module-base-class" ? " : FuzzBase" : string.Empty;
            _baseClass |= baseList.Length > 0;
            text.Append($$"""
                [Module]
                public partial class FuzzBlock{{baseList}}
                {
                    readonly Linear fc;
                    readonly LayerNorm norm;
                    readonly Dropout drop = new({{_blockDropout}});

                    public FuzzBlock(int features)
                    {
                        fc = {{_blockLinear}};
                        norm = new LayerNorm(features);
                    }

                    public Tensor Forward(Tensor x)
                    {
                        var h = Gelu(fc.Forward(norm.Forward(x)));
                        return x + drop.Forward(h);
                    }
                }


                """.Replace("\r", string.Empty, StringComparison.Ordinal));
        }

        if (_convBlock)
        {
            text.Append("""
                [Module]
                public partial class FuzzConvBlock
                {
                    readonly Conv2d conv1, conv2;
                    readonly BatchNorm2d bn1, bn2;

                    public FuzzConvBlock(int channels)
                    {
                        conv1 = new Conv2d(channels, channels, 3, padding: 1, bias: false);
                        bn1 = new BatchNorm2d(channels);
                        conv2 = new Conv2d(channels, channels, 3, padding: 1, bias: false);
                        bn2 = new BatchNorm2d(channels);
                    }

                    public Tensor Forward(Tensor x)
                    {
                        var h = Relu(bn1.Forward(conv1.Forward(x)));
                        h = bn2.Forward(conv2.Forward(h));
                        return Relu(x + h);
                    }
                }


                """.Replace("\r", string.Empty, StringComparison.Ordinal));
        }

        if (_otherClass)
        {
            text.Append("public static class FuzzOther\n{\n    public static Tensor Twice(Tensor a) => a + a;\n}\n\n");
        }

        string modelBase = string.Empty;
        if (declaration == "base-class")
        {
            modelBase = " : FuzzBase";
            _baseClass = true;
        }

        if (_baseClass)
        {
            text.Append("public class FuzzBase\n{\n}\n\n");
        }

        string element = Chance(25) ? "<double>" : Chance(10) ? "<float>" : string.Empty; // [Model<double>] generates the same graph in double
        text.Append(loss == "None" && Chance(50) ? $"[Model{element}]\n" : $"[Model{element}(Loss = Loss.{loss})]\n");
        text.Append($"public partial class FuzzNet{modelBase}\n{{\n");
        if (Chance(20))
        {
            text.Append("    const int Unused = 3;\n");
        }

        foreach (string field in _fields)
        {
            text.Append("    ").Append(field).Append('\n');
        }

        if (_constructor.Count > 0 || declaration == "constructor-parameters" || Chance(10))
        {
            text.Append(declaration == "constructor-parameters" ? "\n    public FuzzNet(int seed)\n    {\n" : "\n    public FuzzNet()\n    {\n");
            foreach (string line in _constructor)
            {
                text.Append("        ").Append(line).Append('\n');
            }

            text.Append("    }\n");
        }

        string inputShape = declaration switch
        {
            "missing-shape" => string.Empty,
            "zero-shape" => $"[Shape({Dims(input.Take(input.Length - 1).Append(0))})] ",
            "five-dimensions" => $"[Shape({Dims(input.Concat(Enumerable.Repeat(1, 5 - input.Length)))})] ",
            _ => $"[Shape({Dims(input)})] ",
        };
        string parameters = $"{inputShape}Tensor x";
        if (_sideFeatures is { } side)
        {
            parameters += $", [Shape({side})] Tensor y";
        }

        if (declaration == "int-input")
        {
            parameters += ", int extra";
        }

        string forward = declaration == "no-forward" ? "Run" : "Forward";
        string returns = _secondOutput is null ? "Tensor" : _namedOutputs ? "(Tensor Main, Tensor Aux)" : "(Tensor, Tensor)";
        text.Append($"\n    public {returns} {forward}({parameters})\n    {{\n");
        foreach (string statement in _statements)
        {
            text.Append("        ").Append(statement).Append('\n');
        }

        text.Append(_secondOutput is null
            ? $"        return {_current};\n    }}\n"
            : $"        return ({_current}, {(_secondOutput == "same" ? _current : _secondOutput)});\n    }}\n");
        if (declaration == "two-forwards")
        {
            text.Append("\n    public Tensor Forward(Tensor a, Tensor b) => a + b;\n");
        }

        foreach (string helper in _helpers)
        {
            text.Append("\n    ").Append(helper).Append('\n');
        }

        text.Append("}\n");
        return text.ToString();
    }
}
