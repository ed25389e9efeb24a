using System;
using StaticGrad.Kernels;
using Xunit;
using static StaticGrad.Tests.Kernels.GraphKernels.GraphKernelCheck;

namespace StaticGrad.Tests.Kernels.GraphKernels;

/// <summary>
/// <see cref="Activations"/> against plain formulas written here, their backward passes against central differences,
/// float against double, the exact GELU at known points (and its error function against reference values), sigmoid
/// far out in both tails, and no allocation. Lengths leave SIMD tails (7, 13, 33).
/// </summary>
public class ActivationsTests
{
    private static readonly int[] Lengths = [1, 7, 13, 33];

    // Plain references, written independently of the kernels.
    private static double Sigmoid(double x) => 1.0 / (1.0 + Math.Exp(-x)); // fine for the moderate x used with it

    private static double GeluTanh(double x) => 0.5 * x * (1 + Math.Tanh(Math.Sqrt(2 / Math.PI) * (x + (0.044715 * x * x * x))));

    [Fact]
    public void Forward_MatchesPlainFormulas()
    {
        var random = new Random(1);
        foreach (int n in Lengths)
        {
            double[] x = Random(random, n, 2.0);
            double[] y = new double[n];

            Activations.Sigmoid<double>(x, y);
            Close("sigmoid", Array.ConvertAll(x, Sigmoid), y, 1e-15);
            Activations.Tanh<double>(x, y);
            Close("tanh", Array.ConvertAll(x, Math.Tanh), y, 1e-15);
            Activations.Silu<double>(x, y);
            Close("silu", Array.ConvertAll(x, v => v * Sigmoid(v)), y, 1e-15, 1e-300);
            Activations.Gelu<double>(x, y, tanhApproximation: true);
            Close("gelu tanh", Array.ConvertAll(x, GeluTanh), y, 1e-15);
            Activations.Gelu<double>(x, y, tanhApproximation: false);
            Close("gelu exact", Array.ConvertAll(x, GeluByIntegral), y, 1e-10);
        }
    }

    [Fact]
    public void ExactGelu_AtKnownPoints()
    {
        double[] x = [1.0, -0.5, 0.0, 2.0, -3.0, -10.0, 6.0];
        double[] y = new double[x.Length];
        Activations.Gelu<double>(x, y, tanhApproximation: false);
        Assert.Equal(0.8413447460685429, y[0], 1e-15);
        Assert.Equal(-0.15426876936299344, y[1], 1e-15);
        Assert.Equal(0.0, y[2]);
        Close("gelu", [1.9544997361036416, -0.0040496940948902835, -7.619853024160526e-23, 5.999999994080474], y.AsSpan(3), 1e-12);
    }

    [Fact]
    public void Erf_MatchesReferenceValues_AndIsOdd()
    {
        // erf at 0.1 … 5 and erfc deep in the tail (40-digit values rounded to double).
        (double X, double Erf)[] table =
        [
            (0.1, 0.1124629160182849), (0.5, 0.5204998778130465), (1.0, 0.8427007929497149), (1.5, 0.9661051464753108),
            (1.9, 0.9927904292352575), (2.0, 0.9953222650189527), (2.5, 0.9995930479825550), (3.0, 0.9999779095030014),
            (4.0, 0.9999999845827421), (5.0, 0.9999999999984626),
        ];
        foreach ((double x, double erf) in table)
        {
            Assert.True(Math.Abs(Activations.Erf(x) - erf) <= 2e-16 * 4, $"erf({x}) = {Activations.Erf(x):R}, expected {erf:R}");
            Assert.Equal(-Activations.Erf(x), Activations.Erf(-x));
        }

        // Φ far in the lower tail keeps its relative accuracy: Φ(−5) = 2.866515718791939e-7, Φ(−20) = 2.7536241186062337e-89.
        Assert.True(Math.Abs((Activations.NormalCdf(-5) / 2.866515718791939e-7) - 1) < 1e-13);
        Assert.True(Math.Abs((Activations.NormalCdf(-20) / 2.7536241186062337e-89) - 1) < 1e-13);
        Assert.True(Math.Abs((Activations.NormalCdf(-2.0) / 0.02275013194817921) - 1) < 1e-12);
    }

