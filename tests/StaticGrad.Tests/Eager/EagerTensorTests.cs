using System;
using Xunit;

namespace StaticGrad.Tests.Eager;

/// <summary>The eager <see cref="Tensor"/>: construction, views that share data, copies, broadcasting and the shapes in its errors.</summary>
public class EagerTensorTests
{
    private static Tensor Sequence(int batch, params int[] shape)
    {
        var t = new Tensor(batch, shape);
        Span<float> values = t.AsSpan();
        for (int i = 0; i < values.Length; i++) values[i] = i;
        return t;
    }

    [Fact]
    public void Constructor_Zeros_ShapeAndSizes()
    {
        var t = new Tensor(8, 32, 14, 14);
        Assert.Equal(8, t.Batch);
        Assert.Equal(3, t.Rank);
        Assert.Equal(new[] { 32, 14, 14 }, t.Shape.ToArray());
        Assert.Equal(32 * 14 * 14, t.ExampleSize);
        Assert.Equal(8 * 32 * 14 * 14, t.AsSpan().Length);
        Assert.All(t.ToArray(), v => Assert.Equal(0f, v));
        Assert.Equal(14, t.Size(-1));
        Assert.Equal(32, t.Size(-3));
        Assert.Equal(14, t.Size(1));
        Assert.Equal("Tensor(batch 8, 32×14×14)", t.ToString());
    }

