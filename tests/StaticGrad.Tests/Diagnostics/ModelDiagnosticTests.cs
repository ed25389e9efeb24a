using System.Threading.Tasks;
using Xunit;
using static StaticGrad.Tests.Infrastructure.Verifiers;

namespace StaticGrad.Tests.Diagnostics;

/// <summary>Models written as C#: every shape mistake and unsupported construct is an error on the exact expression, in words.</summary>
public class ModelDiagnosticTests
{
    private const string Block = """
        [Module]
        public partial class Block
        {
            readonly Conv2d conv;
            readonly BatchNorm2d bn;

            public Block(int input, int output)
            {
                conv = new Conv2d(input, output, 3, padding: 1, bias: false);
                bn = new BatchNorm2d(output);
            }

            public Tensor Forward(Tensor x)
            {
                var h = Relu(bn.Forward(conv.Forward(x)));
                return {|#0:x + h|};
            }
        }
        """;

    [Fact]
    public Task TheIssueExamples_ReportNothing() => VerifyAnalyzerAsync("""
        using StaticGrad;
        using static StaticGrad.Functional;

        [Module]
        public partial class ResidualBlock
        {
            readonly Conv2d conv1, conv2;
            readonly BatchNorm2d bn1, bn2;

            public ResidualBlock(int channels)
            {
                conv1 = new Conv2d(channels, channels, 3, padding: 1, bias: false);
                bn1 = new BatchNorm2d(channels);
                conv2 = new Conv2d(channels, channels, 3, padding: 1, bias: false);
                bn2 = new BatchNorm2d(channels);
            }

            public Tensor Forward(Tensor x)
            {
                var h = Relu(bn1.Forward(conv1.Forward(x)));
                h = bn2.Forward(conv2.Forward(h));
                return Relu(x + h);
            }
        }

        [Model(Loss = Loss.SoftmaxCrossEntropy)]
        public partial class FashionResNet
        {
            readonly Conv2d stem = new(1, 32, 3, padding: 1);
            readonly BatchNorm2d bn = new(32);
            readonly ResidualBlock block1 = new(32), block2 = new(32);
            readonly Linear head = new(32 * 7 * 7, 10);

            public Tensor Forward([Shape(1, 28, 28)] Tensor x)
            {
                var h = MaxPool2d(Relu(bn.Forward(stem.Forward(x))), 2);   // 32×14×14
                h = MaxPool2d(block2.Forward(block1.Forward(h)), 2);       // 32×7×7
                return head.Forward(h.Flatten());
            }
        }
        """);

    [Fact]
    public Task SGR0021_AddingDifferentChannels_IsAnErrorOnTheAddition() => VerifyAnalyzerAsync(
        $$"""
        using StaticGrad;
        using static StaticGrad.Functional;

        {{Block}}

        [Model(Loss = Loss.SoftmaxCrossEntropy)]
        public partial class Net
        {
            readonly Block block = new(32, 16);
            readonly Linear head = new(16 * 14 * 14, 10);

            public Tensor Forward([Shape(32, 14, 14)] Tensor x) => head.Forward(block.Forward(x).Flatten());
        }
        """,
        Diagnostic("SGR0021").WithLocation(0).WithArguments("cannot add 32×14×14 and 16×14×14: dimension 0 (channels) differs (32 and 16), and neither is 1 to broadcast"));

    [Fact]
    public Task SGR0021_ALinearThatDoesNotFit_NamesTheModuleAndBothSizes() => VerifyAnalyzerAsync(
        """
        using StaticGrad;
        using static StaticGrad.Functional;

        [Model(Loss = Loss.SoftmaxCrossEntropy)]
        public partial class Net
        {
            readonly Conv2d conv = new(1, 8, 3);
            readonly Linear head = new({|#1:8 * 28 * 28|}, 10);

            public Tensor Forward([Shape(1, 28, 28)] Tensor x)
            {
                var h = Relu(conv.Forward(x));
                return {|#0:head.Forward(h.Flatten())|};
            }
        }
        """,
        Diagnostic("SGR0021").WithLocation(0).WithLocation(1).WithArguments("head: Linear(6272, 10) expects 6272 features, but receives 5408"));

    [Fact]
    public Task SGR0021_CodeFix_WritesTheSizeTheModuleReceives() => VerifyCodeFixAsync<StaticGrad.CodeFixes.ModelArgumentCodeFix>(
        """
        using StaticGrad;
        using static StaticGrad.Functional;

        [Model(Loss = Loss.SoftmaxCrossEntropy)]
        public partial class Net
        {
            readonly Conv2d conv = new(1, 8, 3);
            readonly BatchNorm2d bn = new({|#1:16|});
            readonly Linear head = new(8 * 26 * 26, 10);

            public Tensor Forward([Shape(1, 28, 28)] Tensor x) => head.Forward(Relu({|#0:bn.Forward(conv.Forward(x))|}).Flatten());
        }
        """,
        """
        using StaticGrad;
        using static StaticGrad.Functional;

        [Model(Loss = Loss.SoftmaxCrossEntropy)]
        public partial class Net
        {
            readonly Conv2d conv = new(1, 8, 3);
            readonly BatchNorm2d bn = new(8);
            readonly Linear head = new(8 * 26 * 26, 10);

            public Tensor Forward([Shape(1, 28, 28)] Tensor x) => head.Forward(Relu(bn.Forward(conv.Forward(x))).Flatten());
        }
        """,
        Diagnostic("SGR0021").WithLocation(0).WithLocation(1).WithArguments("bn: BatchNorm2d(16) expects 16 channels, but receives 8×26×26: dimension 0 (channels) is 8"));

