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
/// </summary>
public class InstructionSetTests(ITestOutputHelper output)
{
    private const string ExpectVariable = "STATICGRAD_EXPECT_PATH";

    /// <summary>"full" (set by .ci/run) runs every numeric suite in the child runs; otherwise the kernel suites only.</summary>
    public const string TierVariable = "STATICGRAD_TIER";

    /// <summary>Whether this process is a child run of the quick tier, where the random-shape suites draw fewer cases.</summary>
    public static bool QuickChildRun =>
        Environment.GetEnvironmentVariable(ExpectVariable) is not null
        && !string.Equals(Environment.GetEnvironmentVariable(TierVariable), "full", StringComparison.OrdinalIgnoreCase);

    [Theory]
    [InlineData("DOTNET_EnableAVX512", "Vector256")]
    [InlineData("DOTNET_EnableAVX2", "Vector128")]
    [InlineData("DOTNET_EnableHWIntrinsic", "Scalar")]
    public void NumericSuites_PassOnTheFallbackPaths(string switchOff, string expectedPath)
    {
        if (Environment.GetEnvironmentVariable(ExpectVariable) is not null)
        {
            return; // already inside a child run: do not recurse
        }

        if (switchOff == "DOTNET_EnableAVX512" && !Vector512.IsHardwareAccelerated)
        {
            output.WriteLine("This CPU has no AVX-512: the main run already took the Vector256 path.");
            return;
        }

        string assembly = typeof(InstructionSetTests).Assembly.Location;
        // The quick tier (the README's test command) runs the run-time library's own suites on each path; the full tier
        // (STATICGRAD_TIER=full, as .ci/run sets it) adds the generated-code suites, which reach the same kernels.
        bool full = string.Equals(Environment.GetEnvironmentVariable(TierVariable), "full", StringComparison.OrdinalIgnoreCase);
        string filter = "FullyQualifiedName~GemmTests|FullyQualifiedName~PlaneConvolutionTests.RandomShapes|FullyQualifiedName~PoolingTests|FullyQualifiedName~OptimizerStepTests|FullyQualifiedName~GradientCheckTests|FullyQualifiedName~GraphKernels|FullyQualifiedName~InstructionSetTests.Probe"
            + (full
                ? "|FullyQualifiedName~PlaneConvolutionTests|FullyQualifiedName~ConvolutionTests|FullyQualifiedName~StaticGrad.Tests.Numerics.NumericTests|FullyQualifiedName~RandomShapeTests|FullyQualifiedName~ReferenceNetworkTests|FullyQualifiedName~StaticGrad.Tests.Models"
                : "|FullyQualifiedName~ConvolutionTests.GradientCheck|FullyQualifiedName~ConvolutionTests.ConvOnly|FullyQualifiedName~ConvolutionTests.StridedCnn");
        output.WriteLine($"Tier: {(full ? "full" : "quick")} ({TierVariable}=full runs every numeric suite on this path)");
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
