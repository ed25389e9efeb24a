using System;
using System.IO;
using System.Linq;
using StaticGrad.Tests.Networks;
using StaticGrad.Tests.Package;
using Xunit;
using Xunit.Abstractions;

namespace StaticGrad.Tests.Numerics;

/// <summary>
/// Same seed and data, same bits: in one process, in another process (with the JIT optimising from the first call instead
/// of tiering up), and between straight-line and looped code where both add the terms in the same order.
/// </summary>
/// <remarks>
/// Where the bits may differ, by design: between kernel paths (Vector256 with FMA rounds each multiply-add once,
/// Vector128 and scalar round twice, and the vector widths group the terms differently), so a machine without AVX2 gets
/// other low-order bits than one with it; and between straight-line code and the SIMD kernels for the same reason. Every
/// path is held to the same error bound by NumericTests and InstructionSetTests.
/// </remarks>
public class DeterminismTests(ITestOutputHelper output)
{
    private const string HashFileVariable = "STATICGRAD_DETERMINISM_OUT";

    [Fact]
    public void SameSeedAndData_GiveBitwiseIdenticalParameters()
    {
        int[] first = Train(seed: 7);
        int[] second = Train(seed: 7);
        Assert.Equal(first, second);
        Assert.NotEqual(first, Train(seed: 8));

        // Inside the cross-process test's child run, hand the result back to the parent.
        if (Environment.GetEnvironmentVariable(HashFileVariable) is { Length: > 0 } path)
        {
            File.WriteAllText(path, Hash(first));
        }
    }

    [Fact]
    public void AnotherProcess_GetsTheSameBits()
    {
        if (Environment.GetEnvironmentVariable(HashFileVariable) is not null)
        {
            return; // already the child
        }

        string file = Path.Combine(Path.GetTempPath(), $"staticgrad-determinism-{Guid.NewGuid():N}.txt");
        try
        {
            string assembly = typeof(DeterminismTests).Assembly.Location;
            var result = DotNetCli.Run(
                Path.GetDirectoryName(assembly)!,
                $"test \"{assembly}\" --filter \"FullyQualifiedName~DeterminismTests.SameSeedAndData\"",
                environment: new() { [HashFileVariable] = file, ["DOTNET_TieredCompilation"] = "0" });
            output.WriteLine(result.Output);
            Assert.True(result.ExitCode == 0, result.ToString());
            Assert.Equal(Hash(Train(seed: 7)), File.ReadAllText(file));
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void StraightLineAndLoopedCode_AgreeBitwise_WhenTheyAddInTheSameOrder()
    {
        // 5×10×3 float: Auto writes straight-line code (N = 3 fills no vector); Never writes loops whose columns and
        // dot products are all narrower than a vector, so they add k = 0, 1, … in the same order with the same roundings.
        AssertStraightLineCode(typeof(F5x10x3), typeof(F5x10x3Looped));
        var (d1, dW1, dX1) = Run(F5x10x3.Forward, F5x10x3.Backward, 5, 10, 3);
        var (d2, dW2, dX2) = Run(F5x10x3Looped.Forward, F5x10x3Looped.Backward, 5, 10, 3);
        Assert.Equal(d1, d2);
        Assert.Equal(dW1, dW2);
        Assert.Equal(dX1, dX2);

        // 7×13×5: D and dX still agree bitwise. dW's dot products have length N = 5, which the looped kernel sums in
        // Vector128 lanes (4 at a time), another order: those bits may differ (within the bound NumericTests holds).
        AssertStraightLineCode(typeof(F7x13x5), typeof(F7x13x5Looped));
        (d1, _, dX1) = Run(F7x13x5.Forward, F7x13x5.Backward, 7, 13, 5);
        (d2, _, dX2) = Run(F7x13x5Looped.Forward, F7x13x5Looped.Backward, 7, 13, 5);
        Assert.Equal(d1, d2);
        Assert.Equal(dX1, dX2);
    }

    private static void AssertStraightLineCode(Type unrolled, Type looped)
    {
        // The looped class calls StaticGrad's kernels with its ForwardProduct shape; the straight-line one has no such shape.
        Assert.Null(unrolled.GetNestedType("ForwardProduct", System.Reflection.BindingFlags.NonPublic));
        Assert.NotNull(looped.GetNestedType("ForwardProduct", System.Reflection.BindingFlags.NonPublic));
    }

    private static (int[] D, int[] DW, int[] DX) Run(NonFiniteInputTests.ForwardFloat forward, NonFiniteInputTests.BackwardFloat backward, int m, int k, int n)
    {
        var random = new Random(11);
        float[] w = Values(random, m * k), x = Values(random, k * n), dD = Values(random, m * n);
        float[] d = new float[m * n], dW = new float[m * k], dX = new float[k * n];
        forward(w, x, d);
        backward(w, x, dD, dW, dX);
        return (Bits(d), Bits(dW), Bits(dX));
    }

    /// <summary>50 Adam steps with weight decay on fixed synthetic data; the parameters' bits.</summary>
    private static int[] Train(int seed)
    {
        var net = new DigitNetFloat(seed, maxBatchSize: 16);
        net.UseAdam(0.01f, weightDecay: 1e-3f);
        var random = new Random(1);
        float[] inputs = Values(random, 16 * 64);
        int[] labels = Enumerable.Range(0, 16).Select(i => i % 10).ToArray();
        for (int step = 0; step < 50; step++)
        {
            net.TrainStep(inputs, labels);
        }

        return Bits(net.Parameters.ToArray());
    }

    private static int[] Bits(float[] values) => values.Select(BitConverter.SingleToInt32Bits).ToArray();

    private static string Hash(int[] bits)
    {
        ulong hash = 14695981039346656037;
        foreach (int b in bits)
        {
            hash = (hash ^ (uint)b) * 1099511628211;
        }

        return hash.ToString("x16");
    }

    private static float[] Values(Random random, int length) =>
        Enumerable.Range(0, length).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
}