    [Fact]
    public Task SGR0021_ASizeFromAConstructorParameter_HasNoFix() => VerifyAnalyzerAsync(
        """
        using StaticGrad;

        [Module]
        public partial class Head
        {
            readonly Linear fc;

            public Head(int features) => fc = new Linear(features, 2);

            public Tensor Forward(Tensor x) => {|#0:fc.Forward(x)|};
        }

        [Model]
        public partial class Net
        {
            readonly Head head = new(5);

            public Tensor Forward([Shape(4)] Tensor x) => head.Forward(x);
        }
        """,
        Diagnostic("SGR0021").WithLocation(0).WithArguments("head.fc: Linear(5, 2) expects 5 features, but receives 4"));

    [Fact]
    public Task SGR0021_AnImageLayerOnAVector() => VerifyAnalyzerAsync(
        """
        using StaticGrad;
        using static StaticGrad.Functional;

        [Model]
        public partial class Net
        {
            public Tensor Forward([Shape(64)] Tensor x) => {|#0:MaxPool2d(x, 2)|};
        }
        """,
        Diagnostic("SGR0021").WithLocation(0).WithArguments("MaxPool2d(2) expects an image C×H×W, but receives 64"));

    [Fact]
    public Task SGR0021_CrossEntropyNeedsScores() => VerifyAnalyzerAsync(
        """
        using StaticGrad;

        [Model(Loss = Loss.SoftmaxCrossEntropy)]
        public partial class Net
        {
            readonly Conv2d conv = new(1, 2, 3);

            public Tensor {|#0:Forward|}([Shape(1, 5, 5)] Tensor x) => conv.Forward(x);
        }
        """,
        Diagnostic("SGR0021").WithLocation(0).WithArguments("SoftmaxCrossEntropy needs one score per class (at least 2 per example), or per position (positions×classes, a label for each), but Net.Forward returns 2×3×3"));

    [Fact]
    public Task SGR0024_ALossOnAModelOfTwoOutputs_SaysToComputeTheLossesAndCallBackward() => VerifyAnalyzerAsync("""
        using StaticGrad;

        [Model(Loss = Loss.MeanSquaredError)]
        public partial class Net
        {
            readonly Linear a = new(4, 2), b = new(4, 3);

            public (Tensor Scores, Tensor Value) {|#0:Forward|}([Shape(4)] Tensor x) => (a.Forward(x), b.Forward(x));
        }
        """,
        Diagnostic("SGR0024").WithLocation(0).WithArguments("Loss.MeanSquaredError needs one output, but Net.Forward returns 2 (scores, value); leave Loss out and compute each output's loss and gradient (StaticGrad.Kernels.Losses), then call Backward with every gradient and Step"));

    [Fact]
    public Task SGR0022_ReturningOneValueTwice_IsAnErrorOnForward() => VerifyAnalyzerAsync("""
        using StaticGrad;
        using static StaticGrad.Functional;

        [Model]
        public partial class Net
        {
            readonly Linear a = new(4, 2);

            public (Tensor, Tensor) {|#0:Forward|}([Shape(4)] Tensor x)
            {
                var h = Tanh(a.Forward(x));
                return (h, h);
            }
        }
        """,
        Diagnostic("SGR0022").WithLocation(0).WithArguments("Net.Forward returns the same value as 'output1' and 'output2'; return it once"));

    [Fact]
    public Task SGR0022_AnOutputNamedLikeTheInput_IsAnErrorOnForward() => VerifyAnalyzerAsync("""
        using StaticGrad;

        [Model]
        public partial class Net
        {
            readonly Linear a = new(4, 2), b = new(4, 3);

            public (Tensor X, Tensor Y) {|#0:Forward|}([Shape(4)] Tensor x) => (a.Forward(x), b.Forward(x));
        }
        """,
        Diagnostic("SGR0022").WithLocation(0).WithArguments("the output 'x' of Net.Forward takes a name the generated members or the exported ONNX graph give an input (a span parameter, 'XSize' or the ONNX name of the input 'x'); rename the tuple element"));

