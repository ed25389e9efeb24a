using System;
using System.IO;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using StaticGrad.Tests.Package;
using Xunit;
using Xunit.Abstractions;

namespace StaticGrad.Tests.Numerics;

/// <summary>
/// StaticGrad.Runtime's kernels have four paths (Vector512 with AVX-512 for the packed micro-kernel, Vector256 + FMA,
/// Vector128, scalar) and the JIT takes one per process. This machine's run covers its own; these tests run the numeric
/// suites again in child processes with AVX-512 (where the CPU has it), AVX2, then all hardware intrinsics switched off
/// (DOTNET_EnableAVX512=0, DOTNET_EnableAVX2=0, DOTNET_EnableHWIntrinsic=0), so the other paths are checked too.
/// (.NET 10 reads DOTNET_EnableAVX512; the DOTNET_EnableAVX512F of .NET 8 and 9 no longer switches Vector512 off.)
/// The quick tier (the README's test command) runs the path just below this machine's own, with the run-time library's
/// suites; the full tier (<see cref="TestTier"/>, as .ci/run sets it) runs all three with every numeric suite.
/// </summary>
public class InstructionSetTests(ITestOutputHelper output)
{
    private const string ExpectVariable = "STATICGRAD_EXPECT_PATH";

    /// <summary>
    /// The switch and the path it leaves, for each child run of this tier: all three below this machine's path in the full
    /// tier, the next one down in the quick tier. A child run's filter leaves this test out (no recursion).
    /// </summary>
    public static TheoryData<string, string> FallbackPaths()
    {
        var paths = new TheoryData<string, string>();
        bool avx512 = Vector512.IsHardwareAccelerated && Avx512F.IsSupported;
        if (avx512)
        {
            paths.Add("DOTNET_EnableAVX512", "Vector256");
        }

        if (!avx512 || TestTier.Full)
        {
            paths.Add("DOTNET_EnableAVX2", "Vector128");
        }

        if (TestTier.Full)
        {
            paths.Add("DOTNET_EnableHWIntrinsic", "Scalar");
        }

        return paths;
    }

    [Theory]
    [MemberData(nameof(FallbackPaths))]
    public void NumericSuites_PassOnTheFallbackPaths(string switchOff, string expectedPath)
    {
        string assembly = typeof(InstructionSetTests).Assembly.Location;
        // The quick tier (the README's test command) runs the run-time library's own suites on each path; the full tier
        // (STATICGRAD_TIER=full, as .ci/run sets it) adds the generated-code suites, which reach the same kernels.
        bool full = TestTier.Full;
        // The quick tier keeps to the kernel suites of its own (GEMM, plane convolution, pooling, the graph ops' kernels, the
        // optimizer steps); the full tier adds gradient checks, the convolution networks and every generated-code suite.
        string filter = "FullyQualifiedName~GemmTests|FullyQualifiedName~PlaneConvolutionTests.RandomShapes|FullyQualifiedName~PoolingTests|FullyQualifiedName~OptimizerStepTests|FullyQualifiedName~GraphKernels|FullyQualifiedName~InstructionSetTests.Probe"
            + (full
                ? "|FullyQualifiedName~GradientCheckTests|FullyQualifiedName~PlaneConvolutionTests|FullyQualifiedName~ConvolutionTests|FullyQualifiedName~StaticGrad.Tests.Numerics.NumericTests|FullyQualifiedName~RandomShapeTests|FullyQualifiedName~ReferenceNetworkTests|FullyQualifiedName~StaticGrad.Tests.Models"
                : string.Empty);
        output.WriteLine($"Tier: {(full ? "full" : "quick")} ({TestTier.Variable}=full runs every numeric suite on this path)");
        var result = DotNetCli.Run(
            Path.GetDirectoryName(assembly)!,
            $"test \"{assembly}\" --filter \"{filter}\"",
            environment: new() { [switchOff] = "0", [ExpectVariable] = expectedPath });
        output.WriteLine(result.Output);

        Assert.True(result.ExitCode == 0, result.ToString());
        var passed = System.Text.RegularExpressions.Regex.Match(result.Output, @"Passed:\s+(\d+)");
        Assert.True(passed.Success && int.Parse(passed.Groups[1].Value) >= 20, "the child run must run the numeric suites:\n" + result.Output);
    }

    [Fact]
    public void Probe_TheKernelPathIsTheExpectedOne()
    {
        string actual = Vector512.IsHardwareAccelerated && Avx512F.IsSupported ? "Vector512"
            : Vector256.IsHardwareAccelerated && Fma.IsSupported ? "Vector256"
            : Vector128.IsHardwareAccelerated ? "Vector128"
            : "Scalar";
        string expected = Environment.GetEnvironmentVariable(ExpectVariable)
            ?? (Vector512.IsHardwareAccelerated && Avx512F.IsSupported ? "Vector512" : Avx2.IsSupported && Fma.IsSupported ? "Vector256" : Sse.IsSupported ? "Vector128" : actual);
        Assert.Equal(expected, actual);
    }
}
