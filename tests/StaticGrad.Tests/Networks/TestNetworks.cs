using System;
using StaticGrad;

namespace StaticGrad.Tests.Networks;

// The interfaces name what every generated network has, so the tests can treat the networks alike.
// The generated members implement them implicitly.
public interface INetwork
{
    Span<double> Parameters { get; }

    Span<double> Gradients { get; }

    void ZeroGradients();

    void Forward(ReadOnlySpan<double> inputs, Span<double> outputs);

    void Backward(ReadOnlySpan<double> outputGradients, Span<double> inputGradients);
}

public interface ILabelNetwork : INetwork
{
    double ComputeLoss(ReadOnlySpan<double> outputs, ReadOnlySpan<int> labels, Span<double> outputGradients);
}

public interface ITargetNetwork : INetwork
{
    double ComputeLoss(ReadOnlySpan<double> outputs, ReadOnlySpan<double> targets, Span<double> outputGradients);
}

// One layer or loss at a time.
[Linear<double>(5, 4)] public partial class LinearOnly : INetwork;
[Linear<double>(5, 4, Bias = false)] public partial class LinearNoBias : INetwork;
[Linear<double>(4, 4), ReLU] public partial class ReLUOnly : INetwork;
[Linear<double>(4, 4), Sigmoid] public partial class SigmoidOnly : INetwork;
[Linear<double>(4, 4), Tanh] public partial class TanhOnly : INetwork;
[Linear<double>(4, 5), SoftmaxCrossEntropy] public partial class SoftmaxOnly : ILabelNetwork;
[Linear<double>(4, 5), MulticlassSvm] public partial class SvmOnly : ILabelNetwork;
[Linear<double>(4, 3), MeanSquaredError] public partial class MseOnly : ITargetNetwork;

// Whole networks.
[Linear<double>(6, 5), Tanh, Linear<double>(5, 4), Sigmoid, Linear<double>(4, 3), SoftmaxCrossEntropy] public partial class DeepSoftmax : ILabelNetwork;
[Linear<double>(6, 8), ReLU, Linear<double>(8, 4), MulticlassSvm(Margin = 0.5)] public partial class ReLUSvm : ILabelNetwork;
[Linear<double>(3, 5), Tanh, Linear<double>(5, 2, Bias = false), MeanSquaredError] public partial class TanhRegression : ITargetNetwork;

// The digits MLP in both element types.
[Linear<double>(64, 32), ReLU, Linear<double>(32, 10), SoftmaxCrossEntropy] public partial class DigitNetDouble : ILabelNetwork;
[Linear(64, 32), ReLU, Linear(32, 10), SoftmaxCrossEntropy] public partial class DigitNetFloat;

// Same layers as DigitNetDouble but another loss: its files must not load into DigitNetDouble.
[Linear<double>(64, 32), ReLU, Linear<double>(32, 10), MulticlassSvm] public partial class DigitSvmDouble;
