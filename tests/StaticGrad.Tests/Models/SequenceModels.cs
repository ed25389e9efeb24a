using StaticGrad;
using static StaticGrad.Functional;

namespace StaticGrad.Tests.Models;

// The C# twins of the nn.Modules in Golden/make_sequence_golden.py (same names, so the state_dict files load as they are),
// and a model that uses every sequence op for the gradient and eager checks.

/// <summary>A pre-norm transformer block: causal self-attention over heads, then a GELU MLP, each added to the residual stream.</summary>
[Module]
public partial class GptBlock
{
    readonly LayerNorm ln1, ln2;
    readonly Linear query, key, value, proj, up, down;
    readonly int heads;

    public GptBlock(int dim, int heads)
    {
        this.heads = heads;
        ln1 = new LayerNorm(dim);
        // No bias on q, k, v (nanoGPT's bias=False): softmax ignores a key bias, so its gradient would be rounding noise.
        query = new Linear(dim, dim, bias: false);
        key = new Linear(dim, dim, bias: false);
        value = new Linear(dim, dim, bias: false);
        proj = new Linear(dim, dim);
        ln2 = new LayerNorm(dim);
        up = new Linear(dim, 4 * dim);
        down = new Linear(4 * dim, dim);
    }

    public Tensor Forward(Tensor x)
    {
        var h = ln1.Forward(x);
        var q = SplitHeads(query.Forward(h));
        var k = SplitHeads(key.Forward(h));
        var v = SplitHeads(value.Forward(h));
        x = x + proj.Forward(MergeHeads(ScaledDotProductAttention(q, k, v, causal: true)));
        return x + down.Forward(Gelu(up.Forward(ln2.Forward(x))));
    }

    Tensor SplitHeads(Tensor t) => t.Reshape(t.Size(0), heads, t.Size(1) / heads).Transpose(0, 1);   // heads×T×d

    Tensor MergeHeads(Tensor t) => t.Transpose(0, 1).Reshape(t.Size(1), heads * t.Size(2));         // T×(heads·d)
}

/// <summary>nanoGPT's architecture at toy size: 11 tokens, 8 positions, 16 wide, 2 heads, 2 blocks.</summary>
[Model(Loss = Loss.SoftmaxCrossEntropy)]
public partial class TinyGpt
{
    readonly Embedding tokens = new(11, 16);
    readonly Parameter position = new(8, 16);
    readonly GptBlock[] blocks = [new(16, 2), new(16, 2)];
    readonly LayerNorm final = new(16);
    readonly Linear head = new(16, 11, bias: false);

    public Tensor Forward([Shape(8)] Tokens ids)
    {
        var x = tokens.Forward(ids) + position;
        foreach (var block in blocks)
        {
            x = block.Forward(x);
        }

        return head.Forward(final.Forward(x));   // 8×11 scores
    }
}

/// <summary>Every sequence op on one graph: embedding, a parameter, MatMul, Softmax along an inner dimension, non-causal attention.</summary>
[Model(Loss = Loss.SoftmaxCrossEntropy)]
public partial class EverySequenceOpNet
{
    readonly Embedding embed = new(7, 6);
    readonly Parameter bias = new(5, 6);
    readonly Parameter mix = new(5, 5);
    readonly Linear q = new(6, 4), k = new(6, 4), v = new(6, 3);
    readonly Linear head = new(3, 4);

    public Tensor Forward([Shape(5)] Tokens ids)
    {
        var x = embed.Forward(ids) + bias;                          // 5×6
        var mixed = MatMul(Softmax(mix, 0), x);                     // 5×5 · 5×6: softmax down the columns
        var a = ScaledDotProductAttention(q.Forward(mixed), k.Forward(x), v.Forward(x));   // 5×3
        return head.Forward(Tanh(a));                               // 5×4 scores
    }
}
