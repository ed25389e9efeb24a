using StaticGrad;

namespace StaticGrad.Benchmarks;

// The shapes of the speed issue, float, each with StaticGrad's default code shape
// (5×10×3 is unrolled; the others take the SIMD kernels).
[MatMul(5, 10, 3)] public partial class Shape5x10x3;
[MatMul(16, 16, 16)] public partial class Shape16x16x16;
[MatMul(64, 64, 64)] public partial class Shape64x64x64;
[MatMul(128, 784, 32)] public partial class Shape128x784x32;
[MatMul(256, 256, 256)] public partial class Shape256x256x256;

/// <summary>The network of the training-step benchmark: 64 → 32 → 10, softmax cross-entropy.</summary>
[Linear(64, 32), ReLU, Linear(32, 10), SoftmaxCrossEntropy]
public partial class DigitNet;

// The two shapes above StaticGrad's threading threshold (M·K·N ≥ 2^20), allowed two threads.
[MatMul(128, 784, 32, Threads = 2)] public partial class Shape128x784x32Threads2;
[MatMul(256, 256, 256, Threads = 2)] public partial class Shape256x256x256Threads2;
