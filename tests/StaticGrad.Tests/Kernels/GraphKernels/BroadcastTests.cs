using System;
using StaticGrad.Kernels;
using Xunit;
using static StaticGrad.Tests.Kernels.GraphKernels.GraphKernelCheck;

namespace StaticGrad.Tests.Kernels.GraphKernels;

/// <summary>
/// <see cref="Broadcast"/> and <see cref="BroadcastShape"/>: every operator on shape pairs that broadcast in each way
/// (a per-channel bias [C,H,W]+[C,1,1], a lower rank [4]+[3,4], an outer product [3,1]*[1,4], equal shapes, a scalar,
/// both sides expanding) against an index-by-index reference written here, both operand gradients against central
/// differences, overwrite and accumulate, a skipped gradient, shapes that do not broadcast, float against double, and
/// no allocation.
/// </summary>
public class BroadcastTests
{
    private static readonly (int[] Left, int[] Right)[] Pairs =
    [
        ([3, 4, 5], [3, 1, 1]),
        ([4], [3, 4]),
        ([3, 1], [1, 4]),
        ([5, 7], [5, 7]),
        ([1], [2, 3, 13]),
        ([2, 1, 3], [4, 1]),
        ([3, 1, 33], [1, 2, 1]),
        ([2, 3, 1, 9], [3, 5, 1]),
        ([13], [1]),
    ];

    private static readonly BinaryOperator[] Operators = [BinaryOperator.Add, BinaryOperator.Subtract, BinaryOperator.Multiply];

    [Fact]
    public void Shape_FollowsPyTorchRules()
    {
        var bias = new BroadcastShape([3, 4, 5], [3, 1, 1]);
        Assert.Equal(new[] { 3, 4, 5 }, bias.Output);
        Assert.Equal((60, 3, 60), (bias.LeftSize, bias.RightSize, bias.OutputSize));

        var lower = new BroadcastShape([4], [3, 4]);
        Assert.Equal(new[] { 3, 4 }, lower.Output);
        Assert.Equal((4, 12, 12), (lower.LeftSize, lower.RightSize, lower.OutputSize));

        var outer = new BroadcastShape([3, 1], [1, 4]);
        Assert.Equal(new[] { 3, 4 }, outer.Output);
        Assert.Equal((3, 4, 12), (outer.LeftSize, outer.RightSize, outer.OutputSize));

        Assert.Equal(new[] { 2, 3, 5, 9 }, new BroadcastShape([2, 3, 1, 9], [3, 5, 1]).Output);
    }

    [Fact]
    public void Shape_RejectsShapesThatDoNotBroadcast_NamingBoth()
    {
        var e = Assert.Throws<ArgumentException>(() => new BroadcastShape([3], [4]));
        Assert.Contains("[3]", e.Message);
        Assert.Contains("[4]", e.Message);

        e = Assert.Throws<ArgumentException>(() => new BroadcastShape([2, 3, 4], [3, 5]));
        Assert.Contains("[2, 3, 4]", e.Message);
        Assert.Contains("[3, 5]", e.Message);

        Assert.Throws<ArgumentException>(() => new BroadcastShape([], [3]));
        Assert.Throws<ArgumentException>(() => new BroadcastShape([1, 2, 3, 4, 5], [3]));
        Assert.Throws<ArgumentException>(() => new BroadcastShape([0], [3]));
    }

    [Fact]
    public void Forward_MatchesIndexByIndexReference()
    {
        var random = new Random(21);
        foreach ((int[] leftShape, int[] rightShape) in Pairs)
        {
            var shape = new BroadcastShape(leftShape, rightShape);
            const int Batch = 3;
            double[] left = Random(random, Batch * shape.LeftSize), right = Random(random, Batch * shape.RightSize);
            foreach (BinaryOperator op in Operators)
            {
                double[] output = new double[(Batch * shape.OutputSize) + 1];
                output[^1] = 42;
                Broadcast.Forward<double>(op, shape, left, right, Batch, output.AsSpan(0, Batch * shape.OutputSize));
                double[] expected = Reference(op, leftShape, rightShape, left, right, Batch);
                Assert.Equal(expected, output.AsSpan(0, expected.Length).ToArray());
                Assert.Equal(42, output[^1]);
            }
        }
    }