    [Fact]
    public void Sigmoid_DoesNotOverflow_InEitherTail()
    {
        double[] x = [-1000, -745, -50, 0, 50, 745, 1000, double.NegativeInfinity, double.PositiveInfinity];
        double[] y = new double[x.Length];
        Activations.Sigmoid<double>(x, y);
        Assert.All(y, v => Assert.False(double.IsNaN(v)));
        Assert.Equal(0.0, y[0]);
        Assert.Equal(0.5, y[3]);
        Assert.Equal(1.0, y[6]);
        Assert.Equal(0.0, y[7]);
        Assert.Equal(1.0, y[8]);
        Assert.Equal(1.9287498479639178e-22, y[2], 1e-36);

        float[] xf = [-1000f, -100f, 0f, 100f, 1000f];
        float[] yf = new float[xf.Length];
        Activations.Sigmoid<float>(xf, yf);
        Assert.Equal(0f, yf[0]);
        Assert.InRange(yf[1], 0f, 1e-40f); // e^(−100) is a float subnormal
        Assert.Equal(new float[] { 0.5f, 1f, 1f }, yf[2..]);

        Activations.Silu<double>(x.AsSpan(0, 7), y);
        Assert.Equal(0.0, y[0]); // −1000·σ(−1000) is −0·…, not NaN
        Assert.Equal(1000.0, y[6]);
    }

    [Fact]
    public void Backward_MatchesCentralDifferences()
    {
        var random = new Random(2);
        foreach (int n in Lengths)
        {
            double[] x = Random(random, n, 1.5);
            double[] dy = Random(random, n);
            double[] y = new double[n], dx = new double[n];

            Activations.Sigmoid<double>(x, y);
            Activations.SigmoidBackward<double>(y, dy, dx);
            GradientMatches($"sigmoid n={n}", NumericGradient(x, () => Loss(x, dy, (a, b) => Activations.Sigmoid<double>(a, b))), dx);

            Activations.Tanh<double>(x, y);
            Activations.TanhBackward<double>(y, dy, dx);
            GradientMatches($"tanh n={n}", NumericGradient(x, () => Loss(x, dy, (a, b) => Activations.Tanh<double>(a, b))), dx);

            Activations.SiluBackward<double>(x, dy, dx);
            GradientMatches($"silu n={n}", NumericGradient(x, () => Loss(x, dy, (a, b) => Activations.Silu<double>(a, b))), dx);

            foreach (bool approximate in new[] { false, true })
            {
                Activations.GeluBackward<double>(x, dy, dx, approximate);
                GradientMatches($"gelu tanh={approximate} n={n}", NumericGradient(x, () => Loss(x, dy, (a, b) => Activations.Gelu<double>(a, b, approximate))), dx);
            }
        }
    }

    [Fact]
    public void Float_AgreesWithDouble()
    {
        var random = new Random(3);
        double[] x = Random(random, 33, 2.0), dy = Random(random, 33);
        float[] xf = ToFloat(x), dyf = ToFloat(dy);
        x = ToDouble(xf);
        dy = ToDouble(dyf);
        double[] y = new double[33], dx = new double[33];
        float[] yf = new float[33], dxf = new float[33];

        Check("sigmoid", (a, b) => Activations.Sigmoid<double>(a, b), (a, b) => Activations.Sigmoid<float>(a, b), (o, g, d) => Activations.SigmoidBackward<double>(o, g, d), (o, g, d) => Activations.SigmoidBackward<float>(o, g, d), fromOutput: true);
        Check("tanh", (a, b) => Activations.Tanh<double>(a, b), (a, b) => Activations.Tanh<float>(a, b), (o, g, d) => Activations.TanhBackward<double>(o, g, d), (o, g, d) => Activations.TanhBackward<float>(o, g, d), fromOutput: true);
        Check("silu", (a, b) => Activations.Silu<double>(a, b), (a, b) => Activations.Silu<float>(a, b), (o, g, d) => Activations.SiluBackward<double>(o, g, d), (o, g, d) => Activations.SiluBackward<float>(o, g, d), fromOutput: false);
        foreach (bool approximate in new[] { false, true })
        {
            Check($"gelu {approximate}", (a, b) => Activations.Gelu<double>(a, b, approximate), (a, b) => Activations.Gelu<float>(a, b, approximate), (o, g, d) => Activations.GeluBackward<double>(o, g, d, approximate), (o, g, d) => Activations.GeluBackward<float>(o, g, d, approximate), fromOutput: false);
        }

        void Check(string name, Forward<double> forward, Forward<float> forwardF, Backward<double> backward, Backward<float> backwardF, bool fromOutput)
        {
            forward(x, y);
            forwardF(xf, yf);
            Close(name, y, yf, 1e-6, 1e-6);
            backward(fromOutput ? y : x, dy, dx);
            backwardF(fromOutput ? yf : xf, dyf, dxf);
            Close(name + " backward", dx, dxf, 1e-5, 1e-1); // 1 − y² cancels near |y| = 1: an absolute bar
        }
    }

