using System;

namespace StaticGrad.Training
{
    /// <summary>
    /// Splits a training set held as flat arrays into mini-batches, in a new seeded random order each epoch, without
    /// allocating after construction: <c>foreach (var batch in batches) net.TrainStep(batch.Features, batch.Labels);</c>
    /// runs one epoch.
    /// </summary>
    /// <typeparam name="T">The feature element type.</typeparam>
    /// <typeparam name="TLabel">The label element type: an <see cref="int"/> class index, or a <see cref="float"/> target for regression.</typeparam>
    /// <remarks>
    /// <para>
    /// Example <c>i</c> is <c>features[i·featuresPerExample .. (i+1)·featuresPerExample)</c> with
    /// <c>labels[i·labelsPerExample .. (i+1)·labelsPerExample)</c>. The arrays are read, not copied: changing them changes
    /// the batches read afterwards.
    /// </para>
    /// <para>
    /// Each <see cref="GetEnumerator"/> starts the next epoch. With shuffling, it first permutes the example order in place
    /// with a Fisher–Yates shuffle driven by this instance's own <see cref="Random"/>, created once from the seed, so the
    /// order of every epoch is fixed by the seed; each batch's rows are then gathered into one feature buffer and one label
    /// buffer of <c>batchSize</c> rows, allocated by the constructor. Without shuffling the order is 0 to
    /// <see cref="Count"/> − 1 and every batch is a slice of the caller's arrays, with no copy at all.
    /// </para>
    /// <para>
    /// A batch's spans stay valid until the enumerator moves on (the buffers are reused), and one epoch runs at a time:
    /// starting another, or <see cref="Reset(int)"/>, makes the earlier enumerator throw. Not thread-safe.
    /// </para>
    /// </remarks>
    public sealed class MiniBatches<T, TLabel>
        where T : unmanaged
        where TLabel : unmanaged
    {
        private readonly T[] features;
        private readonly TLabel[] labels;
        private readonly int featuresPerExample;
        private readonly int labelsPerExample;
        private readonly bool shuffle;
        private readonly int[] order;
        private readonly T[] featureBuffer;
        private readonly TLabel[] labelBuffer;
        private Random? random;
        private int version;

        /// <summary>Creates the iterator; the first <see cref="GetEnumerator"/> starts epoch 1.</summary>
        /// <param name="features">The examples' features, <paramref name="featuresPerExample"/> values per example, example after example.</param>
        /// <param name="labels">The examples' labels, <paramref name="labelsPerExample"/> per example, in the same order as <paramref name="features"/>.</param>
        /// <param name="featuresPerExample">How many values of <paramref name="features"/> make one example, at least 1.</param>
        /// <param name="batchSize">The number of examples per batch, at least 1; the last batch of an epoch may be smaller (see <paramref name="dropLast"/>).</param>
        /// <param name="seed">Seeds the shuffle: the same seed gives the same order in every epoch of every run.</param>
        /// <param name="shuffle">Whether to visit the examples in a new random order each epoch (otherwise in their order in the arrays).</param>
        /// <param name="dropLast">Whether to skip the last batch of an epoch when it is smaller than <paramref name="batchSize"/>.</param>
        /// <param name="labelsPerExample">How many values of <paramref name="labels"/> belong to one example, at least 1 (more than 1 for regression targets).</param>
        /// <exception cref="ArgumentNullException"><paramref name="features"/> or <paramref name="labels"/> is null.</exception>
        /// <exception cref="ArgumentOutOfRangeException">
        /// <paramref name="featuresPerExample"/>, <paramref name="batchSize"/> or <paramref name="labelsPerExample"/> is less than 1,
        /// or <paramref name="dropLast"/> is set and <paramref name="batchSize"/> exceeds the number of examples (every epoch would be empty).
        /// </exception>
        /// <exception cref="ArgumentException">
        /// <paramref name="features"/> is empty or does not hold whole examples, or <paramref name="labels"/> does not hold
        /// <paramref name="labelsPerExample"/> values for each example.
        /// </exception>
        public MiniBatches(T[] features, TLabel[] labels, int featuresPerExample, int batchSize, int seed = 0, bool shuffle = true, bool dropLast = false, int labelsPerExample = 1)
        {
            if (features is null)
            {
                throw new ArgumentNullException(nameof(features));
            }

            if (labels is null)
            {
                throw new ArgumentNullException(nameof(labels));
            }

            CheckAtLeastOne(featuresPerExample, nameof(featuresPerExample));
            CheckAtLeastOne(batchSize, nameof(batchSize));
            CheckAtLeastOne(labelsPerExample, nameof(labelsPerExample));
            if (features.Length % featuresPerExample != 0)
            {
                throw new ArgumentException($"features must hold whole examples of featuresPerExample ({featuresPerExample}) values, but has length {features.Length}.", nameof(features));
            }

            if (features.Length == 0)
            {
                throw new ArgumentException("features must hold at least one example, but is empty.", nameof(features));
            }

            int count = features.Length / featuresPerExample;
            if (labels.Length != (long)count * labelsPerExample)
            {
                string expected = labelsPerExample == 1
                    ? $"one label per example ({count})"
                    : $"labelsPerExample ({labelsPerExample}) labels per example ({count}·{labelsPerExample} = {(long)count * labelsPerExample})";
                throw new ArgumentException($"labels must hold {expected}, but has length {labels.Length}.", nameof(labels));
            }

            if (dropLast && batchSize > count)
            {
                throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, $"With dropLast, batchSize must not exceed the number of examples ({count}), or every epoch would be empty.");
            }

            this.features = features;
            this.labels = labels;
            this.featuresPerExample = featuresPerExample;
            this.labelsPerExample = labelsPerExample;
            this.shuffle = shuffle;
            Count = count;
            BatchSize = batchSize;
            BatchesPerEpoch = dropLast ? count / batchSize : (int)(((long)count + batchSize - 1) / batchSize);
            if (shuffle)
            {
                int rows = Math.Min(batchSize, count);
                order = new int[count];
                featureBuffer = new T[rows * featuresPerExample];
                labelBuffer = new TLabel[rows * labelsPerExample];
                Reset(seed);
            }
            else
            {
                order = Array.Empty<int>();
                featureBuffer = Array.Empty<T>();
                labelBuffer = Array.Empty<TLabel>();
            }
        }

