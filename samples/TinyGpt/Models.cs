using StaticGrad;
using static StaticGrad.Functional;

namespace StaticGrad.Samples.TinyGpt;

// nanoGPT's CPU configuration of shakespeare_char, written as C#: 4 blocks, 4 heads, 128 wide, 64 characters of context,
// no bias in the linear layers (nanoGPT's bias=False), no dropout. StaticGrad checks the shapes at compile time and
// generates Forward, Backward, TrainStep and the rest (see the README's "Sequence models" section).

/// <summary>A pre-norm transformer block: causal self-attention over heads, then a GELU MLP, each added to the residual stream.</summary>
[Module]
public partial class GptBlock
{
    readonly LayerNorm ln1, ln2;
    readonly Linear query, key, value, proj, up, down;
    readonly int heads;

    /// <summary>Creates the block's layers for <paramref name="dim"/>-wide vectors split over <paramref name="heads"/> heads.</summary>
    /// <param name="dim">The width of the residual stream (nanoGPT's n_embd).</param>
    /// <param name="heads">The number of attention heads (nanoGPT's n_head); it must divide <paramref name="dim"/>.</param>
    public GptBlock(int dim, int heads)
    {
        this.heads = heads;
        ln1 = new LayerNorm(dim);
        query = new Linear(dim, dim, bias: false);
        key = new Linear(dim, dim, bias: false);
        value = new Linear(dim, dim, bias: false);
        proj = new Linear(dim, dim, bias: false);
        ln2 = new LayerNorm(dim);
        up = new Linear(dim, 4 * dim, bias: false);
        down = new Linear(4 * dim, dim, bias: false);
    }

    /// <summary>The block on one example's positions: <c>x + attention(ln1(x))</c>, then <c>+ mlp(ln2(x))</c>.</summary>
    /// <param name="x">positions × dim.</param>
    /// <returns>positions × dim.</returns>
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

/// <summary>
/// A character-level GPT: 65 characters (<see cref="Alphabet"/>), 64 positions, 128 wide, 4 heads, 4 blocks. For each
/// position it scores the character that follows; trained with a softmax cross-entropy per position.
/// </summary>
[Model(Loss = Loss.SoftmaxCrossEntropy)]
public partial class TinyGpt
{
    readonly Embedding tokens = new(65, 128);
    readonly Parameter position = new(64, 128);
    readonly GptBlock[] blocks = [new(128, 4), new(128, 4), new(128, 4), new(128, 4)];
    readonly LayerNorm final = new(128);
    readonly Linear head = new(128, 65, bias: false);

    /// <summary>The scores of the next character at each position.</summary>
    /// <param name="ids">64 character ids (<see cref="Alphabet"/>) per example.</param>
    /// <returns>64 × 65 scores per example.</returns>
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
