using StaticGrad;

namespace StaticGrad.Tests.Networks;

// Image networks in double for the gradient checks and the reference comparisons: every spatial layer, strides,
// padding, odd sizes, a 1×1 kernel, 1 and 3 channels, pooling with its own stride.
[Input<double>(1, 6, 6), Conv2d(1, 2, 3), ReLU, MaxPool2d(2), Flatten, Linear<double>(2 * 2 * 2, 3), SoftmaxCrossEntropy] public partial class TinyCnn : ILabelNetwork;
[Input<double>(2, 7, 5), Conv2d(2, 3, 3, Stride = 2, Padding = 1), Tanh, AvgPool2d(2, Stride = 1), Flatten, Linear<double>(18, 2), MeanSquaredError] public partial class StridedCnn : ITargetNetwork;
[Input<double>(3, 5, 5), Conv2d(3, 2, 1), Sigmoid, Flatten, Dropout(0.5), Linear<double>(50, 4), SoftmaxCrossEntropy] public partial class PointwiseCnn : ILabelNetwork;
[Input<double>(3, 9, 8), Conv2d(3, 4, 4, Stride = 3, Padding = 2, Bias = false), MaxPool2d(2, Stride = 1), Conv2d(4, 2, 2)] public partial class ConvOnly : INetwork;
[Input<double>(2, 6, 7), MaxPool2d(3, Stride = 2), Flatten, Linear<double>(2 * 2 * 3, 2)] public partial class PoolFirst : INetwork;

// What reads the input decides where the batch is read: ops that take spans read the caller's batch in place (PoolFirst,
// ActivationFirst); a Dropout first reads it from the network's own copy.
[Input<double>(2, 3, 3), Tanh, Flatten, Linear<double>(18, 2)] public partial class ActivationFirst : INetwork;
[Input<double>(2, 3, 3), Dropout(0.5), Flatten, Linear<double>(18, 2)] public partial class DropoutFirst : INetwork;

// The CNN, in float, for training tests and the ONNX comparison.
[Input(1, 28, 28), Conv2d(1, 16, 3, Padding = 1), ReLU, MaxPool2d(2), Conv2d(16, 32, 3, Padding = 1), ReLU, MaxPool2d(2), Flatten, Linear(32 * 7 * 7, 128), ReLU, Dropout(0.25), Linear(128, 10), SoftmaxCrossEntropy]
public partial class FashionCnnFloat;