        /// <summary>The number of examples.</summary>
        public int Count { get; }

        /// <summary>The number of examples per batch (the last batch of an epoch may hold fewer).</summary>
        public int BatchSize { get; }

        /// <summary>The number of batches in an epoch: <see cref="Count"/>/<see cref="BatchSize"/> rounded up, or down with <c>dropLast</c>.</summary>
        public int BatchesPerEpoch { get; }

        /// <summary>The number of epochs started so far (by <see cref="GetEnumerator"/>) since construction or <see cref="Reset(int)"/>.</summary>
        public int Epoch { get; private set; }

        /// <summary>Starts the next epoch: reshuffles the order (when shuffling) and returns an enumerator over its batches.</summary>
        /// <returns>An enumerator over the epoch's <see cref="BatchesPerEpoch"/> batches; any earlier enumerator stops working.</returns>
        public Enumerator GetEnumerator()
        {
            version++;
            Epoch++;
            if (shuffle)
            {
                Random generator = random!;
                int[] indices = order;
                for (int i = indices.Length - 1; i > 0; i--)
                {
                    int j = generator.Next(i + 1);
                    (indices[i], indices[j]) = (indices[j], indices[i]);
                }
            }

            return new Enumerator(this, version);
        }

        /// <summary>
        /// Starts over as if newly constructed with <paramref name="seed"/>: the order goes back to 0 to <see cref="Count"/> − 1,
        /// the shuffle is reseeded (this allocates one <see cref="Random"/>) and <see cref="Epoch"/> returns to 0.
        /// </summary>
        /// <param name="seed">The new seed.</param>
        public void Reset(int seed)
        {
            version++;
            Epoch = 0;
            if (shuffle)
            {
                for (int i = 0; i < order.Length; i++)
                {
                    order[i] = i;
                }

                random = new Random(seed);
            }
        }

        private static void CheckAtLeastOne(int value, string name)
        {
            if (value < 1)
            {
                throw new ArgumentOutOfRangeException(name, value, $"{name} must be at least 1.");
            }
        }

