using System.IO;
using System.Linq;
using Xunit;
using Xunit.Abstractions;

namespace StaticGrad.Tests.Onnx;

public sealed class FromOnnxScratchTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("mlp.opset13.onnx")]
    [InlineData("cnn.opset17.onnx")]
    [InlineData("residual.opset13.onnx")]
    public void Scratch(string file)
    {
        string source = $$"""using StaticGrad; [FromOnnx("models/{{file}}", Loss = Loss.MeanSquaredError)] public partial class Imported;""";
        var copy = FromOnnxHarness.Copy("models/" + file, File.ReadAllBytes(FromOnnxHarness.GoldenPath(file)));
        var (compilation, result, diagnostics) = FromOnnxHarness.Generate(source, copy);
        output.WriteLine(string.Join("\n", diagnostics));
        output.WriteLine(string.Join("\n", FromOnnxHarness.Analyze(source, copy)));
        foreach (var tree in result.GeneratedTrees.Take(1)) output.WriteLine(tree.ToString().Substring(0, System.Math.Min(6000, tree.ToString().Length)));
        output.WriteLine(string.Join("\n", compilation.GetDiagnostics().Where(d => d.Severity >= Microsoft.CodeAnalysis.DiagnosticSeverity.Warning)));
        FromOnnxHarness.Load(source, copy);
    }
}
