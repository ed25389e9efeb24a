using System;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using Xunit;
using Xunit.Abstractions;

namespace StaticGrad.Tests.Package;

/// <summary>
/// The package as a user gets it: <c>dotnet pack</c> into a local folder, then fresh projects that restore
/// StaticGrad through their own nuget.config (local folder only), build and run.
/// </summary>
[Collection(nameof(PackageConsumptionTests))]
public class PackageConsumptionTests(PackageFixture package, ITestOutputHelper output) : IClassFixture<PackageFixture>
{
    [Fact]
    public void Consumer_RestoresBuildsAndRuns_AndALibraryWithTheSameShapeDoesNotClash()
    {
        string root = package.NewWorkspace("consumer");

        // A library and an app that both declare [MatMul(5, 10, 3)], the app referencing the library; warnings are errors.
        WriteProject(Path.Combine(root, "Lib"), "Library", null, """
            using StaticGrad;
            namespace Lib;
            [MatMul(5, 10, 3)] public partial class LibScores;
            """);
        WriteProject(Path.Combine(root, "App"), "Exe", "../Lib/Lib.csproj", """
            using System;
            using System.Linq;
            using StaticGrad;

            var w = new float[Scores.M * Scores.K];
            var x = new float[Scores.K * Scores.N];
            for (int i = 0; i < w.Length; i++) w[i] = i % 7 - 3;
            for (int i = 0; i < x.Length; i++) x[i] = i % 5 - 2;
            var d = new float[Scores.M * Scores.N];
            var dW = new float[w.Length];
            var dX = new float[x.Length];
            Scores.Forward(w, x, d);
            Scores.Backward(w, x, d, dW, dX);
            var d2 = new float[d.Length];
            Lib.LibScores.Forward(w, x, d2);

            // D[0,0] = Σk W[0,k]·X[k,0], by hand.
            float expected = 0;
            for (int k = 0; k < Scores.K; k++) expected += w[k] * x[k * Scores.N];
            Console.WriteLine(d[0] == expected && d2[0] == expected ? $"OK D00={d[0]} dW00={dW[0]}" : $"MISMATCH {d[0]} {d2[0]} {expected}");

            // A network from the package: a few training steps must lower the loss, and save/load must round-trip.
            var net = new Net(seed: 1, maxBatchSize: 4);
            net.UseAdam(0.05f);
            float[] inputs = { 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1 };
            int[] labels = { 0, 1, 2, 0 };
            float first = net.TrainStep(inputs, labels), last = first;
            for (int i = 0; i < 50; i++) last = net.TrainStep(inputs, labels);
            string file = System.IO.Path.Combine(System.IO.Path.GetTempPath(), System.Guid.NewGuid().ToString("N") + ".sgrd");
            net.Save(file);
            var copy = new Net(seed: 2);
            copy.Load(file);
            System.IO.File.Delete(file);
            Console.WriteLine(last < first && copy.Parameters.SequenceEqual(net.Parameters) ? $"NET OK {first:F3} -> {last:F3}" : $"NET BAD {first} {last}");

            [MatMul(5, 10, 3)]
            partial class Scores;

            [Linear(4, 8), ReLU, Linear(8, 3), SoftmaxCrossEntropy]
            partial class Net;
            """);

        var run = package.Dotnet(Path.Combine(root, "App"), "run -c Release --disable-build-servers");
        output.WriteLine(run.Output);
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Matches(@"OK D00=-?\d+ dW00=-?\d+", run.Output);
        Assert.Matches(@"NET OK \d+\.\d+ -> \d+\.\d+", run.Output);
    }

    [Fact]
    public void Consumer_WithZeroDimension_FailsToBuild_WithSgr0001AtFileLineColumn()
    {
        string root = package.NewWorkspace("bad");
        string source = """
            using StaticGrad;

            namespace Bad;

            [MatMul(5, 0, 3)]
            public partial class Scores;
            """;
        WriteProject(root, "Library", null, source);

        var build = package.Dotnet(root, "build -c Release --disable-build-servers");
        output.WriteLine(build.Output);

        Assert.NotEqual(0, build.ExitCode);
        // Line 5, column 12: the "0" in [MatMul(5, 0, 3)].
        Assert.Matches(new Regex(@"Program\.cs\(5,12\): error SGR0001: MatMul dimension K must be positive, got 0"), build.Output);
    }

    private void WriteProject(string directory, string outputType, string? projectReference, string program)
    {
        Directory.CreateDirectory(directory);
        string reference = projectReference is null ? string.Empty : $"""<ProjectReference Include="{projectReference}" />""";
        File.WriteAllText(Path.Combine(directory, Path.GetFileName(directory) + ".csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>{outputType}</OutputType>
                <TargetFramework>net10.0</TargetFramework>
                <Nullable>enable</Nullable>
                <TreatWarningsAsErrors>true</TreatWarningsAsErrors>
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="StaticGrad" Version="{package.Version}" />
                {reference}
              </ItemGroup>
            </Project>
            """);
        File.WriteAllText(Path.Combine(directory, "Program.cs"), program);
    }
}

/// <summary>Packs StaticGrad once for the class into a temporary folder, with a nuget.config that names only that folder.</summary>
public sealed class PackageFixture : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "staticgrad-package-" + Guid.NewGuid().ToString("N")[..8]);

    public PackageFixture()
    {
        Directory.CreateDirectory(_root);
        string feed = Path.Combine(_root, "feed");
        string repository = DotNetCli.RepositoryRoot();

        // A unique version, so no NuGet cache anywhere can hand back an older build of the package.
        Version = "0.1.0-test." + DateTime.UtcNow.ToString("yyyyMMddHHmmss");
        var pack = DotNetCli.Run(
            repository,
            $"pack src/StaticGrad/StaticGrad.csproj -c Release -o \"{feed}\" -p:Version={Version} --disable-build-servers");
        if (pack.ExitCode != 0 || !File.Exists(Path.Combine(feed, $"StaticGrad.{Version}.nupkg")))
        {
            throw new InvalidOperationException("dotnet pack failed: " + pack);
        }

        File.WriteAllText(Path.Combine(_root, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <clear />
                <add key="local" value="{feed}" />
              </packageSources>
            </configuration>
            """);
    }

    public string Version { get; }

    public string NewWorkspace(string name)
    {
        string path = Path.Combine(_root, name);
        Directory.CreateDirectory(path);
        return path;
    }

    /// <summary>Runs dotnet with a private package cache, so restore reads the package from the local folder.</summary>
    public DotNetCli.Result Dotnet(string directory, string arguments) =>
        DotNetCli.Run(directory, arguments, packagesFolder: Path.Combine(_root, "packages"));

    public void Dispose()
    {
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
