using System;

namespace StaticGrad
{
    /// <summary>
    /// A batch of token ids (ints) with one per-example shape of rank 1 to 3, the input of an <see cref="Embedding"/>: a model's
    /// <c>Forward([Shape(64)] Tokens ids)</c> reads 64 ids per example. Stored batch-major and row-major in one <see cref="int"/> array.
    /// </summary>
    public sealed class Tokens
    {
        private readonly int[] ids;
        private readonly int[] shape;

        /// <summary>Wraps an array of ids (without copying it).</summary>
        /// <param name="ids">The ids, batch-major and row-major; its length must be <paramref name="batch"/> times the product of <paramref name="shape"/>.</param>
        /// <param name="batch">The number of examples, positive.</param>
        /// <param name="shape">The per-example shape: 1 to 3 positive sizes (an embedding adds a dimension).</param>
        /// <exception cref="ArgumentException">The shape is not 1 to 3 positive sizes, or the length of <paramref name="ids"/> does not match.</exception>
        public Tokens(int[] ids, int batch, params int[] shape)
        {
            ArgumentNullException.ThrowIfNull(ids);
            ArgumentNullException.ThrowIfNull(shape);
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batch);
            if (shape.Length is < 1 or > 3)
                throw new ArgumentException($"Token ids have 1 to 3 dimensions per example, but the shape {Shapes.FormatRaw(shape)} has {shape.Length}.", nameof(shape));
            long size = 1;
            foreach (int d in shape)
            {
                if (d <= 0)
                    throw new ArgumentException($"Every dimension of {Shapes.FormatRaw(shape)} must be positive.", nameof(shape));
                size *= d;
            }

            if (ids.Length != batch * size)
                throw new ArgumentException($"A batch of {batch} examples of {Shapes.FormatRaw(shape)} ids needs {batch * size} values, but the array has length {ids.Length}.", nameof(ids));
            this.ids = ids;
            this.shape = (int[])shape.Clone();
            Batch = batch;
        }

        /// <summary>The number of examples.</summary>
        public int Batch { get; }

        /// <summary>The number of per-example dimensions.</summary>
        public int Rank => shape.Length;

        /// <summary>The per-example shape, outermost dimension first.</summary>
        public ReadOnlySpan<int> Shape => shape;

        /// <summary>The number of ids in one example.</summary>
        public int ExampleSize => Shapes.Product(shape);

        /// <summary>The size of one per-example dimension (negative counts from the end).</summary>
        /// <param name="dimension">0 to <see cref="Rank"/> − 1, or negative.</param>
        /// <returns>The size.</returns>
        public int Size(int dimension) => shape[Shapes.Dimension(dimension, shape, nameof(dimension))];

        /// <summary>The ids, batch-major and row-major (the array itself).</summary>
        public ReadOnlySpan<int> AsSpan() => ids;

        /// <summary>Describes the batch and shape, for example <c>Tokens(batch 12, 64)</c>.</summary>
        /// <returns>The description.</returns>
        public override string ToString() => $"Tokens(batch {Batch}, {Shapes.Format(shape)})";

        internal int[] Data => ids;
    }
}
