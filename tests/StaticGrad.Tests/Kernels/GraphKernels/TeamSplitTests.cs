using System;
using System.Linq;
using StaticGrad.Kernels;
using Xunit;

namespace StaticGrad.Tests.Kernels.GraphKernels;

/// <summary>
/// The <see cref="WorkerTeam"/> overloads of GELU, LayerNorm and fused attention against the same kernels on one thread, on
/// three threads and lengths that do not divide evenly (the last share takes the rest; a share may be empty).
/// </summary>
public sealed class TeamSplitTests : IDisposable
{
    private readonly WorkerTeam _team = new(3);

    public void Dispose() => _team.Dispose();

    private static float[] Random(int length, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, length).Select(_ => (float)((random.NextDouble() * 6) - 3)).ToArray();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Gelu_OnATeam_IsBitwiseTheSame(bool tanh)
    {
        const int Length = 50_001;
        float[] x = Random(Length, 1), dy = Random(Length, 2);
        float[] y1 = new float[Length], y3 = new float[Length], dx1 = new float[Length], dx3 = new float[Length];
        Activations.Gelu<float>(x, y1, tanh);
        Activations.Gelu<float>(x, y3, tanh, _team);
        Activations.GeluBackward<float>(x, dy, dx1, tanh);
        Activations.GeluBackward<float>(x, dy, dx3, tanh, _team);
        Assert.Equal(y1, y3);
        Assert.Equal(dx1, dx3);
    }

    [Fact]
    public void LayerNorm_OnATeam_MatchesOneThread_AndAccumulatesWhenAsked()
    {
        const int Rows = 131, Features = 24;
        float[] x = Random(Rows * Features, 3), dy = Random(Rows * Features, 4), weight = Random(Features, 5), bias = Random(Features, 6);
        float[] y1 = new float[x.Length], y3 = new float[x.Length], mean1 = new float[Rows], mean3 = new float[Rows], inv1 = new float[Rows], inv3 = new float[Rows];
        Normalization.LayerNorm<float>(x, Rows, Features, weight, bias, 1e-5, y1, mean1, inv1);
        Normalization.LayerNorm<float>(x, Rows, Features, weight, bias, 1e-5, y3, mean3, inv3, _team);
        Assert.Equal(y1, y3);
        Assert.Equal(mean1, mean3);
        Assert.Equal(inv1, inv3);

        // Gradients accumulate: start both from the same non-zero values.
        float[] dW1 = Random(Features, 7), dB1 = Random(Features, 8), dW3 = (float[])dW1.Clone(), dB3 = (float[])dB1.Clone();
        float[] dx1 = new float[x.Length], dx3 = new float[x.Length];
        Normalization.LayerNormBackward<float>(x, dy, Rows, Features, weight, mean1, inv1, dW1, dB1, dx1);
        Normalization.LayerNormBackward<float>(x, dy, Rows, Features, weight, mean3, inv3, dW3, dB3, dx3, _team);
        Assert.Equal(dx1, dx3);
        for (int j = 0; j < Features; j++)
        {
            Assert.Equal(dW1[j], dW3[j], 1e-4f);
            Assert.Equal(dB1[j], dB3[j], 1e-4f);
        }

        // accumulateInput adds ∂L/∂x to what is there (a value used twice), on one thread and on the team alike.
        float[] start = Random(x.Length, 13), added1 = (float[])start.Clone(), added3 = (float[])start.Clone();
        Normalization.LayerNormBackward<float>(x, dy, Rows, Features, weight, mean1, inv1, new float[Features], new float[Features], added1, accumulateInput: true);
        Normalization.LayerNormBackward<float>(x, dy, Rows, Features, weight, mean3, inv3, new float[Features], new float[Features], added3, _team, accumulateInput: true);
        for (int i = 0; i < x.Length; i++)
        {
            Assert.Equal(start[i] + dx1[i], added1[i]);
            Assert.Equal(added1[i], added3[i]);
        }

        // Twice in a row: the other shares' sums start from zero each call.
        Normalization.LayerNormBackward<float>(x, dy, Rows, Features, weight, mean1, inv1, dW1, dB1, dx1);
        Normalization.LayerNormBackward<float>(x, dy, Rows, Features, weight, mean3, inv3, dW3, dB3, dx3, _team);
        for (int j = 0; j < Features; j++)
        {
            Assert.Equal(dW1[j], dW3[j], 1e-4f);
            Assert.Equal(dB1[j], dB3[j], 1e-4f);
        }
    }

    private readonly struct Shape : IAttentionShape
    {
        public int Tq => 9;

        public int Tk => 9;

        public int D => 5;

        public int Dv => 7;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Attention_OnATeam_IsBitwiseTheSame(bool causal)
    {
        const int Count = 5, T = 9, D = 5, Dv = 7;
        float[] q = Random(Count * T * D, 9), k = Random(Count * T * D, 10), v = Random(Count * T * Dv, 11), dO = Random(Count * T * Dv, 12);
        float[] o1 = new float[Count * T * Dv], o3 = new float[o1.Length], p1 = new float[Count * T * T], p3 = new float[p1.Length];
        Attention.ScaledDotProduct<Shape, float>(q, k, v, o1, p1, Count, causal, 0.4f);
        Attention.ScaledDotProduct<Shape, float>(q, k, v, o3, p3, Count, causal, 0.4f, _team);
        Assert.Equal(o1, o3);
        Assert.Equal(p1, p3);

        float[] dq1 = new float[q.Length], dk1 = new float[k.Length], dv1 = new float[v.Length];
        float[] dq3 = new float[q.Length], dk3 = new float[k.Length], dv3 = new float[v.Length];
        Attention.ScaledDotProductBackward<Shape, float>(q, k, v, p1, dO, dq1, dk1, dv1, new float[T * T], Count, causal, 0.4f);
        Attention.ScaledDotProductBackward<Shape, float>(q, k, v, p3, dO, dq3, dk3, dv3, new float[T * T], Count, causal, 0.4f, _team);
        Assert.Equal(dq1, dq3);
        Assert.Equal(dk1, dk3);
        Assert.Equal(dv1, dv3);
    }
}
