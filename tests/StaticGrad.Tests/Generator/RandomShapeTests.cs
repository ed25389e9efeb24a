using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Runtime.Loader;
using System.Text;
using StaticGrad.Tests.Infrastructure;
using StaticGrad.Tests.Numerics;
using Xunit;
using Xunit.Abstractions;

namespace StaticGrad.Tests.Generator;

/// <summary>
/// Generates code for 60 random shapes in one in-memory compilation, loads it, runs Forward and Backward and
/// compares them with the double reference. The seed changes every run and is printed on failure; set
/// <c>STATICGRAD_TEST_SEED</c> to replay one.
/// </summary>
public class RandomShapeTests(ITestOutputHelper output)
{
    private const int ShapeCount = 60;

    private sealed record Shape(int Index, int M, int K, int N, bool IsDouble, string Mode)
    {
        public string ClassName => $"Shape{Index}";

        public override string ToString() => $"{(IsDouble ? "MatMul<double>" : "MatMul")}({M}, {K}, {N}, Unroll = UnrollMode.{Mode})";
    }

    [Fact]
    public void RandomShapes_CompileLoadAndMatchTheReference()
    {
        int seed = int.TryParse(Environment.GetEnvironmentVariable("STATICGRAD_TEST_SEED"), out int fixedSeed)
            ? fixedSeed
            : Environment.TickCount & int.MaxValue;
        output.WriteLine($"seed {seed} (replay with STATICGRAD_TEST_SEED={seed})");
        var random = new Random(seed);
        List<Shape> shapes = Enumerable.Range(0, ShapeCount).Select(i => RandomShape(random, i)).ToList();

        var source = new StringBuilder("using StaticGrad;\nnamespace RandomShapes {\n");
        foreach (var s in shapes)
        {
            string t = s.IsDouble ? "double" : "float";
            source.Append(CultureInfo.InvariantCulture, $"[{s}] public partial class {s.ClassName} {{ ")
                .Append(CultureInfo.InvariantCulture, $"public static void Run({t}[] w, {t}[] x, {t}[] d, {t}[] dD, {t}[] dW, {t}[] dX) {{ Forward(w, x, d); Backward(w, x, dD, dW, dX); }} }}\n");
        }

        source.Append('}');

        var (compilation, _) = TestCompilation.Generate(TestCompilation.Create($"RandomShapes{seed}", TestCompilation.References, source.ToString()));
        using var image = new MemoryStream();
        var emit = compilation.Emit(image);
        Assert.True(emit.Success, $"seed {seed}: generated code did not compile:\n{TestCompilation.Describe(emit.Diagnostics.Where(d => d.Severity == Microsoft.CodeAnalysis.DiagnosticSeverity.Error).Take(10))}");

        var context = new AssemblyLoadContext($"RandomShapes{seed}", isCollectible: true);
        try
        {
            image.Position = 0;
            Assembly assembly = context.LoadFromStream(image);
            foreach (var s in shapes)
            {
                RunOne(assembly, s, random, $"seed {seed}, {s}");
            }
        }
        finally
        {
            context.Unload();
        }
    }

    private static Shape RandomShape(Random random, int index)
    {
        // Mostly small and odd sizes (the unrolled path and loop tails), some up to 96 (the loop path).
        int Dim() => random.Next(4) == 0 ? random.Next(1, 97) : random.Next(1, 17);
        int m = Dim(), k = Dim(), n = Dim();
        long cost = (long)m * k * n;
        string mode = random.Next(3) switch
        {
            0 when cost <= 2000 => "Always",
            1 => "Never",
            _ => "Auto",
        };
        return new Shape(index, m, k, n, random.Next(2) == 0, mode);
    }

    private static void RunOne(Assembly assembly, Shape s, Random random, string context)
    {
        MethodInfo run = assembly.GetType($"RandomShapes.{s.ClassName}")!.GetMethod("Run")!;
        double[] w = Reference.Randn(random, s.M * s.K);
        double[] x = Reference.Randn(random, s.K * s.N);
        double[] dD = Reference.Randn(random, s.M * s.N);
        double roundoff;
        double[] d, dW, dX;
        if (s.IsDouble)
        {
            d = new double[s.M * s.N];
            dW = new double[s.M * s.K];
            dX = new double[s.K * s.N];
            run.Invoke(null, [w, x, d, dD, dW, dX]);
            roundoff = Reference.DoubleRoundoff;
        }
        else
        {
            float[] wf = Reference.ToFloat(w), xf = Reference.ToFloat(x), dDf = Reference.ToFloat(dD);
            float[] df = new float[s.M * s.N], dWf = new float[s.M * s.K], dXf = new float[s.K * s.N];
            run.Invoke(null, [wf, xf, df, dDf, dWf, dXf]);
            (w, x, dD) = (Reference.ToDouble(wf), Reference.ToDouble(xf), Reference.ToDouble(dDf));
            (d, dW, dX) = (Reference.ToDouble(df), Reference.ToDouble(dWf), Reference.ToDouble(dXf));
            roundoff = Reference.FloatRoundoff;
        }

        Reference.AssertClose("D", d, Reference.Forward(w, x, s.M, s.K, s.N), s.N, s.K, roundoff, context);
        Reference.AssertClose("dW", dW, Reference.GradW(x, dD, s.M, s.K, s.N), s.K, s.N, roundoff, context);
        Reference.AssertClose("dX", dX, Reference.GradX(w, dD, s.M, s.K, s.N), s.N, s.M, roundoff, context);
    }
}
