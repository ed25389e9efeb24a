using System.Threading.Tasks;
using StaticGrad.CodeFixes;
using Xunit;
using static StaticGrad.Tests.Infrastructure.Verifiers;

namespace StaticGrad.Tests.Diagnostics;

/// <summary>Shape errors through a convolutional chain: id, exact span, and the arithmetic in the message.</summary>
public class ConvolutionDiagnosticTests
{
    [Fact]
    public Task ValidImageNetworks_ReportNothing() => VerifyAnalyzerAsync("""
        using StaticGrad;

        [Input(1, 28, 28), Conv2d(1, 16, 3, Padding = 1), ReLU, MaxPool2d(2), Conv2d(16, 32, 3, Padding = 1), ReLU, MaxPool2d(2), Flatten, Linear(32 * 7 * 7, 128), ReLU, Dropout(0.25), Linear(128, 10), SoftmaxCrossEntropy]
        public partial class FashionCnn;

        [Input<double>(3, 9, 8), Conv2d(3, 4, 4, Stride = 3, Padding = 2, Bias = false), AvgPool2d(2, Stride = 1), Conv2d(4, 2, 2)]
        public partial class ConvOnly;
        """);

    [Fact]
    public Task SGR0003_LinearAfterFlatten_GivesTheArithmetic() => VerifyAnalyzerAsync(
        """
        using StaticGrad;

        [Input(1, 28, 28), Conv2d(1, 8, 3), ReLU, MaxPool2d(2), Flatten, Linear({|#0:1000|}, 10), SoftmaxCrossEntropy]
        public partial class Net;
        """,
        Diagnostic("SGR0003").WithLocation(0).WithArguments(
            "Linear(1000, 10)", "1000 inputs", "Flatten", "8×13×13 = 1352 (Conv2d(1, 8, 3) on 1×28×28 gives 8×26×26, MaxPool2d(2) gives 8×13×13)"));

    [Fact]
    public Task SGR0003_AfterFlattenAndDropout_KeepsTheArithmetic() => VerifyAnalyzerAsync(
        """
        using StaticGrad;

        [Input(1, 28, 28), Conv2d(1, 8, 3), MaxPool2d(2), Flatten, Dropout(0.5), Linear({|#0:1000|}, 10)]
        public partial class Net;
        """,
        Diagnostic("SGR0003").WithLocation(0).WithArguments(
            "Linear(1000, 10)", "1000 inputs", "Dropout(0.5)", "8×13×13 = 1352 (Conv2d(1, 8, 3) on 1×28×28 gives 8×26×26, MaxPool2d(2) gives 8×13×13)"));

    [Fact]
    public Task SGR0003_CodeFix_ChangesTheLinearInputToWhatFlattenProduces() => VerifyCodeFixAsync<ChainLayerInputCodeFix>(
        """
        using StaticGrad;

        [Input(1, 28, 28), Conv2d(1, 8, 3), MaxPool2d(2), Flatten, Linear({|#0:1000|}, 10)]
        public partial class Net;
        """,
        """
        using StaticGrad;

        [Input(1, 28, 28), Conv2d(1, 8, 3), MaxPool2d(2), Flatten, Linear(1352, 10)]
        public partial class Net;
        """,
        Diagnostic("SGR0003").WithLocation(0).WithArguments(
            "Linear(1000, 10)", "1000 inputs", "Flatten", "8×13×13 = 1352 (Conv2d(1, 8, 3) on 1×28×28 gives 8×26×26, MaxPool2d(2) gives 8×13×13)"));

    [Fact]
    public Task SGR0003_ChannelsDoNotMatch_WithTheCodeFix() => VerifyCodeFixAsync<ChainLayerInputCodeFix>(
        """
        using StaticGrad;

        [Input(1, 28, 28), Conv2d(1, 8, 3), ReLU, Conv2d({|#0:3|}, 4, 3), Flatten, Linear(4 * 24 * 24, 2)]
        public partial class Net;
        """,
        """
        using StaticGrad;

        [Input(1, 28, 28), Conv2d(1, 8, 3), ReLU, Conv2d(8, 4, 3), Flatten, Linear(4 * 24 * 24, 2)]
        public partial class Net;
        """,
        Diagnostic("SGR0003").WithLocation(0).WithArguments("Conv2d(3, 4, 3)", "3 input channels", "ReLU", "8×26×26, 8 channels"));

    [Fact]
    public Task SGR0020_KernelLargerThanThePaddedInput() => VerifyAnalyzerAsync(
        """
        using StaticGrad;

        [Input(1, 4, 4), Conv2d(1, 2, {|#0:7|}, Padding = 1), Flatten, Linear(2, 2)]
        public partial class Net;
        """,
        Diagnostic("SGR0020").WithLocation(0).WithArguments("Conv2d(1, 2, 7, Padding = 1) needs at least 7×7 after padding, but its input is 1×4×4 (padding 1 gives 6×6)"));

