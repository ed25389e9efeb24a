using System;
using System.Linq;
using StaticGrad.Tests.Infrastructure;
using Xunit;

namespace StaticGrad.Tests.Numerics;

/// <summary>What a caller sees at run time: length checks that name the argument and the shape, overlap rules,
/// nothing written on error, the typed API, and zero allocations per call.</summary>
public class RuntimeContractTests
{
    [Fact]
    public void Forward_WrongLength_NamesParameterShapeCountAndActualLength()
    {
        var ex = Assert.Throws<ArgumentException>(() => F5x10x3.Forward(new float[49], new float[30], new float[15]));
        Assert.Equal("w", ex.ParamName);
        Assert.Contains("W must be 5×10 = 50 elements (row-major), but the span has length 49.", ex.Message);

        ex = Assert.Throws<ArgumentException>(() => F5x10x3.Forward(new float[50], new float[31], new float[15]));
        Assert.Equal("x", ex.ParamName);
        Assert.Contains("10×3 = 30", ex.Message);
        Assert.Contains("length 31", ex.Message);
    }

    [Theory]
    [InlineData("w")]
    [InlineData("x")]
    [InlineData("dD")]
    [InlineData("dW")]
    [InlineData("dX")]
    public void Backward_WrongLength_ThrowsAndWritesNothing(string wrong)
    {
        double[] w = new double[wrong == "w" ? 51 : 50];
        double[] x = new double[wrong == "x" ? 29 : 30];
        double[] dD = new double[wrong == "dD" ? 0 : 15];
        double[] dW = Enumerable.Repeat(7.0, wrong == "dW" ? 49 : 50).ToArray();
        double[] dX = Enumerable.Repeat(7.0, wrong == "dX" ? 31 : 30).ToArray();
        Array.Fill(w, 1.0);
        Array.Fill(x, 1.0);
        Array.Fill(dD, 1.0);

        var ex = Assert.Throws<ArgumentException>(() => D5x10x3.Backward(w, x, dD, dW, dX));

        Assert.Equal(wrong, ex.ParamName);
        Assert.All(dW, v => Assert.Equal(7.0, v));
        Assert.All(dX, v => Assert.Equal(7.0, v));
    }

    [Fact]
    public void Forward_OutputOverlappingInput_ThrowsAndWritesNothing()
    {
        // One buffer holding W and, overlapping its tail, D.
        float[] buffer = Enumerable.Range(0, 80).Select(i => (float)i).ToArray();
        float[] before = (float[])buffer.Clone();
        var ex = Assert.Throws<ArgumentException>(() =>
            F5x10x3.Forward(buffer.AsSpan(0, 50), new float[30], buffer.AsSpan(40, 15)));
        Assert.Equal("d", ex.ParamName);
        Assert.Contains("overlaps w", ex.Message);
        Assert.Equal(before, buffer);
    }

    [Fact]
    public void Backward_OutputsOverlappingEachOther_Throws()
    {
        float[] shared = new float[80];
        var ex = Assert.Throws<ArgumentException>(() =>
            F5x10x3.Backward(new float[50], new float[30], new float[15], shared.AsSpan(0, 50), shared.AsSpan(30, 30)));
        Assert.Equal("dW", ex.ParamName);
        Assert.Contains("overlaps dX", ex.Message);
    }

    [Fact]
    public void InputsMayShareMemory()
    {
        // Inputs are only read, so W and X may be the same memory (here a 4×4 times itself).
        double[] a = Enumerable.Range(1, 16).Select(i => (double)i).ToArray();
        double[] d = new double[16];
        D4x4x4.Forward(a, a, d);
        var expected = Reference.Forward(a, a, 4, 4, 4).Value;
        Assert.Equal(expected, d);
    }

    [Fact]
    public void TypedApi_ComputesTheSameAsSpans_AndIndexesRowMajor()
    {
        var random = new Random(5);
        var w = new F5x10x3.WMatrix(Reference.ToFloat(Reference.Randn(random, 50)));
        var x = new F5x10x3.XMatrix(Reference.ToFloat(Reference.Randn(random, 30)));
        var dD = new F5x10x3.DMatrix(Reference.ToFloat(Reference.Randn(random, 15)));
        var d = new F5x10x3.DMatrix();
        var dW = new F5x10x3.WMatrix();
        var dX = new F5x10x3.XMatrix();

        F5x10x3.Forward(w, x, d);
        F5x10x3.Backward(w, x, dD, dW, dX);

        float[] spanD = new float[15], spanDW = new float[50], spanDX = new float[30];
        F5x10x3.Forward(w.AsReadOnlySpan(), x.AsReadOnlySpan(), spanD);
        F5x10x3.Backward(w.AsReadOnlySpan(), x.AsReadOnlySpan(), dD.AsReadOnlySpan(), spanDW, spanDX);
        Assert.Equal(spanD, d.AsReadOnlySpan().ToArray());
        Assert.Equal(spanDW, dW.AsReadOnlySpan().ToArray());
        Assert.Equal(spanDX, dX.AsReadOnlySpan().ToArray());

        Assert.Equal(w.AsReadOnlySpan()[(2 * 10) + 7], w[2, 7]);
        w[4, 9] = 42f;
        Assert.Equal(42f, w.AsReadOnlySpan()[49]);
        Assert.Equal((5, 10, 50), (F5x10x3.WMatrix.Rows, F5x10x3.WMatrix.Columns, F5x10x3.WMatrix.Length));
    }