        /// <summary>Enumerates one epoch's batches; obtained from <see cref="GetEnumerator"/> by <c>foreach</c>.</summary>
        public struct Enumerator
        {
            private readonly MiniBatches<T, TLabel> owner;
            private readonly int version;
            private int nextBatch;
            private int start;
            private int count;

            internal Enumerator(MiniBatches<T, TLabel> owner, int version)
            {
                this.owner = owner;
                this.version = version;
                nextBatch = 0;
                start = 0;
                count = 0;
            }

            /// <summary>The current batch; its spans stay valid until the next <see cref="MoveNext"/>.</summary>
            public readonly MiniBatch<T, TLabel> Current
            {
                get
                {
                    if (count == 0)
                    {
                        return default;
                    }

                    MiniBatches<T, TLabel> o = owner;
                    return o.shuffle
                        ? new MiniBatch<T, TLabel>(o.featureBuffer.AsSpan(0, count * o.featuresPerExample), o.labelBuffer.AsSpan(0, count * o.labelsPerExample), count)
                        : new MiniBatch<T, TLabel>(o.features.AsSpan(start * o.featuresPerExample, count * o.featuresPerExample), o.labels.AsSpan(start * o.labelsPerExample, count * o.labelsPerExample), count);
                }
            }

            /// <summary>Moves to the next batch of the epoch, gathering its rows when shuffling.</summary>
            /// <returns>Whether there was another batch.</returns>
            /// <exception cref="InvalidOperationException">Another epoch has started, or <see cref="Reset(int)"/> was called, since this enumerator was obtained.</exception>
            public bool MoveNext()
            {
                MiniBatches<T, TLabel> o = owner;
                if (o is null)
                {
                    return false;
                }

                if (o.version != version)
                {
                    throw new InvalidOperationException("Another epoch has started (or Reset was called) since this enumerator was obtained; its batches would use the new order.");
                }

                if (nextBatch >= o.BatchesPerEpoch)
                {
                    count = 0;
                    return false;
                }

                start = nextBatch * o.BatchSize;
                count = Math.Min(o.BatchSize, o.Count - start);
                nextBatch++;
                if (o.shuffle)
                {
                    o.Gather(start, count);
                }

                return true;
            }
        }

        /// <summary>Copies the examples at <c>order[start .. start + count)</c> into the front of the buffers.</summary>
        private void Gather(int start, int count)
        {
            ReadOnlySpan<int> rows = order.AsSpan(start, count);
            int fpe = featuresPerExample, lpe = labelsPerExample;
            ReadOnlySpan<T> source = features;
            ReadOnlySpan<TLabel> sourceLabels = labels;
            Span<T> destination = featureBuffer;
            Span<TLabel> destinationLabels = labelBuffer;
            for (int r = 0; r < rows.Length; r++)
            {
                int example = rows[r];
                source.Slice(example * fpe, fpe).CopyTo(destination.Slice(r * fpe, fpe));
                sourceLabels.Slice(example * lpe, lpe).CopyTo(destinationLabels.Slice(r * lpe, lpe));
            }
        }
    }

    /// <summary>One mini-batch: <see cref="Count"/> examples' features and labels, row after row, paired by position.</summary>
    /// <typeparam name="T">The feature element type.</typeparam>
    /// <typeparam name="TLabel">The label element type.</typeparam>
    /// <remarks>The spans point into <see cref="MiniBatches{T, TLabel}"/>'s buffers or the caller's arrays; they stay valid until the enumerator moves on.</remarks>
    public readonly ref struct MiniBatch<T, TLabel>
        where T : unmanaged
        where TLabel : unmanaged
    {
        internal MiniBatch(ReadOnlySpan<T> features, ReadOnlySpan<TLabel> labels, int count)
        {
            Features = features;
            Labels = labels;
            Count = count;
        }

        /// <summary>The batch's features: <see cref="Count"/> rows of <c>featuresPerExample</c> values.</summary>
        public ReadOnlySpan<T> Features { get; }

        /// <summary>The batch's labels: <see cref="Count"/> rows of <c>labelsPerExample</c> values.</summary>
        public ReadOnlySpan<TLabel> Labels { get; }

        /// <summary>The number of examples in the batch.</summary>
        public int Count { get; }
    }
}