    /// <summary>Found by the image fuzzer's oracle: 5 + 2·int.MaxValue wrapped around to 3 in 32 bits, and the layer was accepted as 2×1×1.</summary>
    [Fact]
    public Task SGR0020_PaddingNearIntMaxValue_DoesNotWrapAround() => VerifyAnalyzerAsync(
        """
        using StaticGrad;

        [Input(1, 5, 5), {|#0:Conv2d(1, 2, 3, Padding = 2147483647)|}, Flatten, Linear(2, 2)]
        public partial class Net;
        """,
        Diagnostic("SGR0020").WithLocation(0).WithArguments("Conv2d(1, 2, 3, Padding = 2147483647) on 1×5×5 needs buffers larger than an array can be (2147483591 elements)"));

    [Fact]
    public Task SGR0020_OutputOfMoreThan2To63Elements_DoesNotWrapAround() => VerifyAnalyzerAsync(
        """
        using StaticGrad;

        [Input(3, 1, 1), {|#0:Conv2d(3, 3, 2, Stride = 2, Padding = 2147483647)|}, Flatten, Linear(3, 4)]
        public partial class Net;
        """,
        Diagnostic("SGR0020").WithLocation(0).WithArguments("Conv2d(3, 3, 2, Stride = 2, Padding = 2147483647) on 3×1×1 needs buffers larger than an array can be (2147483591 elements)"));

    [Fact]
    public Task SGR0020_PoolLargerThanItsInput() => VerifyAnalyzerAsync(
        """
        using StaticGrad;

        [Input(2, 3, 5), MaxPool2d({|#0:4|}), Flatten, Linear(2, 2)]
        public partial class Net;
        """,
        Diagnostic("SGR0020").WithLocation(0).WithArguments("MaxPool2d(4) needs at least 4×4, but its input is 2×3×5"));

    [Fact]
    public Task SGR0020_LinearOnAnImage_AsksForFlatten() => VerifyAnalyzerAsync(
        """
        using StaticGrad;

        [Input(1, 4, 4), Conv2d(1, 2, 3), {|#0:Linear(8, 2)|}]
        public partial class Net;
        """,
        Diagnostic("SGR0020").WithLocation(0).WithArguments("Linear(8, 2) takes a vector, but Conv2d(1, 2, 3) produces an image of 2×2×2: put Flatten before it"));

    [Fact]
    public Task SGR0020_ImageLayerAfterFlatten() => VerifyAnalyzerAsync(
        """
        using StaticGrad;

        [Input(1, 4, 4), Flatten, {|#0:MaxPool2d(2)|}, Linear(16, 2)]
        public partial class Net;
        """,
        Diagnostic("SGR0020").WithLocation(0).WithArguments("MaxPool2d(2) works on images (channels × height × width), but Flatten produces a vector of 16"));

    [Fact]
    public Task SGR0020_ConvolutionWithoutInput() => VerifyAnalyzerAsync(
        """
        using StaticGrad;

        [Linear(4, 16), {|#0:Conv2d(1, 2, 3)|}]
        public partial class Net;
        """,
        Diagnostic("SGR0020").WithLocation(0).WithArguments("Conv2d(1, 2, 3) works on images (channels × height × width), but Linear(4, 16) produces a vector of 16"));

    [Fact]
    public Task SGR0020_InputNotFirst() => VerifyAnalyzerAsync(
        """
        using StaticGrad;

        [Linear(4, 4), {|#0:Input(1, 2, 2)|}]
        public partial class Net;
        """,
        Diagnostic("SGR0020").WithLocation(0).WithArguments("Input(channels, height, width) comes first, before every layer; here it follows Linear(4, 4)"));

    [Fact]
    public Task SGR0020_DropoutRateOutOfRange() => VerifyAnalyzerAsync(
        """
        using StaticGrad;

        [Linear(4, 4), Dropout({|#0:1.5|}), Linear(4, 2)]
        public partial class Net;
        """,
        Diagnostic("SGR0020").WithLocation(0).WithArguments("Dropout(p) needs 0 ≤ p < 1 (the probability of zeroing a value), got 1.5"));

    [Fact]
    public Task SGR0001_InputDimension() => VerifyAnalyzerAsync(
        """
        using StaticGrad;

        [Input(1, {|#0:0|}, 4), Flatten, Linear(4, 2)]
        public partial class Net;
        """,
        Diagnostic("SGR0001").WithLocation(0).WithArguments("Input", "height", 0));

    [Fact]
    public Task SGR0007_InputOfInt() => VerifyAnalyzerAsync(
        """
        using StaticGrad;

        [Input<{|#0:int|}>(1, 2, 2), Flatten, Linear(4, 2)]
        public partial class Net;
        """,
        Diagnostic("SGR0007").WithLocation(0).WithArguments("Input<T>", "int"));
}
