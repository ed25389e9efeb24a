using System.Threading.Tasks;
using StaticGrad.CodeFixes;
using Xunit;
using static StaticGrad.Tests.Infrastructure.Verifiers;

namespace StaticGrad.Tests.Diagnostics;

/// <summary>Every network diagnostic: id, exact span, and the numbers in the message.</summary>
public class NetworkDiagnosticTests
{
    [Fact]
    public Task ValidNetworks_ReportNothing() => VerifyAnalyzerAsync("""
        using StaticGrad;

        [Linear(64, 32), ReLU, Linear(32, 10), SoftmaxCrossEntropy]
        public partial class DigitNet;

        [Linear<double>(4, 8), Tanh, Linear<double>(8, 3), MulticlassSvm(Margin = 0.5)]
        public partial class IrisSvm;

        [Linear(3, 1, Bias = false), Sigmoid]
        public partial class NoLoss;

        [Linear(2, 2), Linear<float>(2, 1), MeanSquaredError]
        public partial class MixedSpellingsOfFloat;
        """);

    [Fact]
    public Task SGR0003_InputDoesNotChain_PointsAtInputsArgument() => VerifyAnalyzerAsync(
        """
        using StaticGrad;

        [Linear(64, 32), ReLU, Linear({|#0:30|}, 10), SoftmaxCrossEntropy]
        public partial class DigitNet;
        """,
        Diagnostic("SGR0003").WithLocation(0).WithArguments("Linear(30, 10)", "30 inputs", "ReLU after Linear(64, 32)", "32"));

    [Fact]
    public Task SGR0003_DirectlyAfterLinear() => VerifyAnalyzerAsync(
        """
        using StaticGrad;

        [Linear<double>(4, 8), Linear<double>({|#0:inputs: 9|}, 3)]
        public partial class Net;
        """,
        Diagnostic("SGR0003").WithLocation(0).WithArguments("Linear(9, 3)", "9 inputs", "Linear(4, 8)", "8"));

    [Fact]
    public Task SGR0003_CodeFix_ChangesInputToTheChainedSize() => VerifyCodeFixAsync<ChainLayerInputCodeFix>(
        """
        using StaticGrad;

        [Linear(64, 32), ReLU, Linear({|#0:30|}, 10), SoftmaxCrossEntropy]
        public partial class DigitNet;
        """,
        """
        using StaticGrad;

        [Linear(64, 32), ReLU, Linear(32, 10), SoftmaxCrossEntropy]
        public partial class DigitNet;
        """,
        Diagnostic("SGR0003").WithLocation(0).WithArguments("Linear(30, 10)", "30 inputs", "ReLU after Linear(64, 32)", "32"));

    [Fact]
    public Task SGR0001_LinearDimension() => VerifyAnalyzerAsync(
        """
        using StaticGrad;

        [Linear(4, {|#0:0|})]
        public partial class Net;
        """,
        Diagnostic("SGR0001").WithLocation(0).WithArguments("Linear", "outputs", 0));

    [Fact]
    public Task SGR0011_ClassificationLossNeedsTwoOutputs() => VerifyAnalyzerAsync(
        """
        using StaticGrad;

        [Linear(4, 1), {|#0:SoftmaxCrossEntropy|}]
        public partial class Net;
        """,
        Diagnostic("SGR0011").WithLocation(0).WithArguments("SoftmaxCrossEntropy", 1));

    [Fact]
    public Task SGR0012_LossNotLast() => VerifyAnalyzerAsync(
        """
        using StaticGrad;

        [Linear(4, 3), {|#0:MulticlassSvm|}, ReLU]
        public partial class Net;
        """,
        Diagnostic("SGR0012").WithLocation(0).WithArguments("MulticlassSvm", "ReLU"));

    [Fact]
    public Task SGR0013_LayersSplitAcrossDeclarations() => VerifyAnalyzerAsync(
        """
        using StaticGrad;

        [Linear(4, 3)]
        public partial class Net;

        [{|#0:ReLU|}]
        public partial class Net;
        """,
        Diagnostic("SGR0013").WithLocation(0).WithArguments("Net"));

