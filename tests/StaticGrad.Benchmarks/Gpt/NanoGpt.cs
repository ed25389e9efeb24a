using StaticGrad;
using static StaticGrad.Functional;

namespace StaticGrad.Benchmarks.Gpt;

// nanoGPT's CPU configuration (config/train_shakespeare_char.py with --device=cpu: block 64, batch 12, 4 layers, 4 heads,
// 128 wide, dropout 0, 65 characters) written as C#, in the style of tests/StaticGrad.Tests/Models/SequenceModels.cs.
// Differences from nanoGPT's model.py, made on the TorchSharp side too: q, k and v are three Linear(128, 128) layers with
// bias (nanoGPT's one c_attn Linear(128, 384) computes the same), and the head's weight is not tied to the embedding's.

/// <summary>A pre-norm transformer block: causal self-attention over heads, then a GELU MLP, each added to the residual stream.</summary>
[Module]
public partial class NanoGptBlock
{
    readonly LayerNorm ln1, ln2;
    readonly Linear query, key, value, proj, up, down;
    readonly int heads;

    /// <summary>A block of width <paramref name="dim"/> with <paramref name="heads"/> attention heads.</summary>
    public NanoGptBlock(int dim, int heads)
    {
        this.heads = heads;
        ln1 = new LayerNorm(dim);
        query = new Linear(dim, dim);
        key = new Linear(dim, dim);
        value = new Linear(dim, dim);
        proj = new Linear(dim, dim);
        ln2 = new LayerNorm(dim);
        up = new Linear(dim, 4 * dim);
        down = new Linear(4 * dim, dim);
    }

    /// <summary>x + attention(ln1(x)), then + MLP(ln2(·)); x is T×dim.</summary>
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

/// <summary>nanoGPT's CPU configuration: 65 characters, 64 positions, 128 wide, 4 heads, 4 blocks (0.8 M parameters).</summary>
[Model(Loss = Loss.SoftmaxCrossEntropy)]
public partial class NanoGpt
{
    readonly Embedding tokens = new(65, 128);
    readonly Parameter position = new(64, 128);
    readonly NanoGptBlock[] blocks = [new(128, 4), new(128, 4), new(128, 4), new(128, 4)];
    readonly LayerNorm final = new(128);
    readonly Linear head = new(128, 65, bias: false);

    /// <summary>64×65 scores: for each position, the next character's.</summary>
    public Tensor Forward([Shape(64)] Tokens ids)
    {
        var x = tokens.Forward(ids) + position;
        foreach (var block in blocks)
        {
            x = block.Forward(x);
        }

        return head.Forward(final.Forward(x));
    }
}
