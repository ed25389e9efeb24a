using StaticGrad;

namespace StaticGrad.Tests.Interchange;

// The nn.Sequential models of Golden/make_golden.py, layer for layer.
[Linear(6, 5), Tanh, Linear(5, 4), Sigmoid, Linear(4, 3)] public partial class GoldenDeepFloat;
[Linear(8, 16), ReLU, Linear(16, 4, Bias = false)] public partial class GoldenReluFloat;
[Linear<double>(3, 5), Tanh, Linear<double>(5, 2, Bias = false)] public partial class GoldenRegressionDouble;

// Every layer kind in float, with a loss, for the ONNX comparisons (the double ones are in Networks/TestNetworks.cs).
[Linear(7, 9), ReLU, Linear(9, 6), Sigmoid, Linear(6, 5, Bias = false), Tanh, Linear(5, 3), SoftmaxCrossEntropy] public partial class EveryLayerFloat;
[Linear<double>(7, 9), ReLU, Linear<double>(9, 6), Sigmoid, Linear<double>(6, 5, Bias = false), Tanh, Linear<double>(5, 3), MeanSquaredError] public partial class EveryLayerDouble : StaticGrad.Tests.Networks.INetwork;

// Small enough to write its safetensors files by hand: 0.weight [2, 3], 0.bias [2], 2.weight [2, 2], 2.bias [2].
[Linear(3, 2), ReLU, Linear(2, 2)] public partial class TinyFloat;

// make_golden.py's CNN: nn.Sequential(Conv2d(1, 2, 3, padding=1), ReLU(), MaxPool2d(2), Flatten(), Linear(18, 3)).
[Input(1, 6, 6), Conv2d(1, 2, 3, Padding = 1), ReLU, MaxPool2d(2), Flatten, Linear(2 * 3 * 3, 3)] public partial class GoldenCnnFloat;
