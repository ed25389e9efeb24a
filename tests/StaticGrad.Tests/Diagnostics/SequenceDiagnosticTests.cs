using System.Threading.Tasks;
using Xunit;
using static StaticGrad.Tests.Infrastructure.Verifiers;

namespace StaticGrad.Tests.Diagnostics;

/// <summary>Sequence models written as C#: the issue's GPT compiles cleanly, and each shape mistake is an error on its expression.</summary>
public class SequenceDiagnosticTests
{
    private const string Usings = """
        using StaticGrad;
        using static StaticGrad.Functional;

        """;

    private const string Block = """
        [Module]
        public partial class Block
        {
            readonly LayerNorm ln1, ln2;
            readonly Linear query, key, value, proj, up, down;
            readonly int heads;

            public Block(int dim, int heads)
            {
                this.heads = heads;
                ln1 = new LayerNorm(dim); query = new Linear(dim, dim); key = new Linear(dim, dim); value = new Linear(dim, dim);
                proj = new Linear(dim, dim); ln2 = new LayerNorm(dim); up = new Linear(dim, 4 * dim); down = new Linear(4 * dim, dim);
            }

            public Tensor Forward(Tensor x)
            {
                var h = ln1.Forward(x);
                var q = SplitHeads(query.Forward(h)); var k = SplitHeads(key.Forward(h)); var v = SplitHeads(value.Forward(h));
                x = x + proj.Forward(MergeHeads(ScaledDotProductAttention(q, k, v, causal: true)));
                return x + down.Forward(Gelu(up.Forward(ln2.Forward(x))));
            }

            Tensor SplitHeads(Tensor t) => {|#0:t.Reshape(t.Size(0), heads, t.Size(1) / heads)|}.Transpose(0, 1);
            Tensor MergeHeads(Tensor t) => t.Transpose(0, 1).Reshape(t.Size(1), heads * t.Size(2));
        }

        """;

    private static string Gpt(int heads) => $$"""
        [Model(Loss = Loss.SoftmaxCrossEntropy)]
        public partial class TinyGpt
        {
            readonly Embedding tokens = new(65, 128);
            readonly Parameter position = new(64, 128);
            readonly Block[] blocks = [new(128, 4), new(128, {{heads}}), new(128, 4), new(128, 4)];
            readonly LayerNorm final = new(128);
            readonly Linear head = new(128, 65, bias: false);

            public Tensor Forward([Shape(64)] Tokens ids)
            {
                var x = tokens.Forward(ids) + position;
                foreach (var block in blocks) x = block.Forward(x);
                return head.Forward(final.Forward(x));
            }
        }
        """;

    [Fact]
    public Task TheIssueGpt_ReportsNothing() => VerifyAnalyzerAsync(Usings + Block.Replace("{|#0:", string.Empty).Replace("|}.Transpose", ".Transpose") + Gpt(4));

    [Fact]
    public Task AHeadCountThatDoesNotDivideTheWidth_IsAnErrorOnTheReshape() => VerifyAnalyzerAsync(
        Usings + Block + Gpt(3),
        Diagnostic("SGR0021").WithLocation(0).WithArguments("cannot reshape 64×128 (8192 values) to 64×3×42 (8064 values)"));

    [Fact]
    public Task AProductWithoutTheTranspose_NamesBothMatricesAndTheInnerSizes() => VerifyAnalyzerAsync(
        Usings + """
        [Model]
        public partial class Net
        {
            readonly Linear q = new(8, 32), k = new(8, 16);

            public Tensor Forward([Shape(64, 8)] Tensor x) => {|#0:MatMul(q.Forward(x), k.Forward(x))|};
        }
        """,
        Diagnostic("SGR0021").WithLocation(0).WithArguments("MatMul: 64×32 by 64×16 — inner dimensions 32 and 64 differ"));

    [Fact]
    public Task AttentionWithQueriesAndKeysOfDifferentWidths_IsAnError() => VerifyAnalyzerAsync(
        Usings + """
        [Model]
        public partial class Net
        {
            readonly Linear q = new(8, 32), k = new(8, 16);

            public Tensor Forward([Shape(64, 8)] Tensor x) => {|#0:ScaledDotProductAttention(q.Forward(x), k.Forward(x), x)|};
        }
        """,
        Diagnostic("SGR0021").WithLocation(0).WithArguments("q·kᵀ: 64×32 by 16×64 — inner dimensions 32 and 16 differ"));

    [Fact]
    public Task ASoftmaxDimensionOutsideTheShape_IsAnError() => VerifyAnalyzerAsync(
        Usings + """
        [Model]
        public partial class Net
        {
            public Tensor Forward([Shape(4, 5)] Tensor x) => {|#0:Softmax(x, 2)|};
        }
        """,
        Diagnostic("SGR0021").WithLocation(0).WithArguments("Softmax(dim: 2) on 4×5: a shape of rank 2 has dimensions 0 to 1 (the batch is not counted)"));

    [Fact]
    public Task AParameterCreatedInTheForwardPass_IsAnError() => VerifyAnalyzerAsync(
        Usings + """
        [Model]
        public partial class Net
        {
            public Tensor Forward([Shape(4)] Tensor x) => x + {|#0:new Parameter(4)|};
        }
        """,
        Diagnostic("SGR0022").WithLocation(0).WithArguments("Parameter(4) is created inside the forward pass; create it in a field or the constructor, so that the model owns and trains it"));

    [Fact]
    public Task ANegativeParameterSize_IsAnErrorOnTheArgument() => VerifyAnalyzerAsync(
        Usings + """
        [Model]
        public partial class Net
        {
            readonly Parameter scale = new(4, {|#0:-2|});

            public Tensor Forward([Shape(4, 2)] Tensor x) => x * scale;
        }
        """,
        Diagnostic("SGR0023").WithLocation(0).WithArguments("every dimension of a Parameter must be positive, got [4, -2]"));

    [Fact]
    public Task TokensOfFourDimensions_AreAnErrorOnTheInput() => VerifyAnalyzerAsync(
        Usings + """
        [Model]
        public partial class Net
        {
            readonly Embedding embed = new(10, 4);

            public Tensor Forward([Shape(2, 2, 2, 2)] Tokens {|#0:ids|}) => embed.Forward(ids).Flatten();
        }
        """,
        Diagnostic("SGR0024").WithLocation(0).WithArguments("the shape of 'ids' must have 1 to 3 positive dimensions (the batch is left out; an embedding adds one), got [2, 2, 2, 2]"));
}