    [Fact]
    public void Backward_MatchesCentralDifferences_OverwritingAndAccumulating()
    {
        var random = new Random(22);
        foreach ((int[] leftShape, int[] rightShape) in Pairs)
        {
            var shape = new BroadcastShape(leftShape, rightShape);
            const int Batch = 2;
            double[] left = Random(random, Batch * shape.LeftSize), right = Random(random, Batch * shape.RightSize);
            double[] dOut = Random(random, Batch * shape.OutputSize);
            foreach (BinaryOperator op in Operators)
            {
                string what = $"{op} [{string.Join(",", leftShape)}] [{string.Join(",", rightShape)}]";
                double Loss() => Dot(dOut, Reference(op, leftShape, rightShape, left, right, Batch));
                double[] numericLeft = NumericGradient(left, Loss), numericRight = NumericGradient(right, Loss);

                double[] dLeft = Random(random, left.Length), dRight = Random(random, right.Length); // garbage to overwrite
                Broadcast.Backward<double>(op, shape, left, right, dOut, Batch, dLeft, dRight, accumulate: false);
                GradientMatches(what + " dLeft", numericLeft, dLeft);
                GradientMatches(what + " dRight", numericRight, dRight);
                double[] overwritten = dRight;

                double[] priorLeft = Random(random, left.Length), priorRight = Random(random, right.Length);
                dLeft = (double[])priorLeft.Clone();
                dRight = (double[])priorRight.Clone();
                Broadcast.Backward<double>(op, shape, left, right, dOut, Batch, dLeft, dRight, accumulate: true);
                for (int i = 0; i < left.Length; i++)
                {
                    numericLeft[i] += priorLeft[i];
                }

                for (int i = 0; i < right.Length; i++)
                {
                    numericRight[i] += priorRight[i];
                }

                GradientMatches(what + " dLeft accumulated", numericLeft, dLeft);
                GradientMatches(what + " dRight accumulated", numericRight, dRight);

                // Either gradient may be skipped; Add and Subtract need no operands.
                double[] onlyRight = new double[right.Length];
                bool needsOperands = op == BinaryOperator.Multiply;
                Broadcast.Backward<double>(op, shape, needsOperands ? left : default, needsOperands ? right : default, dOut, Batch, Span<double>.Empty, onlyRight, accumulate: false);
                Assert.Equal(overwritten, onlyRight);
            }
        }
    }

    [Fact]
    public void Accumulate_AddsEveryElement()
    {
        var random = new Random(23);
        foreach (int n in new[] { 1, 7, 13, 33 })
        {
            double[] source = Random(random, n), destination = Random(random, n + 1);
            double[] expected = (double[])destination.Clone();
            for (int i = 0; i < n; i++)
            {
                expected[i] += source[i];
            }

            Broadcast.Accumulate<double>(source, destination);
            Assert.Equal(expected, destination);

            float[] sf = ToFloat(source), df = ToFloat(destination);
            float[] ef = (float[])df.Clone();
            for (int i = 0; i < n; i++)
            {
                ef[i] += sf[i];
            }

            Broadcast.Accumulate<float>(sf, df);
            Assert.Equal(ef, df);
        }
    }

