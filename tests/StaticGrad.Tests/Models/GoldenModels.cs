using StaticGrad;
using static StaticGrad.Functional;

namespace StaticGrad.Tests.Models;

// The C# twins of the nn.Modules in Golden/make_models_golden.py: the same names, so the state_dict files load as they are.

/// <summary>The residual block: conv → BN → ReLU → conv → BN, added to the input, ReLU.</summary>
[Module]
public partial class ResidualBlock
{
    readonly Conv2d conv1, conv2;
    readonly BatchNorm2d bn1, bn2;

    public ResidualBlock(int channels)
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

/// <summary>FashionResNet's architecture at 1×8×8 with 4 channels.</summary>
[Model(Loss = Loss.SoftmaxCrossEntropy)]
public partial class TinyResNet
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

/// <summary>An MLP with LayerNorm, both GELUs and a skip connection.</summary>
[Model(Loss = Loss.SoftmaxCrossEntropy)]
public partial class SkipMlp
{
    readonly Linear fc1 = new(6, 16);
    readonly LayerNorm ln = new(16);
    readonly Linear fc2 = new(16, 16);
    readonly Linear head = new(16, 3);

    public Tensor Forward([Shape(6)] Tensor x)
    {
        var h = fc1.Forward(x);
        h = h + Gelu(fc2.Forward(ln.Forward(h)));
        return head.Forward(Gelu(h, approximate: "tanh"));
    }
}

/// <summary>Two inputs, one gated by the other.</summary>
[Model(Loss = Loss.MeanSquaredError)]
public partial class TwoInputNet
{
    readonly Linear a = new(5, 8), b = new(3, 8);
    readonly Linear head = new(8, 2);

    public Tensor Forward([Shape(5)] Tensor x, [Shape(3)] Tensor y) => head.Forward(Tanh(a.Forward(x)) * Sigmoid(b.Forward(y)));
}

/// <summary>
/// Two outputs, the second computed from the first: class scores, and a value read from the scores. Trained on the sum of
/// a cross-entropy on the scores and a mean squared error on the value (make_two_output_golden.py).
/// </summary>
[Model]
public partial class TwoHeadNet
{
    readonly Linear trunk = new(6, 12), classes = new(12, 3), value = new(3, 1);

    public (Tensor Scores, Tensor Value) Forward([Shape(6)] Tensor x)
    {
        var h = Tanh(trunk.Forward(x));
        var scores = classes.Forward(h);
        return (scores, value.Forward(Tanh(scores)));
    }
}
