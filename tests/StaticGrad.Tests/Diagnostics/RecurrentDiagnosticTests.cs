using System.Threading.Tasks;
using Xunit;
using static StaticGrad.Tests.Infrastructure.Verifiers;

namespace StaticGrad.Tests.Diagnostics;

/// <summary>GRU and LSTM written as C#: tuples as PyTorch returns them compile cleanly; each mistake is an error where it is written.</summary>
public class RecurrentDiagnosticTests
{
    private const string Usings = """
        using StaticGrad;
        using static StaticGrad.Functional;

        """;

    [Fact]
    public Task TuplesDeconstructionAndElements_ReportNothing() => VerifyAnalyzerAsync(
        Usings + """
        [Module]
        public partial class Encoder
        {
            readonly LSTM lstm = new(4, 16, numLayers: 2);

            public (Tensor Output, Tensor Last) Forward(Tensor x)
            {
                var (output, (hidden, _)) = lstm.Forward(x);
                return (output, hidden.Narrow(0, 1, 1));
            }
        }

        [Model(Loss = Loss.MeanSquaredError)]
        public partial class Forecaster
        {
            readonly Encoder encoder = new();
            readonly GRU gru = new(16, 8, batchFirst: true);
            readonly Linear head = new(8, 4);

            public Tensor Forward([Shape(24, 4)] Tensor window)
            {
                var encoded = encoder.Forward(window);
                Tensor sequence;
                Tensor hidden;
                (sequence, hidden) = gru.Forward(encoded.Output);
                return head.Forward(hidden.Flatten() + encoded.Last.Flatten().Narrow(0, 0, 8) + gru.Forward(encoded.Output).Output.Narrow(0, 23, 1).Flatten());
            }
        }
        """);

    [Fact]
    public Task FeaturesThatDoNotMatchInputSize_AreAnErrorOnTheCall_FixedByTheCodeFix() => VerifyCodeFixAsync<StaticGrad.CodeFixes.ModelArgumentCodeFix>(
        Usings + """
        [Model(Loss = Loss.MeanSquaredError)]
        public partial class Net
        {
            readonly GRU gru = new({|#1:3|}, 8);

            public Tensor Forward([Shape(10, 2)] Tensor x)
            {
                var (_, hidden) = {|#0:gru.Forward(x)|};
                return hidden.Flatten();
            }
        }
        """,
        Usings + """
        [Model(Loss = Loss.MeanSquaredError)]
        public partial class Net
        {
            readonly GRU gru = new(2, 8);

            public Tensor Forward([Shape(10, 2)] Tensor x)
            {
                var (_, hidden) = gru.Forward(x);
                return hidden.Flatten();
            }
        }
        """,
        Diagnostic("SGR0021").WithLocation(0).WithLocation(1).WithArguments("gru: GRU(3, 8) expects 3 features per step, but receives 10×2 (2 per step)"));

    [Fact]
    public Task AVectorPerExample_IsAnErrorSayingWhatASequenceIs() => VerifyAnalyzerAsync(
        Usings + """
        [Model(Loss = Loss.MeanSquaredError)]
        public partial class Net
        {
            readonly LSTM lstm = new(20, 8);

            public Tensor Forward([Shape(20)] Tensor x)
            {
                var (output, _) = {|#0:lstm.Forward(x)|};
                return output.Flatten();
            }
        }
        """,
        Diagnostic("SGR0021").WithLocation(0).WithArguments("lstm: LSTM(20, 8) takes a sequence per example (steps × 20 features), but receives 20; Reshape it to steps × features"));

    [Fact]
    public Task BatchFirstFalse_IsAnErrorOnTheArgument() => VerifyAnalyzerAsync(
        Usings + """
        [Model(Loss = Loss.MeanSquaredError)]
        public partial class Net
        {
            readonly GRU gru = new(2, 8, {|#0:batchFirst: false|});

            public Tensor Forward([Shape(10, 2)] Tensor x) => gru.Forward(x).Hidden.Flatten();
        }
        """,
        Diagnostic("SGR0023").WithLocation(0).WithArguments("only batchFirst: true is supported: in StaticGrad the batch is always the leading dimension, and a sequence is steps × features per example"));

    [Fact]
    public Task ANarrowBeyondTheSteps_IsAnErrorOnTheCall() => VerifyAnalyzerAsync(
        Usings + """
        [Model(Loss = Loss.MeanSquaredError)]
        public partial class Net
        {
            readonly GRU gru = new(2, 8);

            public Tensor Forward([Shape(10, 2)] Tensor x) => {|#0:gru.Forward(x).Output.Narrow(0, 10, 1)|}.Flatten();
        }
        """,
        Diagnostic("SGR0021").WithLocation(0).WithArguments("Narrow(0, 10, 1) on 10×8: rows 10 to 10 of dimension 0 are not within its 10 (the length must be at least 1)"));
}
