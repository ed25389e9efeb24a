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
/// The child runs belong to the full tier (<see cref="TestTier"/>, as .ci/run sets it): all three, each with every numeric
/// suite. The quick tier (the README's test command) checks this machine's own path only, to stay within three minutes.
/// </summary>
public class InstructionSetTests(ITestOutputHelper output)
{
    private const string ExpectVariable = "STATICGRAD_EXPECT_PATH";

    /// <summary>
    /// The switch and the path it leaves, for each child run: all paths below this machine's (full tier only: each child
    /// run takes longer than the quick tier can spend). A child run's filter leaves this test out (no recursion).
    /// </summary>
    public static TheoryData<string, string> FallbackPaths()
    {
        var paths = new TheoryData<string, string>();
        if (Vector512.IsHardwareAccelerated && Avx512F.IsSupported)
        {
            paths.Add("DOTNET_EnableAVX512", "Vector256");
        }

        paths.Add("DOTNET_EnableAVX2", "Vector128");
        paths.Add("DOTNET_EnableHWIntrinsic", "Scalar");
        return paths;
    }

    [FullTierTheory]
    [MemberData(nameof(FallbackPaths))]
    public void NumericSuites_PassOnTheFallbackPaths(string switchOff, string expectedPath)
    {
        string assembly = typeof(InstructionSetTests).Assembly.Location;
        // Every numeric suite on the path the switch leaves: the run-time kernels, the gradient checks, the networks and the
        // generated-code suites (they reach the same kernels through generated code).
        string filter = "FullyQualifiedName~GemmTests|FullyQualifiedName~PoolingTests|FullyQualifiedName~OptimizerStepTests|FullyQualifiedName~GraphKernels|FullyQualifiedName~InstructionSetTests.Probe"
            + "|FullyQualifiedName~GradientCheckTests|FullyQualifiedName~PlaneConvolutionTests|FullyQualifiedName~ConvolutionTests|FullyQualifiedName~StaticGrad.Tests.Numerics.NumericTests|FullyQualifiedName~RandomShapeTests|FullyQualifiedName~ReferenceNetworkTests|FullyQualifiedName~StaticGrad.Tests.Models";
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
