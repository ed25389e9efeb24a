using StaticGrad;
using static StaticGrad.Functional;

namespace StaticGrad.Benchmarks.ResNet;

// samples/FashionResNet/Models.cs, copied so that the benchmark project's generator builds the same model.

/// <summary>Two 3×3 convolutions with batch normalisation, added to the block's input (a ResNet basic block).</summary>
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

/// <summary>A small ResNet for 28×28 grey images: a stem, two residual blocks, a linear head over 10 classes.</summary>
[Model(Loss = Loss.SoftmaxCrossEntropy)]
public partial class FashionResNet
{
    readonly Conv2d stem = new(1, 32, 3, padding: 1);
    readonly BatchNorm2d bn = new(32);
    readonly ResidualBlock block1 = new(32), block2 = new(32);
    readonly Linear head = new(32 * 7 * 7, 10);

    public Tensor Forward([Shape(1, 28, 28)] Tensor x)
    {
        var h = MaxPool2d(Relu(bn.Forward(stem.Forward(x))), 2);   // 32×14×14
        h = MaxPool2d(block2.Forward(block1.Forward(h)), 2);       // 32×7×7
        return head.Forward(h.Flatten());
    }
}
