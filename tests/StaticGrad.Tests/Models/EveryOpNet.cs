using StaticGrad;
using static StaticGrad.Functional;

namespace StaticGrad.Tests.Models;

/// <summary>
/// One model that uses every op of the graph the golden models do not: strided and stride-1 convolutions, BatchNorm1d,
/// LayerNorm and Linear on a rank-3 value, Transpose, Reshape, Flatten, Concat, SiLU, sigmoid, tanh, exact GELU,
/// average, adaptive and max pooling, subtraction, a broadcast product, Dropout and two inputs.
/// </summary>
[Model(Loss = Loss.MeanSquaredError)]
public partial class EveryOpNet
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
