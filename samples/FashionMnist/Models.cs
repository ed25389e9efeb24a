using StaticGrad;

namespace StaticGrad.Samples.FashionMnist;

/// <summary>The MLP of the speed issue: 784 pixels → 128 ReLU units → 10 classes.</summary>
[Linear(784, 128), ReLU, Linear(128, 10), SoftmaxCrossEntropy]
public partial class FashionMlp;

/// <summary>A deeper MLP: 784 → 256 → 128 → 10.</summary>
[Linear(784, 256), ReLU, Linear(256, 128), ReLU, Linear(128, 10), SoftmaxCrossEntropy]
public partial class FashionDeepMlp;
