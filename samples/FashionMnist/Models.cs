using StaticGrad;

namespace StaticGrad.Samples.FashionMnist;

/// <summary>The MLP of the speed issue: 784 pixels → 128 ReLU units → 10 classes.</summary>
[Linear(784, 128), ReLU, Linear(128, 10), SoftmaxCrossEntropy]
public partial class FashionMlp;

/// <summary>A deeper MLP: 784 → 256 → 128 → 10.</summary>
[Linear(784, 256), ReLU, Linear(256, 128), ReLU, Linear(128, 10), SoftmaxCrossEntropy]
public partial class FashionDeepMlp;

/// <summary>
/// A small CNN: two 3×3 convolutions (16 and 32 filters, padding 1) each followed by ReLU and 2×2 max pooling, then
/// 1,568 → 128 → 10 with dropout. PyTorch: nn.Sequential(Conv2d(1, 16, 3, padding=1), ReLU(), MaxPool2d(2),
/// Conv2d(16, 32, 3, padding=1), ReLU(), MaxPool2d(2), Flatten(), Linear(1568, 128), ReLU(), Dropout(0.25), Linear(128, 10)).
/// </summary>
[Input(1, 28, 28), Conv2d(1, 16, 3, Padding = 1), ReLU, MaxPool2d(2), Conv2d(16, 32, 3, Padding = 1), ReLU, MaxPool2d(2),
 Flatten, Linear(32 * 7 * 7, 128), ReLU, Dropout(0.25), Linear(128, 10), SoftmaxCrossEntropy]
public partial class FashionCnn;
