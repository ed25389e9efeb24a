using System;
using StaticGrad.Kernels;
using Xunit;
using static StaticGrad.Tests.Kernels.GraphKernels.GraphKernelCheck;

namespace StaticGrad.Tests.Kernels.GraphKernels;

/// <summary><see cref="Pooling.GlobalAveragePool{T}"/> (AdaptiveAvgPool2d(1)): plane means, the gradient check, float, no allocation.</summary>
public class GlobalAveragePoolTests
{
    [Fact]
    public void ForwardAndBackward_MatchReference_AndCentralDifferences()
    {
        var random = new Random(41);
        foreach ((int batch, int channels, int plane) in new[] { (1, 1, 1), (2, 3, 7), (3, 2, 49), (2, 5, 33) })
        {
            double[] x = Random(random, batch * channels * plane), y = new double[batch * channels], expected = new double[y.Length];
            for (int p = 0; p < y.Length; p++)
            {
                for (int i = 0; i < plane; i++)
                {
                    expected[p] += x[(p * plane) + i];
                }

                expected[p] /= plane;
            }

            Pooling.GlobalAveragePool<double>(x, batch, channels, plane, y);
            Close("mean", expected, y, 1e-14, 1e-2);

            double[] dy = Random(random, y.Length), dx = Random(random, x.Length);
            Pooling.GlobalAveragePoolBackward<double>(dy, batch, channels, plane, dx);
            GradientMatches($"[{batch}, {channels}, {plane}]", NumericGradient(x, () =>
            {
                double[] output = new double[dy.Length];
                Pooling.GlobalAveragePool<double>(x, batch, channels, plane, output);
                return Dot(dy, output);
            }), dx);

            float[] xf = ToFloat(x), yf = new float[y.Length], dxf = new float[x.Length];
            Pooling.GlobalAveragePool<float>(xf, batch, channels, plane, yf);
            Close("float mean", y, yf, 1e-5, 1e-2);
            Pooling.GlobalAveragePoolBackward<float>(ToFloat(dy), batch, channels, plane, dxf);
            Close("float gradient", dx, dxf, 1e-6, 1e-3);
        }
    }

    [Fact]
    public void WarmCalls_AllocateNothing()
    {
        double[] x = new double[2 * 3 * 49], y = new double[6];
        float[] xf = new float[2 * 3 * 49], yf = new float[6];
        long bytes = AllocatedBytes(() =>
        {
            Pooling.GlobalAveragePool<double>(x, 2, 3, 49, y);
            Pooling.GlobalAveragePoolBackward<double>(y, 2, 3, 49, x);
            Pooling.GlobalAveragePool<float>(xf, 2, 3, 49, yf);
            Pooling.GlobalAveragePoolBackward<float>(yf, 2, 3, 49, xf);
        });
        Assert.Equal(0, bytes);
    }
}