    [Fact]
    public void Float_AgreesWithDouble()
    {
        var random = new Random(24);
        foreach ((int[] leftShape, int[] rightShape) in Pairs)
        {
            var shape = new BroadcastShape(leftShape, rightShape);
            float[] lf = ToFloat(Random(random, 2 * shape.LeftSize)), rf = ToFloat(Random(random, 2 * shape.RightSize)), gf = ToFloat(Random(random, 2 * shape.OutputSize));
            double[] l = ToDouble(lf), r = ToDouble(rf), g = ToDouble(gf);
            foreach (BinaryOperator op in Operators)
            {
                double[] y = new double[gf.Length], dl = new double[lf.Length], dr = new double[rf.Length];
                float[] yf = new float[gf.Length], dlf = new float[lf.Length], drf = new float[rf.Length];
                Broadcast.Forward<double>(op, shape, l, r, 2, y);
                Broadcast.Forward<float>(op, shape, lf, rf, 2, yf);
                Close($"{op} y", y, yf, 1e-6, 1e-3);
                Broadcast.Backward<double>(op, shape, l, r, g, 2, dl, dr, false);
                Broadcast.Backward<float>(op, shape, lf, rf, gf, 2, dlf, drf, false);
                Close($"{op} dLeft", dl, dlf, 1e-5, 1e-2);
                Close($"{op} dRight", dr, drf, 1e-5, 1e-2);
            }
        }
    }

    [Fact]
    public void WarmCalls_AllocateNothing()
    {
        var random = new Random(25);
        var shapes = Array.ConvertAll(Pairs, p => new BroadcastShape(p.Left, p.Right));
        var buffers = Array.ConvertAll(shapes, s => (L: Random(random, 2 * s.LeftSize), R: Random(random, 2 * s.RightSize), Y: new double[2 * s.OutputSize], DL: new double[2 * s.LeftSize], DR: new double[2 * s.RightSize]));
        float[] a = new float[33], b = new float[33];
        long bytes = AllocatedBytes(() =>
        {
            for (int i = 0; i < shapes.Length; i++)
            {
                var (l, r, y, dl, dr) = buffers[i];
                foreach (BinaryOperator op in Operators)
                {
                    Broadcast.Forward<double>(op, shapes[i], l, r, 2, y);
                    Broadcast.Backward<double>(op, shapes[i], l, r, y, 2, dl, dr, accumulate: false);
                    Broadcast.Backward<double>(op, shapes[i], l, r, y, 2, dl, default, accumulate: true);
                }
            }

            Broadcast.Accumulate<float>(a, b);
        });
        Assert.Equal(0, bytes);
    }

    /// <summary>The output element by element: each output index maps to an operand index by dropping broadcast dimensions.</summary>
    private static double[] Reference(BinaryOperator op, int[] leftShape, int[] rightShape, double[] left, double[] right, int batch)
    {
        int rank = Math.Max(leftShape.Length, rightShape.Length);
        int[] l = new int[rank], r = new int[rank], o = new int[rank];
        for (int i = 0; i < rank; i++)
        {
            int li = i - (rank - leftShape.Length), ri = i - (rank - rightShape.Length);
            l[i] = li >= 0 ? leftShape[li] : 1;
            r[i] = ri >= 0 ? rightShape[ri] : 1;
            o[i] = Math.Max(l[i], r[i]);
        }

        int leftSize = 1, rightSize = 1, outputSize = 1;
        for (int i = 0; i < rank; i++)
        {
            leftSize *= l[i];
            rightSize *= r[i];
            outputSize *= o[i];
        }

        double[] output = new double[batch * outputSize];
        int[] index = new int[rank];
        for (int b = 0; b < batch; b++)
        {
            for (int flat = 0; flat < outputSize; flat++)
            {
                int rest = flat;
                for (int i = rank - 1; i >= 0; i--)
                {
                    index[i] = rest % o[i];
                    rest /= o[i];
                }

                int at = 0, bt = 0;
                for (int i = 0; i < rank; i++)
                {
                    at = (at * l[i]) + (l[i] == 1 ? 0 : index[i]);
                    bt = (bt * r[i]) + (r[i] == 1 ? 0 : index[i]);
                }

                double x = left[(b * leftSize) + at], y = right[(b * rightSize) + bt];
                output[(b * outputSize) + flat] = op switch
                {
                    BinaryOperator.Add => x + y,
                    BinaryOperator.Subtract => x - y,
                    _ => x * y,
                };
            }
        }

        return output;
    }
}