    [Fact]
    public Task SGR0022_ATupleWithSomethingElseThanTensors_IsAnErrorOnForward() => VerifyAnalyzerAsync("""
        using StaticGrad;

        [Model]
        public partial class Net
        {
            readonly Linear a = new(4, 2);

            public (Tensor Scores, int Count) {|#0:Forward|}([Shape(4)] Tensor x) => (a.Forward(x), 3);
        }
        """,
        Diagnostic("SGR0022").WithLocation(0).WithArguments("Net.Forward returns a tuple of 2; a [Model]'s Forward returns a Tensor, or a tuple of Tensors such as '(Tensor Scores, Tensor Value)'"));

    [Fact]
    public Task SGR0022_AWhileLoop_IsNotSupported() => VerifyAnalyzerAsync(
        """
        using StaticGrad;
        using static StaticGrad.Functional;

        [Model]
        public partial class Net
        {
            public Tensor Forward([Shape(4)] Tensor x)
            {
                {|#0:while (x.Size(0) > 8)
                {
                    x = Relu(x);
                }|}

                return x;
            }
        }
        """,
        Diagnostic("SGR0022").WithLocation(0).WithArguments("the statement 'while (x.Size(0) > 8) { x = Relu(x); }' (WhileStatement); a forward pass may declare locals, assign, loop with constant bounds, and return"));

    [Fact]
    public Task SGR0022_AModuleCreatedInForward() => VerifyAnalyzerAsync(
        """
        using StaticGrad;

        [Model]
        public partial class Net
        {
            public Tensor Forward([Shape(4)] Tensor x) => {|#0:new Linear(4, 2).Forward(x)|};
        }
        """,
        Diagnostic("SGR0022").WithLocation(0).WithArguments("Linear(4, 2) is created inside the forward pass; create modules in fields or the constructor, so that they own their parameters"));

    [Fact]
    public Task SGR0023_NegativePadding_IsOnTheArgument() => VerifyAnalyzerAsync(
        """
        using StaticGrad;

        [Model]
        public partial class Net
        {
            readonly Conv2d conv = new(1, 2, 3, {|#0:padding: -1|});

            public Tensor Forward([Shape(1, 8, 8)] Tensor x) => conv.Forward(x);
        }
        """,
        Diagnostic("SGR0023").WithLocation(0).WithArguments("padding must be 0 or more, got -1"));

    [Fact]
    public Task SGR0024_AnInputWithoutShape() => VerifyAnalyzerAsync(
        """
        using StaticGrad;

        [Model]
        public partial class Net
        {
            readonly Linear fc = new(4, 2);

            public Tensor Forward(Tensor {|#0:x|}) => fc.Forward(x);
        }
        """,
        Diagnostic("SGR0024").WithLocation(0).WithArguments("the input 'x' of Net.Forward must be a Tensor (floats) or Tokens (int ids) with its shape per example, e.g. '[Shape(1, 28, 28)] Tensor x' or '[Shape(64)] Tokens x'"));

    [Fact]
    public Task SGR0024_AModelConstructorWithParameters() => VerifyAnalyzerAsync(
        """
        using StaticGrad;

        [Model]
        public partial class Net
        {
            readonly Linear fc;

            public {|#0:Net|}(int width) => fc = new Linear(4, width);

            public Tensor Forward([Shape(4)] Tensor x) => fc.Forward(x);
        }
        """,
        Diagnostic("SGR0024").WithLocation(0).WithArguments("'Net' declares a constructor with parameters; a [Model] is created by its generated constructor (seed, maxBatchSize), so its modules must be built from constants (declare no constructor, or one without parameters)"));

    [Fact]
    public Task SGR0006_AMemberNamedLikeAGeneratedOne() => VerifyAnalyzerAsync(
        """
        using StaticGrad;

        [Model]
        public partial class Net
        {
            readonly Linear fc = new(4, 2);

            public int {|#0:TrainStep|}() => 0;

            public Tensor Forward([Shape(4)] Tensor x) => fc.Forward(x);
        }
        """,
        Diagnostic("SGR0006").WithLocation(0).WithArguments("Net", "TrainStep", "Model"));

    [Fact]
    public Task SGR0006_MembersNamedLikeTheGeneratedPrivateOnes() => VerifyAnalyzerAsync(
        """
        using StaticGrad;

        [Model]
        public partial class Net
        {
            readonly Linear fc = new(4, 2);
            private bool {|#0:_training|};
            private float[] {|#1:_v1|} = new float[2];
            private int _value, _vector;

            private void {|#2:Node1Forward|}() { }

            private struct {|#3:Linear4To2ForwardProduct|} { }

            public Tensor Forward([Shape(4)] Tensor x) => fc.Forward(x);
        }
        """,
        Diagnostic("SGR0006").WithLocation(0).WithArguments("Net", "_training", "Model"),
        Diagnostic("SGR0006").WithLocation(1).WithArguments("Net", "_v1", "Model"),
        Diagnostic("SGR0006").WithLocation(2).WithArguments("Net", "Node1Forward", "Model"),
        Diagnostic("SGR0006").WithLocation(3).WithArguments("Net", "Linear4To2ForwardProduct", "Model"));
}
