using System;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text.Json;
using System.Text.RegularExpressions;
using Xunit;

namespace StaticGrad.Tests.Package;

/// <summary>
/// [FromOnnx] in a fresh console project of the packed package: the .onnx file is only an AdditionalFiles item (the package's
/// build targets hand it to the generator), the project builds without warnings, predicts as PyTorch does and trains as
/// PyTorch does (the CNN with BatchNorm of make_onnx_fixtures.py); a path that is not an item fails the build with SGR0025 at
/// the argument.
/// </summary>
public partial class PackageConsumptionTests
{
    private static string Floats(JsonElement array) =>
        string.Join(", ", array.EnumerateArray().Select(e => ((float)e.GetDouble()).ToString("R", CultureInfo.InvariantCulture) + "f"));

    [Fact]
    public void FromOnnx_PyTorchCnn_BuildsWithoutWarnings_PredictsAndTrainsAsPyTorch()
    {
        string golden = Path.Combine(AppContext.BaseDirectory, "Onnx", "Golden");
        JsonElement expected = JsonDocument.Parse(File.ReadAllText(Path.Combine(golden, "cnn.opset13.golden.json"))).RootElement;
        string root = package.NewWorkspace("fromonnx");
        Directory.CreateDirectory(Path.Combine(root, "models"));
        File.Copy(Path.Combine(golden, "cnn.opset13.onnx"), Path.Combine(root, "models", "digits-cnn.onnx"));
        WriteProject(root, "Exe", Array.Empty<string>(), $$"""
            using System;
            using System.Globalization;
            using System.Linq;
            using StaticGrad;

            float[] x = { {{Floats(expected.GetProperty("input"))}} };
            int[] labels = { {{string.Join(", ", expected.GetProperty("labels").EnumerateArray().Select(e => e.GetInt32()))}} };
            var model = new Cnn(maxBatchSize: 8);
            var scores = new float[8 * Cnn.OutputSize];
            model.Forward(x, scores);
            Console.WriteLine("OUTPUTS " + string.Join(" ", scores.Select(v => v.ToString("R", CultureInfo.InvariantCulture))));
            model.UseSgd({{expected.GetProperty("learning_rate").GetDouble().ToString("R", CultureInfo.InvariantCulture)}});
            Console.WriteLine("LOSSES " + string.Join(" ", Enumerable.Range(0, 10).Select(_ => model.TrainStep(x, labels).ToString("R", CultureInfo.InvariantCulture))));
            Console.WriteLine("NAMES " + string.Join(" ", Cnn.Description.Tensors.Select(t => t.Name)));

            [FromOnnx("models/digits-cnn.onnx", Loss = Loss.SoftmaxCrossEntropy)]
            partial class Cnn;
            """, extraItems: """<AdditionalFiles Include="models/digits-cnn.onnx" />""");

        var build = package.Dotnet(root, "build -c Release --disable-build-servers");
        output.WriteLine(build.Output);
        Assert.True(build.ExitCode == 0, build.ToString());
        Assert.Matches(@"\b0 Warning\(s\)", build.Output);

        var run = package.Dotnet(root, "run -c Release --no-build");
        output.WriteLine(run.Output);
        Assert.True(run.ExitCode == 0, run.ToString());
        float[] Values(string label) => Regex.Match(run.Output, label + " (.+)").Groups[1].Value.Trim().Split(' ').Select(v => float.Parse(v, CultureInfo.InvariantCulture)).ToArray();
        float[] outputs = Values("OUTPUTS"), pytorch = expected.GetProperty("eval_outputs").EnumerateArray().Select(e => (float)e.GetDouble()).ToArray();
        Assert.Equal(pytorch.Length, outputs.Length);
        Assert.All(pytorch.Zip(outputs), p => Assert.True(Math.Abs(p.First - p.Second) <= 1e-5 * Math.Max(1, Math.Abs(p.First)), $"PyTorch {p.First}, StaticGrad {p.Second}"));
        float[] losses = Values("LOSSES"), pytorchLosses = expected.GetProperty("losses").EnumerateArray().Select(e => (float)e.GetDouble()).ToArray();
        Assert.All(pytorchLosses.Zip(losses), p => Assert.True(Math.Abs(p.First - p.Second) <= 1e-4 * Math.Max(1, Math.Abs(p.First)), $"PyTorch loss {p.First}, StaticGrad {p.Second}"));
        Assert.Contains("NAMES conv.weight conv.bias bn.weight bn.bias fc.weight fc.bias", run.Output);
    }

    [FullTierFact]
    public void FromOnnx_PathThatIsNotAnAdditionalFile_FailsTheBuild_WithSgr0025AtTheArgument()
    {
        string root = package.NewWorkspace("fromonnx-missing");
        WriteProject(root, "Library", Array.Empty<string>(), """
            using StaticGrad;

            [FromOnnx("models/missing.onnx")]
            public partial class Missing;
            """);
        var build = package.Dotnet(root, "build -c Release --disable-build-servers");
        output.WriteLine(build.Output);
        Assert.NotEqual(0, build.ExitCode);
        Assert.Contains("Program.cs(3,11): error SGR0025: 'models/missing.onnx' is not an AdditionalFiles item of this project", build.Output);
    }
}