    [Fact]
    public void Size_OutOfRange_NamesTheRank()
    {
        var t = new Tensor(2, 3, 4, 5);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => t.Size(3));
        Assert.Contains("rank-3", e.Message);
        Assert.Contains("3×4×5", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => t.Size(-4));
    }

    [Fact]
    public void WrappingConstructor_SharesTheArray_AndChecksItsLength()
    {
        float[] data = new float[2 * 3];
        var t = new Tensor(data, 2, 3);
        data[4] = 7f;
        Assert.Equal(7f, t[1, 1]);
        t[0, 2] = 5f;
        Assert.Equal(5f, data[2]);

        var e = Assert.Throws<ArgumentException>(() => new Tensor(new float[5], 2, 3));
        Assert.Equal("data", e.ParamName);
        Assert.Contains("3", e.Message);
        Assert.Contains("5", e.Message);
    }

    [Fact]
    public void FromSpan_Copies()
    {
        float[] source = { 1, 2, 3, 4 };
        var t = Tensor.FromSpan(source, 1, 2, 2);
        source[0] = 100f;
        Assert.Equal(1f, t[0, 0, 0]);
        Assert.Equal(4f, t[0, 1, 1]);
        Assert.Throws<ArgumentException>(() => Tensor.FromSpan(source, 2, 2, 2));
    }

    [Fact]
    public void Indexer_RowMajorWithinEachExample()
    {
        var t = Sequence(2, 2, 3, 4);
        Assert.Equal(0f, t[0, 0, 0, 0]);
        Assert.Equal(1 * 12 + 4 + 3, t[0, 1, 1, 3]);
        Assert.Equal(24 + 2 * 4 + 1, t[1, 0, 2, 1]);
        Assert.Throws<ArgumentException>(() => t[0, 1, 1]);
        Assert.Throws<IndexOutOfRangeException>(() => t[0, 0, 3, 0]);
        Assert.Throws<IndexOutOfRangeException>(() => t[2, 0, 0, 0]);
    }

    [Fact]
    public void BadShapes_Throw()
    {
        Assert.Throws<ArgumentException>(() => new Tensor(1));
        Assert.Throws<ArgumentException>(() => new Tensor(1, 1, 2, 3, 4, 5));
        Assert.Throws<ArgumentException>(() => new Tensor(1, 3, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Tensor(0, 3));
    }

    [Fact]
    public void Flatten_SharesData()
    {
        var t = Sequence(2, 2, 3, 4);
        Tensor f = t.Flatten();
        Assert.Equal(new[] { 24 }, f.Shape.ToArray());
        Assert.Equal(2, f.Batch);
        Assert.Equal(t[1, 1, 2, 3], f[1, 12 + 8 + 3]);
        f[0, 5] = -1f;
        Assert.Equal(-1f, t[0, 0, 1, 1]);
    }

    [Fact]
    public void Reshape_InfersMinusOne_AndShares()
    {
        var t = Sequence(3, 2, 6);
        Tensor r = t.Reshape(-1, 3, 2);
        Assert.Equal(new[] { 2, 3, 2 }, r.Shape.ToArray());
        Assert.Equal(t[2, 1, 5], r[2, 1, 2, 1]);
        r[1, 0, 0, 0] = 42f;
        Assert.Equal(42f, t[1, 0, 0]);

        var e = Assert.Throws<ArgumentException>(() => t.Reshape(5, -1));
        Assert.Equal("shape", e.ParamName);
        Assert.Contains("2×6", e.Message);
        Assert.Throws<ArgumentException>(() => t.Reshape(-1, -1));
        Assert.Throws<ArgumentException>(() => t.Reshape(4, 4));
    }

    [Fact]
    public void Transpose_Matrix_CopiesValues()
    {
        var t = Tensor.FromSpan(new float[] { 1, 2, 3, 4, 5, 6, /* example 1 */ 7, 8, 9, 10, 11, 12 }, 2, 2, 3);
        Tensor tt = t.Transpose(0, 1);
        Assert.Equal(new[] { 3, 2 }, tt.Shape.ToArray());
        Assert.Equal(new float[] { 1, 4, 2, 5, 3, 6, 7, 10, 8, 11, 9, 12 }, tt.ToArray());
        tt[0, 0, 0] = 99f;
        Assert.Equal(1f, t[0, 0, 0]);
    }

    [Fact]
    public void Transpose_Rank3_NegativeDimensions()
    {
        var t = Sequence(2, 2, 3, 4);
        Tensor tt = t.Transpose(0, -1); // 4×3×2
        Assert.Equal(new[] { 4, 3, 2 }, tt.Shape.ToArray());
        for (int b = 0; b < 2; b++)
            for (int i = 0; i < 2; i++)
                for (int j = 0; j < 3; j++)
                    for (int k = 0; k < 4; k++)
                        Assert.Equal(t[b, i, j, k], tt[b, k, j, i]);
    }

    [Fact]
    public void Add_SameShape()
    {
        var a = Tensor.FromSpan(new float[] { 1, 2, 3, 4 }, 2, 2);
        var b = Tensor.FromSpan(new float[] { 10, 20, 30, 40 }, 2, 2);
        Assert.Equal(new float[] { 11, 22, 33, 44 }, (a + b).ToArray());
        Assert.Equal(new float[] { 9, 18, 27, 36 }, (b - a).ToArray());
        Assert.Equal(new float[] { 10, 40, 90, 160 }, (a * b).ToArray());
    }

    [Fact]
    public void Broadcast_LowerRankAlignsFromTheRight()
    {
        var a = Sequence(2, 2, 3);                                     // per example [[0,1,2],[3,4,5]] (+6 for example 1)
        var bias = Tensor.FromSpan(new float[] { 100, 200, 300, 1000, 2000, 3000 }, 2, 3);
        Tensor sum = a + bias;
        Assert.Equal(new[] { 2, 3 }, sum.Shape.ToArray());
        Assert.Equal(new float[] { 100, 201, 302, 103, 204, 305, 1006, 2007, 3008, 1009, 2010, 3011 }, sum.ToArray());
    }

    [Fact]
    public void Broadcast_SizeOneExpandsBothWays()
    {
        var column = Tensor.FromSpan(new float[] { 1, 2 }, 1, 2, 1);   // 2×1
        var row = Tensor.FromSpan(new float[] { 10, 20, 30 }, 1, 1, 3); // 1×3
        Tensor product = column * row;
        Assert.Equal(new[] { 2, 3 }, product.Shape.ToArray());
        Assert.Equal(new float[] { 10, 20, 30, 20, 40, 60 }, product.ToArray());

        // A per-channel scale 32×1×1 over 32×2×2 images.
        var images = new Tensor(1, 3, 2, 2);
        images.AsSpan().Fill(1f);
        var scale = Tensor.FromSpan(new float[] { 1, 2, 3 }, 1, 3, 1, 1);
        Assert.Equal(new float[] { 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3 }, (images * scale).ToArray());
    }

    [Fact]
    public void Broadcast_Mismatch_NamesBothShapesAndTheDimension()
    {
        var a = new Tensor(1, 32, 14, 14);
        var b = new Tensor(1, 16, 14, 14);
        var e = Assert.Throws<ArgumentException>(() => a + b);
        Assert.Contains("cannot add 32×14×14 and 16×14×14: dimension 0 differs", e.Message, StringComparison.OrdinalIgnoreCase);
        Assert.Equal("b", e.ParamName);

        var batch = Assert.Throws<ArgumentException>(() => new Tensor(2, 3) * new Tensor(4, 3));
        Assert.Contains("batches differ", batch.Message);
    }

    [Fact]
    public void Rank4_TransposeAndBroadcast()
    {
        var t = Sequence(2, 2, 3, 4, 5);
        Tensor tt = t.Transpose(1, 3); // 2×5×4×3
        Assert.Equal(new[] { 2, 5, 4, 3 }, tt.Shape.ToArray());
        for (int b = 0; b < 2; b++)
            for (int i = 0; i < 2; i++)
                for (int j = 0; j < 3; j++)
                    for (int k = 0; k < 4; k++)
                        for (int l = 0; l < 5; l++)
                            Assert.Equal(t[b, i, j, k, l], tt[b, i, l, k, j]);

        // 2×3×4×5 − 3×1×1 (a per-channel shift on the second dimension).
        var shift = Tensor.FromSpan(new float[] { 0, 100, 200, /* ex 1 */ 0, 100, 200 }, 2, 3, 1, 1);
        Tensor d = t - shift;
        for (int b = 0; b < 2; b++)
            Assert.Equal(t[b, 1, 2, 3, 4] - 200, d[b, 1, 2, 3, 4]);
        Assert.Equal(t[1, 0, 1, 2, 3] - 100, d[1, 0, 1, 2, 3]);
    }

    [Fact]
    public void ToString_IsCultureInvariant()
    {
        var previous = System.Globalization.CultureInfo.CurrentCulture;
        try
        {
            System.Globalization.CultureInfo.CurrentCulture = new System.Globalization.CultureInfo("de-DE");
            Assert.Equal("Dropout(p=0.25)", new Dropout(0.25).ToString());
            Assert.Equal("BatchNorm2d(8, eps=0.001, momentum=0.1)", new BatchNorm2d(8, eps: 1e-3).ToString());
        }
        finally
        {
            System.Globalization.CultureInfo.CurrentCulture = previous;
        }
    }
}
