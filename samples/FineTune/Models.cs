namespace StaticGrad.Samples.FineTune;

// digits-0to5.onnx is PyTorch's MLP 64 → 32 → ReLU → 6, trained on the digits 0 to 5 only (make_pretrained.py).

/// <summary>The pretrained classifier as it is: six scores, for the digits 0 to 5.</summary>
[FromOnnx("digits-0to5.onnx")]
public partial class Pretrained;

/// <summary>
/// Its 32 hidden features (the import ends at the node '/Relu'), frozen, under a new head of ten classes: only the head trains.
/// </summary>
[FromOnnx("digits-0to5.onnx", Output = "/Relu", Head = 10, Freeze = true, Loss = Loss.SoftmaxCrossEntropy)]
public partial class FrozenFeatures;

/// <summary>The same new head, and the imported layer trained too (full fine-tuning).</summary>
[FromOnnx("digits-0to5.onnx", Output = "/Relu", Head = 10, Loss = Loss.SoftmaxCrossEntropy)]
public partial class FineTuned;
