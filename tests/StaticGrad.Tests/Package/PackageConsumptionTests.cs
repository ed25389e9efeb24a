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
public partial class PackageConsumptionTests(PackageFixture package, ITestOutputHelper output) : IClassFixture<PackageFixture>
{
    [Fact]
    public void Consumer_RestoresBuildsAndRuns_AndALibraryWithTheSameShapeDoesNotClash()
    {
        string root = package.NewWorkspace("consumer");

        // A library and an app that both declare [MatMul(5, 10, 3)], the app referencing the library; warnings are errors.
        WriteProject(Path.Combine(root, "Lib"), "Library", Array.Empty<string>(), """
            using StaticGrad;
            namespace Lib;
            [MatMul(5, 10, 3)] public partial class LibScores;
            """);
        WriteProject(Path.Combine(root, "App"), "Exe", new[] { "../Lib/Lib.csproj" }, """
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

    [FullTierFact]
    public void Consumer_WithZeroDimension_FailsToBuild_WithSgr0001AtFileLineColumn()
    {
        string root = package.NewWorkspace("bad");
        string source = """
            using StaticGrad;

            namespace Bad;

            [MatMul(5, 0, 3)]
            public partial class Scores;
            """;
        WriteProject(root, "Library", Array.Empty<string>(), source);

        var build = package.Dotnet(root, "build -c Release --disable-build-servers");
        output.WriteLine(build.Output);

        Assert.NotEqual(0, build.ExitCode);
        // Line 5, column 12: the "0" in [MatMul(5, 0, 3)].
        Assert.Matches(new Regex(@"Program\.cs\(5,12\): error SGR0001: MatMul dimension K must be positive, got 0"), build.Output);
    }

    [FullTierFact]
    public void ThreeProjects_ThatAnnotateTheSameShapes_BuildWithoutWarnings_AndUseEachOthersTypedApis()
    {
        string root = package.NewWorkspace("three");

        // A: the shapes, public; internals visible to B and C, so nothing generated may be a top-level internal type.
        WriteProject(Path.Combine(root, "A"), "Library", Array.Empty<string>(), """
            using StaticGrad;
            [assembly: System.Runtime.CompilerServices.InternalsVisibleTo("B")]
            [assembly: System.Runtime.CompilerServices.InternalsVisibleTo("C")]
            namespace Shared;
            [MatMul(5, 10, 3)] public partial class Scores;
            [Linear(4, 8), ReLU, Linear(8, 3), SoftmaxCrossEntropy] public partial class Net;
            """);

        // B: references A, declares the same shapes under the same names in its own namespace, and takes A's typed matrices.
        WriteProject(Path.Combine(root, "B"), "Library", new[] { "../A/A.csproj" }, """
            using StaticGrad;
            [assembly: System.Runtime.CompilerServices.InternalsVisibleTo("C")]
            namespace B;
            [MatMul(5, 10, 3)] public partial class Scores;
            [Linear(4, 8), ReLU, Linear(8, 3), SoftmaxCrossEntropy] public partial class Net;
            public static class Bridge
            {
                /// <summary>Runs A's product with B's: both must give the same D.</summary>
                public static bool SameAsA(Shared.Scores.WMatrix w, Shared.Scores.XMatrix x)
                {
                    var a = new Shared.Scores.DMatrix();
                    Shared.Scores.Forward(w, x, a);
                    var b = new float[Scores.M * Scores.N];
                    Scores.Forward(w.AsSpan(), x.AsSpan(), b);
                    return a.AsSpan().SequenceEqual(b);
                }

                public static int Parameters(Shared.Net a, Net b) => a.Parameters.Length + b.Parameters.Length;
            }
            """);

        // C: references A and B, and declares the shapes a third time.
        WriteProject(Path.Combine(root, "C"), "Exe", new[] { "../A/A.csproj", "../B/B.csproj" }, """
            using System;
            using StaticGrad;

            var w = new Shared.Scores.WMatrix();
            var x = new Shared.Scores.XMatrix();
            for (int i = 0; i < Shared.Scores.WMatrix.Length; i++) w.AsSpan()[i] = i % 7 - 3;
            for (int i = 0; i < Shared.Scores.XMatrix.Length; i++) x.AsSpan()[i] = i % 5 - 2;
            var mine = new float[Local.M * Local.N];
            Local.Forward(w.AsSpan(), x.AsSpan(), mine);
            var theirs = new Shared.Scores.DMatrix();
            Shared.Scores.Forward(w, x, theirs);
            int parameters = B.Bridge.Parameters(new Shared.Net(), new B.Net()) + new LocalNet().Parameters.Length;
            Console.WriteLine(B.Bridge.SameAsA(w, x) && theirs.AsSpan().SequenceEqual(mine) && parameters == 3 * (4 * 8 + 8 + 8 * 3 + 3)
                ? "THREE OK" : "THREE BAD");

            [MatMul(5, 10, 3)] partial class Local;
            [Linear(4, 8), ReLU, Linear(8, 3), SoftmaxCrossEntropy] partial class LocalNet;
            """);
        File.WriteAllText(Path.Combine(root, "B", "Usings.cs"), "global using System;\n");

        var build = package.Dotnet(Path.Combine(root, "C"), "build -c Release --disable-build-servers");
        output.WriteLine(build.Output);
        Assert.True(build.ExitCode == 0, build.ToString());
        Assert.Matches(@"\b0 Warning\(s\)", build.Output);
        Assert.Matches(@"\b0 Error\(s\)", build.Output);

        var run = package.Dotnet(Path.Combine(root, "C"), "run -c Release --no-build");
        output.WriteLine(run.Output);
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("THREE OK", run.Output);
    }

    [FullTierFact]
    public void NativeAot_PublishesAndRunsATrainingProgram_WithNoTrimOrAotWarnings()
    {
        if (NativeToolchain.Linker() is not { } linker)
        {
            // .ci/run installs clang; a machine without it cannot link native code, and says so instead of pretending.
            Assert.Fail("Native AOT needs clang (or clang-14) and zlib's headers: apt-get install clang zlib1g-dev");
            return;
        }

        // Its own folder with a nuget.config that adds the package's folder to the machine's feeds (the ILCompiler package comes from there).
        string root = package.NewWorkspaceWithMachineFeeds("aot");
        WriteProject(root, "Exe", Array.Empty<string>(), """
            using System;
            using StaticGrad;

            // Keep the attributes in the binary too, so the attribute library is compiled and analysed as well.
            var net = new Net(seed: 1, maxBatchSize: 4);
            net.UseAdam(0.05f);
            float[] inputs = { 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1 };
            int[] labels = { 0, 1, 2, 0 };
            float first = net.TrainStep(inputs, labels), last = first;
            for (int i = 0; i < 100; i++) last = net.TrainStep(inputs, labels);
            var w = new float[Scores.M * Scores.K];
            var x = new float[Scores.K * Scores.N];
            var d = new float[Scores.M * Scores.N];
            for (int i = 0; i < w.Length; i++) w[i] = i % 3;
            for (int i = 0; i < x.Length; i++) x[i] = 1;
            Scores.Forward(w, x, d);
            Console.WriteLine($"AOT dynamic code: {System.Runtime.CompilerServices.RuntimeFeature.IsDynamicCodeSupported}");
            Console.WriteLine(last < first / 4 && net.Accuracy(inputs, labels) == 1 && d[0] == 9 ? $"AOT OK {first:F3} -> {last:F3}" : $"AOT BAD {first} {last} {d[0]}");

            // The interchange formats: safetensors both ways (the JSON header is read without reflection) and ONNX export.
            var file = new System.IO.MemoryStream();
            net.SaveSafetensors(file);
            var copy = new Net(seed: 2);
            file.Position = 0;
            copy.LoadSafetensors(file);
            bool same = net.Parameters.SequenceEqual(copy.Parameters);
            string refused = "no error";
            try { copy.LoadSafetensors(new System.IO.MemoryStream(new byte[] { 8, 0, 0, 0, 0, 0, 0, 0, (byte)'{', (byte)'"', (byte)'x', (byte)'"', (byte)':', (byte)'1', (byte)'}', (byte)' ' })); }
            catch (System.IO.InvalidDataException e) { refused = e.Message; }
            var onnx = new System.IO.MemoryStream();
            net.ExportOnnx(onnx);
            byte[] model = onnx.ToArray();
            Console.WriteLine(same && refused.Contains("malformed JSON header") && model.Length > 400 && model[0] == 0x08 && model[1] == 7 ? "INTERCHANGE OK" : $"INTERCHANGE BAD {same} {refused} {model.Length}");

            [MatMul(5, 10, 3)] partial class Scores;
            [Linear(4, 8), ReLU, Linear(8, 3), SoftmaxCrossEntropy] partial class Net;
            """,
            extraProperties: "<PublishAot>true</PublishAot><DefineConstants>$(DefineConstants);STATICGRAD_KEEP_ATTRIBUTES</DefineConstants>");

        var publish = DotNetCli.Run(root, $"publish -c Release -r linux-x64 -o out -p:CppCompilerAndLinker={linker} --disable-build-servers", timeoutSeconds: 900);
        output.WriteLine(publish.Output);
        Assert.True(publish.ExitCode == 0, publish.ToString());
        Assert.DoesNotMatch(@"warning (IL|SYSLIB)\d+", publish.Output);

        var run = NativeToolchain.RunExecutable(Path.Combine(root, "out", Path.GetFileName(root)));
        output.WriteLine(run.Output);
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("AOT dynamic code: False", run.Output); // really the native binary, not a JIT run
        Assert.Matches(@"AOT OK \d+\.\d+ -> \d+\.\d+", run.Output);
        Assert.Contains("INTERCHANGE OK", run.Output);
    }

    [FullTierFact]
    public void NetStandard20Library_WithSystemMemory_BuildsWithoutWarnings_AndItsPlainCodeComputesCorrectly()
    {
        // netstandard2.0 has no Vector256, MathF or BitConverter.SingleToInt32Bits, so StaticGrad writes its plain code path;
        // a .NET app then runs that code and checks it against its own loops.
        string root = package.NewWorkspaceWithMachineFeeds("netstandard");
        WriteProject(Path.Combine(root, "Lib"), "Library", Array.Empty<string>(), """
            using StaticGrad;
            namespace Lib;
            [MatMul(5, 10, 3)] public partial class Small;
            [MatMul<double>(24, 20, 16)] public partial class Looped;
            [Linear(4, 8), ReLU, Linear(8, 8), Sigmoid, Linear(8, 3), SoftmaxCrossEntropy] public partial class Net;
            [Linear<double>(3, 5), Tanh, Linear<double>(5, 2), MeanSquaredError] public partial class Regression;
            """,
            extraProperties: "<LangVersion>latest</LangVersion>",
            targetFramework: "netstandard2.0",
            extraItems: """<PackageReference Include="System.Memory" Version="4.6.3" />""");
        WriteProject(Path.Combine(root, "App"), "Exe", new[] { "../Lib/Lib.csproj" }, """
            using System;
            using System.Linq;
            using Lib;

            var random = new Random(3);
            bool ok = true;

            // MatMul: D = W·X, dW = dD·Xᵀ, dX = Wᵀ·dD against plain loops, element by element.
            double[] w = Values(24 * 20), x = Values(20 * 16), dD = Values(24 * 16);
            double[] d = new double[24 * 16], dW = new double[24 * 20], dX = new double[20 * 16];
            Looped.Forward(w, x, d);
            Looped.Backward(w, x, dD, dW, dX);
            for (int i = 0; i < 24; i++)
                for (int j = 0; j < 16; j++)
                    ok &= Close(d[i * 16 + j], Enumerable.Range(0, 20).Sum(k => w[i * 20 + k] * x[k * 16 + j]));
            for (int i = 0; i < 24; i++)
                for (int k = 0; k < 20; k++)
                    ok &= Close(dW[i * 20 + k], Enumerable.Range(0, 16).Sum(j => dD[i * 16 + j] * x[k * 16 + j]));
            for (int k = 0; k < 20; k++)
                for (int j = 0; j < 16; j++)
                    ok &= Close(dX[k * 16 + j], Enumerable.Range(0, 24).Sum(i => w[i * 20 + k] * dD[i * 16 + j]));
            float[] ws = Values(50).Select(v => (float)v).ToArray(), xs = Values(30).Select(v => (float)v).ToArray(), ds = new float[15];
            Small.Forward(ws, xs, ds);
            ok &= Math.Abs(ds[4] - Enumerable.Range(0, 10).Sum(k => (double)ws[10 + k] * xs[k * 3 + 1])) < 1e-5;

            // A network on the plain path trains, and its float parameters survive Save/Load bit for bit.
            var net = new Net(seed: 1, maxBatchSize: 4);
            net.UseAdam(0.05f);
            float[] inputs = { 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1 };
            int[] labels = { 0, 1, 2, 0 };
            float first = net.TrainStep(inputs, labels), last = first;
            for (int i = 0; i < 200; i++) last = net.TrainStep(inputs, labels);
            ok &= last < first / 4 && net.Accuracy(inputs, labels) == 1;
            string file = System.IO.Path.Combine(System.IO.Path.GetTempPath(), Guid.NewGuid().ToString("N") + ".sgrd");
            net.Save(file);
            var copy = new Net(seed: 2);
            copy.Load(file);
            System.IO.File.Delete(file);
            ok &= copy.Parameters.ToArray().Select(BitConverter.SingleToInt32Bits).SequenceEqual(net.Parameters.ToArray().Select(BitConverter.SingleToInt32Bits));

            var regression = new Regression(seed: 1, maxBatchSize: 2);
            regression.UseSgd(0.1);
            double[] points = { 1, 2, 3, -1, 0, 1 }, targets = { 0.5, -0.5, -0.25, 0.25 };
            double before = regression.TrainStep(points, targets), after = before;
            for (int i = 0; i < 100; i++) after = regression.TrainStep(points, targets);
            ok &= after < before;

            Console.WriteLine(ok ? $"NS20 OK {first:F3} -> {last:F3}" : "NS20 BAD");

            double[] Values(int n) => Enumerable.Range(0, n).Select(_ => random.NextDouble() * 2 - 1).ToArray();
            static bool Close(double a, double b) => Math.Abs(a - b) <= 1e-12 * (1 + Math.Abs(b));
            """);

        var build = DotNetCli.Run(Path.Combine(root, "App"), "build -c Release --disable-build-servers");
        output.WriteLine(build.Output);
        Assert.True(build.ExitCode == 0, build.ToString());
        Assert.Matches(@"\b0 Warning\(s\)", build.Output);

        var run = DotNetCli.Run(Path.Combine(root, "App"), "run -c Release --no-build");
        output.WriteLine(run.Output);
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("NS20 OK", run.Output);
    }

    private void WriteProject(
        string directory, string outputType, string[] projectReferences, string program, string extraProperties = "", string targetFramework = "net10.0", string extraItems = "")
    {
        Directory.CreateDirectory(directory);
        string references = string.Join(Environment.NewLine, projectReferences.Select(r => $"""    <ProjectReference Include="{r}" />"""));
        File.WriteAllText(Path.Combine(directory, Path.GetFileName(directory) + ".csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>{outputType}</OutputType>
                <TargetFramework>{targetFramework}</TargetFramework>
                <Nullable>enable</Nullable>
                <TreatWarningsAsErrors>true</TreatWarningsAsErrors>
                {extraProperties}
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="StaticGrad" Version="{package.Version}" />
                {extraItems}
            {references}
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
    private readonly System.Collections.Generic.List<string> _extraFolders = new();

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

    /// <summary>
    /// A folder outside the fixture's root (whose nuget.config clears every feed), with a nuget.config that adds the
    /// package's folder to the machine's own feeds: for projects that also need packages StaticGrad does not ship.
    /// </summary>
    public string NewWorkspaceWithMachineFeeds(string name)
    {
        string path = _root + "-" + name;
        Directory.CreateDirectory(path);
        _extraFolders.Add(path);
        File.WriteAllText(Path.Combine(path, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <add key="staticgrad-test" value="{Path.Combine(_root, "feed")}" />
              </packageSources>
            </configuration>
            """);
        return path;
    }

    /// <summary>Runs dotnet with a private package cache, so restore reads the package from the local folder.</summary>
    public DotNetCli.Result Dotnet(string directory, string arguments) =>
        DotNetCli.Run(directory, arguments, packagesFolder: Path.Combine(_root, "packages"));

    public void Dispose()
    {
        // The Native AOT test restores through the machine's package folder; take this run's StaticGrad version out again.
        string globalPackages = Environment.GetEnvironmentVariable("NUGET_PACKAGES")
            ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        _extraFolders.Add(Path.Combine(globalPackages, "staticgrad", Version));

        foreach (string folder in _extraFolders.Where(Directory.Exists).Append(_root))
        {
            try
            {
                Directory.Delete(folder, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }
}
