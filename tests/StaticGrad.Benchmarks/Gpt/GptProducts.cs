using System;
using StaticGrad.Kernels;

namespace StaticGrad.Benchmarks.Gpt;

/// <summary>
/// The matrix products of NanoGpt's Linear layers alone on StaticGrad's GEMM kernels (<c>profile-gpt --products</c>), each
/// with the shape struct the generator writes for it: forward <c>Y = X·Wᵀ</c>, <c>dW += dYᵀ·X</c> and <c>dX = dY·W</c>,
/// on 768 rows (batch 12 × 64 positions).
/// </summary>
internal static class GptProducts
{
    private const int Rows = GptBenchmarks.Batch * GptBenchmarks.Block;

    private readonly struct Forward128To512 : IGemmShape
    {
        public int M => 0; public int N => 512; public int K => 128; public int LeadingA => 128; public int LeadingB => 128;
        public bool TransposeA => false; public bool TransposeB => true; public bool Accumulate => false;
    }

    private readonly struct WeightGradient128To512 : IGemmShape
    {
        public int M => 512; public int N => 128; public int K => 0; public int LeadingA => 512; public int LeadingB => 128;
        public bool TransposeA => true; public bool TransposeB => false; public bool Accumulate => true;
    }

    private readonly struct InputGradient128To512 : IGemmShape
    {
        public int M => 0; public int N => 128; public int K => 512; public int LeadingA => 512; public int LeadingB => 128;
        public bool TransposeA => false; public bool TransposeB => false; public bool Accumulate => false;
    }

    private readonly struct Forward512To128 : IGemmShape
    {
        public int M => 0; public int N => 128; public int K => 512; public int LeadingA => 512; public int LeadingB => 512;
        public bool TransposeA => false; public bool TransposeB => true; public bool Accumulate => false;
    }

    private readonly struct WeightGradient512To128 : IGemmShape
    {
        public int M => 128; public int N => 512; public int K => 0; public int LeadingA => 128; public int LeadingB => 512;
        public bool TransposeA => true; public bool TransposeB => false; public bool Accumulate => true;
    }

    private readonly struct InputGradient512To128 : IGemmShape
    {
        public int M => 0; public int N => 512; public int K => 128; public int LeadingA => 128; public int LeadingB => 512;
        public bool TransposeA => false; public bool TransposeB => false; public bool Accumulate => false;
    }

    private readonly struct Forward128To128 : IGemmShape
    {
        public int M => 0; public int N => 128; public int K => 128; public int LeadingA => 128; public int LeadingB => 128;
        public bool TransposeA => false; public bool TransposeB => true; public bool Accumulate => false;
    }

    private readonly struct WeightGradient128To128 : IGemmShape
    {
        public int M => 128; public int N => 128; public int K => 0; public int LeadingA => 128; public int LeadingB => 128;
        public bool TransposeA => true; public bool TransposeB => false; public bool Accumulate => true;
    }

    private readonly struct InputGradient128To128 : IGemmShape
    {
        public int M => 0; public int N => 128; public int K => 128; public int LeadingA => 128; public int LeadingB => 128;
        public bool TransposeA => false; public bool TransposeB => false; public bool Accumulate => false;
    }

    public static void Run(Func<Action, double> best)
    {
        var random = new Random(3);
        float[] x = Fill(Rows * 512), w = Fill(512 * 128), y = Fill(Rows * 512), dW = new float[512 * 128], dX = new float[Rows * 512];
        Console.WriteLine("Linear products alone, 768 rows (µs per call, GFLOP/s):");
        Report("128→512 forward   Y = X·Wᵀ", Rows * 128.0 * 512, best(() => Gemm.Multiply<Forward128To512, float>(ref x[0], ref w[0], ref y[0], rows: Rows)));
        Report("128→512 dW += dYᵀ·X", Rows * 128.0 * 512, best(() => Gemm.Multiply<WeightGradient128To512, float>(ref y[0], ref x[0], ref dW[0], depth: Rows)));
        Report("128→512 dX = dY·W", Rows * 128.0 * 512, best(() => Gemm.Multiply<InputGradient128To512, float>(ref y[0], ref w[0], ref dX[0], rows: Rows)));
        Report("512→128 forward   Y = X·Wᵀ", Rows * 128.0 * 512, best(() => Gemm.Multiply<Forward512To128, float>(ref x[0], ref w[0], ref y[0], rows: Rows)));
        Report("512→128 dW += dYᵀ·X", Rows * 128.0 * 512, best(() => Gemm.Multiply<WeightGradient512To128, float>(ref y[0], ref x[0], ref dW[0], depth: Rows)));
        Report("512→128 dX = dY·W", Rows * 128.0 * 512, best(() => Gemm.Multiply<InputGradient512To128, float>(ref y[0], ref w[0], ref dX[0], rows: Rows)));
        Report("128→128 forward   Y = X·Wᵀ", Rows * 128.0 * 128, best(() => Gemm.Multiply<Forward128To128, float>(ref x[0], ref w[0], ref y[0], rows: Rows)));
        Report("128→128 dW += dYᵀ·X", Rows * 128.0 * 128, best(() => Gemm.Multiply<WeightGradient128To128, float>(ref y[0], ref x[0], ref dW[0], depth: Rows)));
        Report("128→128 dX = dY·W", Rows * 128.0 * 128, best(() => Gemm.Multiply<InputGradient128To128, float>(ref y[0], ref w[0], ref dX[0], rows: Rows)));

        float[] Fill(int n)
        {
            var a = new float[n];
            for (int i = 0; i < n; i++) a[i] = (float)(random.NextDouble() - 0.5);
            return a;
        }

        static void Report(string name, double multiplyAdds, double microseconds) =>
            Console.WriteLine($"{microseconds,9:F1}  {2 * multiplyAdds / microseconds / 1e3,6:F1}  {name}");
    }
}