    [Fact]
    public void FloatExactGelu_MatchesDouble_OverTheWholeRange_AndInTheLowerTail()
    {
        // Random lengths leave every SIMD tail; values from −14 to 14 reach the lower tail, where x·Φ(x) is tiny and only a
        // relative bound tells a good erfc from 1 + erf cancelling.
        var random = new Random(5);
        for (int trial = 0; trial < 40; trial++)
        {
            int n = random.Next(1, 200);
            float[] xf = new float[n], dyf = new float[n], yf = new float[n], dxf = new float[n];
            for (int i = 0; i < n; i++)
            {
                xf[i] = (float)((random.NextDouble() * 28) - 14);
                dyf[i] = (float)((random.NextDouble() * 2) - 1);
            }

            double[] x = ToDouble(xf), dy = ToDouble(dyf), y = new double[n], dx = new double[n];
            Activations.Gelu<double>(x, y, tanhApproximation: false);
            Activations.GeluBackward<double>(x, dy, dx, tanhApproximation: false);
            Activations.Gelu<float>(xf, yf, tanhApproximation: false);
            Activations.GeluBackward<float>(xf, dyf, dxf, tanhApproximation: false);
            Close($"gelu float n={n}", y, yf, 1e-6, 1e-30);   // 1e-36 absolute: below about −13.2, Φ underflows float's normal range
            Close($"gelu backward float n={n}", dx, dxf, 1e-6, 0.05);   // 5e-8 absolute: Φ(x) + x·φ(x) cancels below 0
        }

        float[] points = [-10f, -5f, -1f, 0f, 1f, 5f, float.NaN];
        float[] values = new float[points.Length];
        Activations.Gelu<float>(points, values, tanhApproximation: false);
        Assert.InRange(values[0] / -7.619853024160526e-23, 1 - 1e-6, 1 + 1e-6);   // −10·Φ(−10)
        Assert.InRange(values[1] / (-5 * 2.866515718791939e-7), 1 - 1e-6, 1 + 1e-6);
        Assert.Equal(0f, values[3]);
        Assert.Equal(5f, values[5], 5e-6f);
        Assert.True(float.IsNaN(values[6]));
    }

    [Fact]
    public void VectorExp_MatchesMathExp_AtEveryWidth()
    {
        var random = new Random(6);
        float[] x = new float[4096];
        for (int i = 0; i < x.Length; i++) x[i] = (float)((random.NextDouble() * 175) - 87);
        x[0] = -100f;
        x[1] = 0f;
        x[2] = 87.9f;
        x[3] = 200f;
        x[4] = float.NaN;
        for (int i = 0; i < x.Length; i += 16)
        {
            var v512 = VectorMath.Exp(System.Runtime.Intrinsics.Vector512.Create(x.AsSpan(i, 16)));
            var v256 = VectorMath.Exp(System.Runtime.Intrinsics.Vector256.Create(x.AsSpan(i, 8)));
            var v128 = VectorMath.Exp(System.Runtime.Intrinsics.Vector128.Create(x.AsSpan(i, 4)));
            for (int j = 0; j < 16; j++)
            {
                float value = x[i + j];
                double expected = Math.Exp(value);
                float[] got = [VectorMath.Exp(value), v512[j], j < 8 ? v256[j] : VectorMath.Exp(value), j < 4 ? v128[j] : VectorMath.Exp(value)];
                foreach (float g in got)
                {
                    if (float.IsNaN(value)) Assert.True(float.IsNaN(g));
                    else if (value < -87.33654f) Assert.Equal(0f, g);
                    else if (value > 88f) Assert.Equal(float.PositiveInfinity, g);
                    else Assert.True(Math.Abs(g - expected) <= 3e-7 * expected, $"exp({value:R}) = {g:R}, expected {expected:R}");
                }
            }
        }
    }

    /// <summary>
    /// The ReLU folded into an addition (<see cref="Elementwise.AddRelu{T}"/>, <see cref="Elementwise.AddReluBackward{T}"/>)
    /// gives, to the bit, what the addition then <see cref="Elementwise.Relu{T}"/> and <see cref="Elementwise.ReluBackward{T}"/>
    /// give, with one gradient, the other or both wanted; sums of exactly 0 included (ReLU's gradient is 0 there).
    /// </summary>
    [Fact]
    public void AddRelu_GivesExactlyWhatAddThenReluGives()
    {
        var random = new Random(21);
        foreach (int length in Lengths)
        {
            double[] a = Random(random, length), b = Random(random, length), dy = Random(random, length);
            b[0] = -a[0]; // a sum of exactly 0
            AddReluCase(a, b, dy);
            AddReluCase(ToFloat(a), ToFloat(b), ToFloat(dy));
        }
    }

