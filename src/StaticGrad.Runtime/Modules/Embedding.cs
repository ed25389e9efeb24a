using System;

namespace StaticGrad
{
    /// <summary>
    /// A table of learned vectors indexed by token id, as PyTorch's <c>nn.Embedding(num_embeddings, embedding_dim)</c>: each id
    /// becomes its row of <see cref="Weight"/> [numEmbeddings, embeddingDim], initialised N(0, 1).
    /// </summary>
    public sealed class Embedding : Module
    {
        /// <summary>Creates the table with values drawn from N(0, 1) (see <see cref="Module.ManualSeed"/>).</summary>
        /// <param name="numEmbeddings">How many ids there are (the vocabulary); ids run from 0 to numEmbeddings − 1.</param>
        /// <param name="embeddingDim">The length of each vector.</param>
        /// <exception cref="ArgumentOutOfRangeException">A size is not positive.</exception>
        public Embedding(int numEmbeddings, int embeddingDim)
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(numEmbeddings);
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(embeddingDim);
            NumEmbeddings = numEmbeddings;
            EmbeddingDim = embeddingDim;
            Weight = new Parameter(numEmbeddings, embeddingDim);
            Weight.InitNormal(InitRandom);
        }

        /// <summary>How many ids the table has.</summary>
        public int NumEmbeddings { get; }

        /// <summary>The length of each vector.</summary>
        public int EmbeddingDim { get; }

        /// <summary>The table, [numEmbeddings, embeddingDim] (PyTorch's <c>weight</c>).</summary>
        public Parameter Weight { get; }

        /// <summary>Looks up every id: the result has the ids' shape with <see cref="EmbeddingDim"/> added as the last dimension.</summary>
        /// <param name="ids">Token ids, each from 0 to <see cref="NumEmbeddings"/> − 1.</param>
        /// <returns>A new tensor.</returns>
        /// <exception cref="ArgumentOutOfRangeException">An id is outside the table.</exception>
        public Tensor Forward(Tokens ids)
        {
            ArgumentNullException.ThrowIfNull(ids);
            int[] shape = new int[ids.Rank + 1];
            ids.Shape.CopyTo(shape);
            shape[^1] = EmbeddingDim;
            var y = new Tensor(ids.Batch, shape);
            ReadOnlySpan<float> table = Weight.Data;
            int[] data = ids.Data;
            for (int i = 0; i < data.Length; i++)
            {
                if ((uint)data[i] >= (uint)NumEmbeddings)
                    throw new ArgumentOutOfRangeException(nameof(ids), data[i], $"ids[{i}] is {data[i]}, outside 0 to {NumEmbeddings - 1} (the rows of {this}).");
                table.Slice(data[i] * EmbeddingDim, EmbeddingDim).CopyTo(y.Data.AsSpan(i * EmbeddingDim, EmbeddingDim));
            }

            return y;
        }

        /// <summary>Describes the module, for example <c>Embedding(65, 128)</c>.</summary>
        /// <returns>The description.</returns>
        public override string ToString() => $"Embedding({NumEmbeddings}, {EmbeddingDim})";

        /// <inheritdoc/>
        protected override void Visit(ModuleVisitor visitor)
        {
            ArgumentNullException.ThrowIfNull(visitor);
            visitor.Parameter("weight", Weight);
        }
    }
}