    [Fact]
    public Task SGR0014_NetworkWithoutLinear() => VerifyAnalyzerAsync(
        """
        using StaticGrad;

        [{|#0:ReLU|}, MeanSquaredError]
        public partial class Net;
        """,
        Diagnostic("SGR0014").WithLocation(0).WithArguments("Net", "starts with ReLU"));

    [Fact]
    public Task SGR0015_MixedElementTypes() => VerifyAnalyzerAsync(
        """
        using StaticGrad;

        [Linear(4, 3), Linear<{|#0:double|}>(3, 2)]
        public partial class Net;
        """,
        Diagnostic("SGR0015").WithLocation(0).WithArguments("Linear<double>", "double", "float"));

    [Fact]
    public Task SGR0007_LinearOfInt() => VerifyAnalyzerAsync(
        """
        using StaticGrad;

        [Linear<{|#0:int|}>(4, 3)]
        public partial class Net;
        """,
        Diagnostic("SGR0007").WithLocation(0).WithArguments("Linear<T>", "int"));

    [Fact]
    public Task SGR0006_UserMemberNamedLikeGeneratedOne() => VerifyAnalyzerAsync(
        """
        using StaticGrad;

        [Linear(4, 3), SoftmaxCrossEntropy]
        public partial class Net
        {
            public int {|#0:Predict|}() => 0;
            private float[] {|#1:Layer0Weight|} = new float[12];
        }
        """,
        Diagnostic("SGR0006").WithLocation(0).WithArguments("Net", "Predict", "Linear(4, 3)"),
        Diagnostic("SGR0006").WithLocation(1).WithArguments("Net", "Layer0Weight", "Linear(4, 3)"));

    [Fact]
    public Task SGR0005_StaticNetwork() => VerifyAnalyzerAsync(
        """
        using StaticGrad;

        [Linear(4, 3)]
        public static partial class {|#0:Net|};
        """,
        Diagnostic("SGR0005").WithLocation(0).WithArguments("Net", "a network is an instance class that owns its parameters, and this class is static"));

    [Fact]
    public Task SGR0009_MatMulAndNetworkOnOneType() => VerifyAnalyzerAsync(
        """
        using StaticGrad;

        [{|#0:MatMul(1, 2, 3)|}]
        [Linear(4, 3)]
        public partial class Both;
        """,
        Diagnostic("SGR0009").WithLocation(0).WithArguments("Both", "Linear(4, 3)"));

    [Fact]
    public Task SGR0002_NetworkNotPartial() => VerifyAnalyzerAsync(
        """
        using StaticGrad;

        [Linear(4, 3)]
        public class {|#0:Net|} { }
        """,
        Diagnostic("SGR0002").WithLocation(0).WithArguments("Net", ""));

    [Fact]
    public Task SGR0017_ConstructorThatDoesNotChain() => VerifyAnalyzerAsync(
        """
        using StaticGrad;

        [Linear(4, 3)]
        public partial class Net
        {
            public Net(string name) { Name = name; }
            public string Name { get; }
        }
        """,
        Diagnostic("SGR0017").WithSpan(6, 12, 6, 15).WithArguments("Net"));

    [Fact]
    public Task SGR0006_InheritedMembers_OneDiagnosticOnTheBaseList() => VerifyAnalyzerAsync(
        """
        using StaticGrad;

        public abstract class Model
        {
            public int Parameters => 0;
            public void Save(string path) { }
            public int Layer0Weight;
            public void Forward(int value) { }
            public abstract int Other { get; }
        }

        [Linear(4, 2)]
        public partial class Net : {|#0:Model|}
        {
            public override int Other => 1;
        }
        """,
        new Microsoft.CodeAnalysis.Testing.DiagnosticResult(StaticGrad.Generators.Diagnostics.DiagnosticDescriptors.InheritedMemberCollision)
            .WithLocation(0).WithArguments("Net", "'Parameters', 'Save', 'Layer0Weight', 'Forward'", "Model", "Linear(4, 2)"));
}
