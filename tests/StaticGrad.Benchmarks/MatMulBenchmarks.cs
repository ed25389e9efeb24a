using System;
using BenchmarkDotNet.Attributes;

namespace StaticGrad.Benchmarks;

/// <summary>
/// Forward + Backward of D = W·X (D = W·X, dW = dD·Xᵀ, dX = Wᵀ·dD), float, one thread unless said: the generated code
/// (baseline) against plain C# loops, TensorPrimitives, MathNet.Numerics and TorchSharp. Every variant's D, dW and dX are
/// compared with a double-precision reference before anything is timed.
/// </summary>
[MemoryDiagnoser]
public class MatMulBenchmarks
{
    private float[] _w = [], _x = [], _dD = [], _d = [], _dW = [], _dX = [];
    private Peers.MathNet _mathNet = null!;
#if TORCH
    private TorchMatMul _torch = null!;
#endif

    [Params("5x10x3", "16x16x16", "64x64x64", "128x784x32", "256x256x256")]
    public string Shape { get; set; } = "5x10x3";

    public (int M, int K, int N) Dimensions
    {
        get
        {
            string[] parts = Shape.Split('x');
            return (int.Parse(parts[0]), int.Parse(parts[1]), int.Parse(parts[2]));
        }
    }

    [GlobalSetup]
    public void Setup()
    {
        var (m, k, n) = Dimensions;
        var random = new Random(42);
        _w = Randn(random, m * k);
        _x = Randn(random, k * n);
        _dD = Randn(random, m * n);
        _d = new float[m * n];
        _dW = new float[m * k];
        _dX = new float[k * n];
        _mathNet = new Peers.MathNet(m, k, n, _w, _x, _dD);
#if TORCH
        _torch = new TorchMatMul(m, k, n, _w, _x, _dD);
#endif
        Verify.MatMul(this, m, k, n);
    }

    [Benchmark(Baseline = true, Description = "StaticGrad (generated)")]
    public void Generated()
    {
        switch (Shape)
        {
            case "5x10x3":
                Shape5x10x3.Forward(_w, _x, _d);
                Shape5x10x3.Backward(_w, _x, _dD, _dW, _dX);
                break;
            case "16x16x16":
                Shape16x16x16.Forward(_w, _x, _d);
                Shape16x16x16.Backward(_w, _x, _dD, _dW, _dX);
                break;
            case "64x64x64":
                Shape64x64x64.Forward(_w, _x, _d);
                Shape64x64x64.Backward(_w, _x, _dD, _dW, _dX);
                break;
            case "128x784x32":
                Shape128x784x32.Forward(_w, _x, _d);
                Shape128x784x32.Backward(_w, _x, _dD, _dW, _dX);
                break;
            default:
                Shape256x256x256.Forward(_w, _x, _d);
                Shape256x256x256.Backward(_w, _x, _dD, _dW, _dX);
                break;
        }
    }

    [Benchmark(Description = "StaticGrad, Threads = 2")]
    public void GeneratedTwoThreads()
    {
        switch (Shape)
        {
            case "128x784x32":
                Shape128x784x32Threads2.Forward(_w, _x, _d);
                Shape128x784x32Threads2.Backward(_w, _x, _dD, _dW, _dX);
                break;
            case "256x256x256":
                Shape256x256x256Threads2.Forward(_w, _x, _d);
                Shape256x256x256Threads2.Backward(_w, _x, _dD, _dW, _dX);
                break;
            default:
                Generated(); // below the threading threshold the generated code stays on one thread
                break;
        }
    }

    [Benchmark(Description = "plain C# loops")]
    public void PlainLoops()
    {
        var (m, k, n) = Dimensions;
        Peers.PlainLoops(m, k, n, _w, _x, _dD, _d, _dW, _dX);
    }

    [Benchmark(Description = "TensorPrimitives")]
    public void TensorPrimitives()
    {
        var (m, k, n) = Dimensions;
        Peers.TensorPrimitivesRows(m, k, n, _w, _x, _dD, _d, _dW, _dX);
    }

    [Benchmark(Description = "MathNet (managed)")]
    public void MathNet() => _mathNet.Run();

#if TORCH
    [Benchmark(Description = "TorchSharp autograd, 1 thread")]
    public void TorchSharp1() => _torch.Run(1);

    [Benchmark(Description = "TorchSharp autograd, 2 threads")]
    public void TorchSharp2() => _torch.Run(2);
#endif

    internal void CheckAll(Action<string, float[], float[], float[]> check)
    {
        var (m, k, n) = Dimensions;
        Generated();
        check("StaticGrad", _d, _dW, _dX);
        GeneratedTwoThreads();
        check("StaticGrad, 2 threads", _d, _dW, _dX);
        PlainLoops();
        check("plain C# loops", _d, _dW, _dX);
        TensorPrimitives();
        check("TensorPrimitives", _d, _dW, _dX);
        MathNet();
        check("MathNet", _mathNet.D, _mathNet.DW, _mathNet.DX);
#if TORCH
        var (d, dW, dX) = _torch.Results();
        check("TorchSharp", d, dW, dX);
#endif
    }

    internal (float[] W, float[] X, float[] DD) Inputs => (_w, _x, _dD);

    internal static float[] Randn(Random random, int count)
    {
        var values = new float[count];
        for (int i = 0; i < count; i++)
        {
            values[i] = (float)(Math.Sqrt(-2.0 * Math.Log(1.0 - random.NextDouble())) * Math.Cos(2.0 * Math.PI * random.NextDouble()));
        }

        return values;
    }
}
