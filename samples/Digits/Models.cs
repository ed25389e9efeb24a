using StaticGrad;

namespace StaticGrad.Samples.Digits;

/// <summary>CS231n's linear softmax classifier: scores = W·x + b, softmax cross-entropy loss.</summary>
[Linear(64, 10), SoftmaxCrossEntropy]
public partial class SoftmaxClassifier;

/// <summary>CS231n's linear SVM: scores = W·x + b, multiclass hinge loss with margin 1.</summary>
[Linear(64, 10), MulticlassSvm]
public partial class SvmClassifier;

/// <summary>A small MLP: 64 pixels → 32 ReLU units → 10 scores.</summary>
[Linear(64, 32), ReLU, Linear(32, 10), SoftmaxCrossEntropy]
public partial class DigitMlp;
