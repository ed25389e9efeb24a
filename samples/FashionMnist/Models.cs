using System;
using StaticGrad;

namespace StaticGrad.Samples.FashionMnist;

/// <summary>What both models have in common; StaticGrad's generated members implement it.</summary>
public interface IFashionModel
{
    float TrainStep(ReadOnlySpan<float> inputs, ReadOnlySpan<int> labels);

    double Accuracy(ReadOnlySpan<float> inputs, ReadOnlySpan<int> labels);

    void UseAdam(float learningRate = 0.001f, float beta1 = 0.9f, float beta2 = 0.999f, float epsilon = 1e-8f, float weightDecay = 0f);
}

/// <summary>The MLP of the speed issue: 784 pixels → 128 ReLU units → 10 classes.</summary>
[Linear(784, 128), ReLU, Linear(128, 10), SoftmaxCrossEntropy]
public partial class FashionMlp : IFashionModel;

/// <summary>A deeper MLP: 784 → 256 → 128 → 10.</summary>
[Linear(784, 256), ReLU, Linear(256, 128), ReLU, Linear(128, 10), SoftmaxCrossEntropy]
public partial class FashionDeepMlp : IFashionModel;
