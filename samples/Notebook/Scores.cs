using StaticGrad;

namespace StaticGrad.Samples.Notebook;

/// <summary>
/// The notebook's product, <c>D[5×3] = W[5×10] · X[10×3]</c>, in double like numpy's <c>randn</c>.
/// StaticGrad writes <c>Forward</c>, <c>Backward</c>, the shape constants and the typed matrices
/// <c>WMatrix</c>, <c>XMatrix</c>, <c>DMatrix</c> into the other half of this partial class.
/// </summary>
[MatMul<double>(5, 10, 3)]
public partial class Scores;