    [Fact]
    public void TypedApi_RejectsNullsSameInstanceOutputsAndBadIndices()
    {
        var w = new F5x10x3.WMatrix();
        var x = new F5x10x3.XMatrix();
        var dD = new F5x10x3.DMatrix();
        Assert.Equal("d", Assert.Throws<ArgumentNullException>(() => F5x10x3.Forward(w, x, null!)).ParamName);
        Assert.Equal("dW", Assert.Throws<ArgumentException>(() => F5x10x3.Backward(w, x, dD, w, new F5x10x3.XMatrix())).ParamName);
        Assert.Equal("row", Assert.Throws<ArgumentOutOfRangeException>(() => w[5, 0]).ParamName);
        Assert.Equal("column", Assert.Throws<ArgumentOutOfRangeException>(() => w[0, -1]).ParamName);
        Assert.Equal("values", Assert.Throws<ArgumentException>(() => new F5x10x3.WMatrix(new float[30])).ParamName);
    }

    [Fact]
    public void MultiThreaded_ForwardAndBackward_AllocateNothingAfterTheFirstCall()
    {
        float[] w = new float[128 * 784], x = new float[784 * 32], d = new float[128 * 32], dW = new float[128 * 784], dX = new float[784 * 32];
        for (int i = 0; i < 3; i++)
        {
            F128x784x32Threads2.Forward(w, x, d); // the first call on a thread creates its work items
            F128x784x32Threads2.Backward(w, x, d, dW, dX);
        }

        Allocations.AssertSteadyStateAllocatesNothing(() =>
        {
            F128x784x32Threads2.Forward(w, x, d);
            F128x784x32Threads2.Backward(w, x, d, dW, dX);
        }, stepsPerWindow: 4);
    }

    [Fact]
    public async System.Threading.Tasks.Task MultiThreaded_ConcurrentCallers_AllGetCorrectResults()
    {
        // One call at a time uses the class's workers; the others run on their own thread. Either way the result is exact.
        var failures = new System.Collections.Concurrent.ConcurrentBag<string>();
        var tasks = Enumerable.Range(0, 4).Select(seed => System.Threading.Tasks.Task.Run(() =>
        {
            var random = new Random(seed);
            for (int round = 0; round < 5; round++)
            {
                float[] w = Reference.ToFloat(Reference.Randn(random, 101 * 103));
                float[] x = Reference.ToFloat(Reference.Randn(random, 103 * 107));
                float[] d = new float[101 * 107];
                F101x103x107Threads3.Forward(w, x, d);
                try
                {
                    Reference.AssertClose("D", Reference.ToDouble(d), Reference.Forward(Reference.ToDouble(w), Reference.ToDouble(x), 101, 103, 107), 107, 103, Reference.FloatRoundoff);
                }
                catch (Exception ex)
                {
                    failures.Add(ex.Message);
                }
            }
        })).ToArray();
        await System.Threading.Tasks.Task.WhenAll(tasks);
        Assert.Empty(failures);
    }

    [Fact]
    public void ForwardAndBackward_AllocateNothing()
    {
        float[] w = new float[64 * 64], x = new float[64 * 64], d = new float[64 * 64], dW = new float[64 * 64], dX = new float[64 * 64];
        float[] sw = new float[50], sx = new float[30], sd = new float[15], sdW = new float[50], sdX = new float[30];
        float[] pw = new float[128 * 784], px = new float[784 * 32], pd = new float[128 * 32], pdW = new float[128 * 784], pdX = new float[784 * 32];
        var tw = new F5x10x3.WMatrix();
        var tx = new F5x10x3.XMatrix();
        var td = new F5x10x3.DMatrix();

        // Warm up (JIT, tiering) before measuring.
        for (int i = 0; i < 3; i++)
        {
            Run();
        }

        Allocations.AssertSteadyStateAllocatesNothing(Run, stepsPerWindow: 1);

        void Run()
        {
            F64x64x64.Forward(w, x, d);
            F64x64x64.Backward(w, x, d, dW, dX);
            F5x10x3.Forward(sw, sx, sd);
            F5x10x3.Backward(sw, sx, sd, sdW, sdX);
            F5x10x3.Forward(tw, tx, td);
            F128x784x32.Forward(pw, px, pd); // the packed path: its scratch is allocated on the warm-up calls only
            F128x784x32.Backward(pw, px, pd, pdW, pdX);
        }
    }
}

[MatMul<double>(4, 4, 4)]
internal partial class D4x4x4;
