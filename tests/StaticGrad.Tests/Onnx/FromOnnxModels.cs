namespace StaticGrad.Tests.Onnx;

// PyTorch 1.13's exports of make_onnx_fixtures.py, imported at compile time by this project's own build (the package's
// build targets, imported by StaticGrad.Tests.csproj, hand the .onnx AdditionalFiles items to the generator as text).

/// <summary>The MLP 64-32-10 (Gemm, Relu, Gemm), opset 13.</summary>
[FromOnnx("Onnx/Golden/mlp.opset13.onnx", Loss = Loss.SoftmaxCrossEntropy)]
public partial class ImportedMlp13;

/// <summary>The MLP, opset 17.</summary>
[FromOnnx("Onnx/Golden/mlp.opset17.onnx", Loss = Loss.SoftmaxCrossEntropy)]
public partial class ImportedMlp17;

/// <summary>Conv, BatchNormalization, Relu, MaxPool, the Shape→Gather→Unsqueeze→Concat→Reshape of view(n, -1), Gemm; opset 13.</summary>
[FromOnnx("Onnx/Golden/cnn.opset13.onnx", Loss = Loss.SoftmaxCrossEntropy)]
public partial class ImportedCnn13;

/// <summary>The CNN, opset 17.</summary>
[FromOnnx("Onnx/Golden/cnn.opset17.onnx", Loss = Loss.SoftmaxCrossEntropy)]
public partial class ImportedCnn17;

/// <summary>A residual block (two Conv+BatchNorm, Add of the input, Relu), opset 13.</summary>
[FromOnnx("Onnx/Golden/residual.opset13.onnx", Loss = Loss.MeanSquaredError)]
public partial class ImportedResidual13;

/// <summary>The residual block, opset 17.</summary>
[FromOnnx("Onnx/Golden/residual.opset17.onnx", Loss = Loss.MeanSquaredError)]
public partial class ImportedResidual17;

/// <summary>The MLP cut at its hidden ReLU (<c>Output = "/Relu"</c>, a node's name): the 32 features, without fc2.</summary>
[FromOnnx("Onnx/Golden/mlp.opset13.onnx", Output = "/Relu")]
public partial class ImportedMlpFeatures;

/// <summary>Fine-tuning: the MLP's features, frozen, under a new head of 4 classes.</summary>
[FromOnnx("Onnx/Golden/mlp.opset13.onnx", Output = "/Relu", Head = 4, Freeze = true, Loss = Loss.SoftmaxCrossEntropy)]
public partial class ImportedMlpFrozenHead;

/// <summary>The same head, the imported layers trained too.</summary>
[FromOnnx("Onnx/Golden/mlp.opset13.onnx", Output = "/Relu", Head = 4, Loss = Loss.SoftmaxCrossEntropy)]
public partial class ImportedMlpNewHead;

/// <summary>A Linear(32, 4) written as C#: what the frozen model's training must reduce to.</summary>
[Model(Loss = Loss.SoftmaxCrossEntropy)]
public partial class FeatureHead
{
    readonly Linear head = new(32, 4);

    public Tensor Forward([Shape(32)] Tensor features) => head.Forward(features);
}

/// <summary>Sigmoid, Transpose, LayerNormalization, MatMul+Add, Tanh, Pad+AveragePool, GlobalAveragePool, Mul, Sub, Flatten, Concat, Softmax (opset 17).</summary>
[FromOnnx("Onnx/Golden/ops.opset17.onnx", Loss = Loss.MeanSquaredError)]
public partial class ImportedOps17;

/// <summary>nn.Embedding over int64 token ids (Gather), Tanh, Flatten, Gemm (opset 17): a Tokens input.</summary>
[FromOnnx("Onnx/Golden/embed.opset17.onnx", Loss = Loss.SoftmaxCrossEntropy)]
public partial class ImportedEmbed17;

/// <summary>
/// A tiny GPT (opset 17): Gather plus a learned position tensor, LayerNormalization, q/k/v MatMuls, Reshape and Transpose into
/// 2 heads (one Transpose with perm [0, 2, 3, 1]), MatMul of two values, Mul by 1/√d, Add of a constant causal mask, Softmax,
/// the GELU chain, and a Linear head: 11 scores at each of 8 positions, a label per position.
/// </summary>
[FromOnnx("Onnx/Golden/gpt.opset17.onnx", Loss = Loss.SoftmaxCrossEntropy)]
public partial class ImportedGpt17;

/// <summary>A module returning (scores, value) from one trunk (make_two_output_onnx.py, opset 17): a model of two outputs.</summary>
[FromOnnx("Onnx/Golden/twohead.opset17.onnx")]
public partial class ImportedTwoHead;