    private static void AddReluCase<T>(T[] a, T[] b, T[] dy)
        where T : unmanaged, System.Numerics.IBinaryFloatingPointIeee754<T>
    {
        int n = a.Length;
        T[] sum = new T[n], y = new T[n], folded = new T[n];
        for (int i = 0; i < n; i++)
        {
            sum[i] = a[i] + b[i];
        }

        Elementwise.Relu<T>(sum, y);
        Elementwise.AddRelu<T>(a, b, folded);
        Assert.Equal(y, folded);

        T[] dx = new T[n], da = new T[n], db = new T[n];
        Elementwise.ReluBackward<T>(y, dy, dx);
        Elementwise.AddReluBackward<T>(folded, dy, da, db);
        Assert.Equal(dx, da);
        Assert.Equal(dx, db);
        Array.Clear(da);
        Elementwise.AddReluBackward<T>(folded, dy, da, default);
        Assert.Equal(dx, da);
        Array.Clear(db);
        Elementwise.AddReluBackward<T>(folded, dy, default, db);
        Assert.Equal(dx, db);
    }

    [Fact]
    public void WarmCalls_AllocateNothing()
    {
        double[] x = Random(new Random(4), 33), y = new double[33], dx = new double[33];
        float[] xf = ToFloat(x), yf = new float[33], dxf = new float[33];
        long bytes = AllocatedBytes(() =>
        {
            Activations.Sigmoid<double>(x, y);
            Activations.SigmoidBackward<double>(y, x, dx);
            Activations.Tanh<double>(x, y);
            Activations.TanhBackward<double>(y, x, dx);
            Activations.Gelu<double>(x, y, false);
            Activations.GeluBackward<double>(x, y, dx, false);
            Activations.Gelu<double>(x, y, true);
            Activations.GeluBackward<double>(x, y, dx, true);
            Activations.Silu<double>(x, y);
            Activations.SiluBackward<double>(x, y, dx);
            Activations.Sigmoid<float>(xf, yf);
            Activations.SigmoidBackward<float>(yf, xf, dxf);
            Activations.Gelu<float>(xf, yf, false);
            Activations.GeluBackward<float>(xf, yf, dxf, true);
        });
        Assert.Equal(0, bytes);
    }

    private delegate void Forward<T>(ReadOnlySpan<T> x, Span<T> y);

    private delegate void Backward<T>(ReadOnlySpan<T> saved, ReadOnlySpan<T> outputGradient, Span<T> inputGradient);

    private static double Loss(double[] x, double[] weights, Forward<double> forward)
    {
        double[] y = new double[x.Length];
        forward(x, y);
        return Dot(weights, y);
    }

    /// <summary>x·Φ(x) with Φ by quadrature: ½(1 + erf) above 0, ½·erfc(|x|/√2) below (so the tail does not cancel).</summary>
    private static double GeluByIntegral(double x) =>
        x >= 0 ? x * 0.5 * (1 + ErfByIntegral(x / Math.Sqrt(2))) : x * 0.5 * ErfcByIntegral(-x / Math.Sqrt(2));

    /// <summary>erfc(z) = 2/√π ∫ from z to z + 12 of e^(−t²) by Simpson's rule with 40,000 panels (the rest is below e^(−144)).</summary>
    private static double ErfcByIntegral(double z)
    {
        const int Panels = 40000;
        double h = 12.0 / Panels, sum = Math.Exp(-z * z) + Math.Exp(-(z + 12) * (z + 12));
        for (int i = 1; i < Panels; i++)
        {
            double t = z + (i * h);
            sum += (i % 2 == 1 ? 4 : 2) * Math.Exp(-t * t);
        }

        return 2 / Math.Sqrt(Math.PI) * sum * h / 3;
    }

    /// <summary>erf by Simpson's rule on 2/√π·e^(−t²) with 20,000 panels: independent of the kernel's series and fraction.</summary>
    private static double ErfByIntegral(double x)
    {
        const int Panels = 20000;
        double h = x / Panels, sum = 1 + Math.Exp(-x * x);
        for (int i = 1; i < Panels; i++)
        {
            double t = i * h;
            sum += (i % 2 == 1 ? 4 : 2) * Math.Exp(-t * t);
        }

        return 2 / Math.Sqrt(Math.PI) * sum * h / 3;
    }
}
