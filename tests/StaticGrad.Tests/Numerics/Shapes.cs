using StaticGrad;

namespace StaticGrad.Tests.Numerics;

// The shapes the numeric tests run through the real generator (this project uses it as an analyzer).
// Odd sizes leave tails for any future SIMD path; 64³ and 512³ take the loop path.

[MatMul(1, 1, 1)] public partial class F1x1x1;
[MatMul(5, 10, 3)] public partial class F5x10x3;
[MatMul(7, 13, 5)] public partial class F7x13x5;
[MatMul(16, 16, 16)] public partial class F16x16x16;
[MatMul(33, 17, 9)] public partial class F33x17x9;
[MatMul(64, 64, 64)] public partial class F64x64x64;
[MatMul(512, 512, 512)] public partial class F512x512x512;
[MatMul(128, 784, 32)] public partial class F128x784x32; // every product on the packed path, two of them reading B in place
[MatMul(7, 13, 5, Unroll = UnrollMode.Never)] public partial class F7x13x5Looped;
[MatMul(5, 10, 3, Unroll = UnrollMode.Never)] public partial class F5x10x3Looped;
[MatMul(9, 11, 13, Unroll = UnrollMode.Always)] public partial class F9x11x13Unrolled;

[MatMul<double>(1, 1, 1)] public partial class D1x1x1;
[MatMul<double>(5, 10, 3)] public partial class D5x10x3;
[MatMul<double>(7, 13, 5)] public partial class D7x13x5;
[MatMul<double>(16, 16, 16)] public partial class D16x16x16;
[MatMul<double>(33, 17, 9)] public partial class D33x17x9;
[MatMul<double>(64, 64, 64)] public partial class D64x64x64;
[MatMul<double>(7, 13, 5, Unroll = UnrollMode.Never)] public partial class D7x13x5Looped;
[MatMul<double>(9, 11, 13, Unroll = UnrollMode.Always)] public partial class D9x11x13Unrolled;

// Multi-threaded: rows split across threads (M·K·N ≥ 1,048,576), including an odd split (3 threads, prime sizes).
[MatMul(128, 784, 32, Threads = 2)] public partial class F128x784x32Threads2;
[MatMul(101, 103, 107, Threads = 3)] public partial class F101x103x107Threads3;
[MatMul<double>(101, 103, 107, Threads = 2)] public partial class D101x103x107Threads2;
