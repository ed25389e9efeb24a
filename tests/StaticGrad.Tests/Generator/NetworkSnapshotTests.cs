using System.Linq;
using StaticGrad.Tests.Infrastructure;
using Xunit;

namespace StaticGrad.Tests.Generator;

/// <summary>Generated network classes, one per loss (and one without), compared with committed snapshots; each must compile without warnings.</summary>
public class NetworkSnapshotTests
{
    [Fact]
    public void SoftmaxCrossEntropy_Mlp() => VerifyAll("""
        using StaticGrad;

        namespace Digits;

        [Linear(64, 32), ReLU, Linear(32, 10), SoftmaxCrossEntropy]
        public partial class DigitNet;
        """);

    [Fact]
    public void Cnn_EveryImageLayer() => VerifyAll("""
        using StaticGrad;

        namespace Vision;

        [Input(1, 12, 12), Conv2d(1, 4, 3, Padding = 1), ReLU, MaxPool2d(2), Conv2d(4, 8, 3, Stride = 2), AvgPool2d(2), Flatten, Dropout(0.25), Linear(8, 3), SoftmaxCrossEntropy]
        public partial class SmallCnn;
        """);

    [Fact]
    public void MulticlassSvm_Linear_Double() => VerifyAll("""
        using StaticGrad;

        namespace Digits;

        [Linear<double>(64, 10), MulticlassSvm(Margin = 1.0)]
        public partial class DigitSvm;
        """);

    [Fact]
    public void MeanSquaredError_SigmoidTanh_NoBias() => VerifyAll("""
        using StaticGrad;

        namespace Regression;

        public static partial class Models
        {
            [Linear(3, 4, Bias = false), Sigmoid, Linear(4, 4), Tanh, Linear(4, 2), MeanSquaredError]
            internal partial class Smooth;
        }
        """);

    [Fact]
    public void NoLoss() => VerifyAll("""
        using StaticGrad;

        [Linear(2, 3), ReLU]
        public partial class Features;
        """);

    private static void VerifyAll(string source, [System.Runtime.CompilerServices.CallerMemberName] string method = "")
    {
        var (output, result) = TestCompilation.Generate(TestCompilation.Create(source));

        var problems = TestCompilation.ErrorsAndWarnings(output);
        Assert.True(problems.Count == 0, "Generated code must compile without warnings:\n" + TestCompilation.Describe(problems));

        var generated = result.Results.Single().GeneratedSources;
        Assert.NotEmpty(generated);
        foreach (var file in generated.OrderBy(g => g.HintName, System.StringComparer.Ordinal))
        {
            Snapshot.Match(file.SourceText.ToString(), file.HintName, method: method);
        }
    }
}
