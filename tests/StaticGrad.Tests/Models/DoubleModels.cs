using StaticGrad;
using static StaticGrad.Functional;

namespace StaticGrad.Tests.Models;

/// <summary><see cref="EveryOpNet"/>'s forward pass in double: every op of the graph, generated with double state and spans.</summary>
[Model<double>(Loss = Loss.MeanSquaredError)]
public partial class EveryOpNetDouble
{
    readonly Conv2d conv = new(2, 4, 3, stride: 2, padding: 1);
    readonly Conv2d same = new(4, 4, 3, padding: 1);
    readonly BatchNorm2d bn = new(4);
    readonly BatchNorm1d sideNorm = new(6);
    readonly LayerNorm norm = new(5);
    readonly Linear rows = new(5, 5);
    readonly Dropout drop = new(0.25);
    readonly Linear head = new(22, 3);

    public Tensor Forward([Shape(2, 9, 9)] Tensor x, [Shape(6)] Tensor side)
    {
        var h = Silu(bn.Forward(conv.Forward(x)));                  // 4×5×5
        h = h - Tanh(same.Forward(h));
        var t = rows.Forward(norm.Forward(h.Transpose(1, 2)));      // 4×5×5, on the last dimension
        var pooled = MaxPool2d(AvgPool2d(t, 2, stride: 1), 2);      // 4×4×4 → 4×2×2
        var gated = pooled * Sigmoid(AdaptiveAvgPool2d(t, 1));      // 4×2×2 · 4×1×1
        var s = Gelu(sideNorm.Forward(side)).Reshape(2, 3);
        return head.Forward(Concat(0, gated.Flatten(), drop.Forward(s.Flatten())));
    }
}

/// <summary><see cref="TinyResNet"/> in double: residual blocks with BatchNorm2d, a softmax classifier.</summary>
[Model<double>(Loss = Loss.SoftmaxCrossEntropy)]
public partial class TinyResNetDouble
{
    readonly Conv2d stem = new(1, 4, 3, padding: 1);
    readonly BatchNorm2d bn = new(4);
    readonly ResidualBlock block1 = new(4), block2 = new(4);
    readonly Linear head = new(4 * 2 * 2, 3);

    public Tensor Forward([Shape(1, 8, 8)] Tensor x)
    {
        var h = MaxPool2d(Relu(bn.Forward(stem.Forward(x))), 2);   // 4×4×4
        h = MaxPool2d(block2.Forward(block1.Forward(h)), 2);       // 4×2×2
        return head.Forward(h.Flatten());
    }
}

/// <summary>A small transformer block in double: token embedding, causal attention, LayerNorm, tanh GELU, a GRU.</summary>
[Model<double>(Loss = Loss.SoftmaxCrossEntropy)]
public partial class TinySequenceDouble
{
    readonly Embedding embed = new(7, 8);
    readonly LayerNorm norm = new(8);
    readonly Linear query = new(8, 8), key = new(8, 8), value = new(8, 8);
    readonly GRU gru = new(8, 6);
    readonly Linear head = new(6, 7);

    public Tensor Forward([Shape(5)] Tokens ids)
    {
        var x = embed.Forward(ids);                                              // 5×8
        var n = norm.Forward(x);
        var a = ScaledDotProductAttention(query.Forward(n), key.Forward(n), value.Forward(n), causal: true);
        x = x + Gelu(a, approximate: "tanh");
        var (output, _) = gru.Forward(x);                                        // 5×6
        return head.Forward(output);                                             // 5×7: a class per position
    }
}

/// <summary>
/// The sequence ops <see cref="TinySequenceDouble"/> leaves out, in double: a Parameter field, MatMul, Softmax along an inner
/// dimension, attention without a mask, a two-layer LSTM without bias, and the LSTM's final cell state as a second path.
/// </summary>
[Model<double>(Loss = Loss.MeanSquaredError)]
public partial class EverySequenceOpNetDouble
{
    readonly Embedding embed = new(7, 6);
    readonly Parameter bias = new(5, 6);
    readonly Parameter mix = new(5, 5);
    readonly Linear q = new(6, 4), k = new(6, 4), v = new(6, 3);
    readonly LSTM lstm = new(3, 4, numLayers: 2, bias: false);
    readonly Linear head = new(4, 2);

    public Tensor Forward([Shape(5)] Tokens ids)
    {
        var x = embed.Forward(ids) + bias;                                       // 5×6
        var mixed = MatMul(Softmax(mix, 0), x);                                  // 5×5 · 5×6
        var a = ScaledDotProductAttention(q.Forward(mixed), k.Forward(x), v.Forward(x));   // 5×3
        var (output, (_, cell)) = lstm.Forward(Tanh(a));                         // 5×4 and the final cells 2×4
        return Concat(0, head.Forward(output), head.Forward(cell));              // 7×2
    }
}
