using System;
using System.ComponentModel;

namespace StaticGrad
{
    /// <summary>
    /// A learnable tensor of a module (or one of its float buffers, such as BatchNorm's <c>running_mean</c>): a fixed shape
    /// without a batch dimension, stored row-major in a slice of a <see cref="float"/> array.
    /// </summary>
    /// <remarks>
    /// A new parameter owns an array of its own. <see cref="Bind(float[], int)"/> moves it onto a slice of another array, which is how a
    /// generated model keeps every parameter in one flat array that its optimizers update in place.
    /// </remarks>
    public sealed class Parameter
    {
        private readonly int[] shape;
        private float[] storage;
        private int offset;
        private double[]? wide; // a [Model<double>]'s array that Data reads from (see Bind(double[], int))
        private int wideOffset;

        /// <summary>Creates a parameter of zeros.</summary>
        /// <param name="shape">The sizes, outermost first, each positive (PyTorch's layout: a Linear weight is <c>[out, in]</c>).</param>
        /// <exception cref="ArgumentException">A size is not positive or there is none.</exception>
        public Parameter(params int[] shape)
        {
            ArgumentNullException.ThrowIfNull(shape);
            if (shape.Length == 0)
                throw new ArgumentException("A parameter needs at least one dimension.", nameof(shape));
            long count = 1;
            for (int i = 0; i < shape.Length; i++)
            {
                if (shape[i] <= 0)
                    throw new ArgumentException($"Dimension {i} of {Shapes.FormatRaw(shape)} must be positive.", nameof(shape));
                count *= shape[i];
                if (count > Array.MaxLength)
                    throw new ArgumentException($"The shape {Shapes.FormatRaw(shape)} has too many values for one array.", nameof(shape));
            }

            this.shape = (int[])shape.Clone();
            Count = (int)count;
            storage = new float[Count];
        }

        /// <summary>The sizes, outermost first.</summary>
        public ReadOnlySpan<int> Shape => shape;

        /// <summary>The number of values: the product of <see cref="Shape"/>.</summary>
        public int Count { get; }

        /// <summary>
        /// The values, row-major: the current storage slice itself (writes change the parameter). For a parameter of a
        /// <c>[Model&lt;double&gt;]</c> it is a float copy of the model's current values, taken at each read; writes to it are
        /// not kept (change the model's <c>Parameters</c> instead).
        /// </summary>
        public Span<float> Data
        {
            get
            {
                if (wide is not null)
                {
                    ReadOnlySpan<double> source = wide.AsSpan(wideOffset, Count);
                    for (int i = 0; i < source.Length; i++)
                        storage[i] = (float)source[i];
                }

                return storage.AsSpan(offset, Count);
            }
        }

        /// <summary>
        /// Moves the parameter onto <c>storage[offset .. offset + Count)</c> without copying: from now on <see cref="Data"/> is
        /// that slice, so its current contents become the parameter's values. Copy <see cref="Data"/> there first to keep the values.
        /// </summary>
        /// <param name="storage">The array that holds the parameter from now on.</param>
        /// <param name="offset">Where the parameter starts in <paramref name="storage"/>.</param>
        /// <exception cref="ArgumentOutOfRangeException">The slice does not fit in <paramref name="storage"/>.</exception>
        [EditorBrowsable(EditorBrowsableState.Never)]
        public void Bind(float[] storage, int offset)
        {
            ArgumentNullException.ThrowIfNull(storage);
            if (offset < 0 || offset > storage.Length - Count)
                throw new ArgumentOutOfRangeException(nameof(offset), offset,
                    $"A parameter of shape {Shapes.Format(shape)} ({Count} values) at offset {offset} does not fit in an array of length {storage.Length}.");
            this.storage = storage;
            this.offset = offset;
            wide = null;
        }

        /// <summary>
        /// Points the parameter at <c>storage[offset .. offset + Count)</c> of a <c>[Model&lt;double&gt;]</c>: from now on
        /// <see cref="Data"/> is a float copy of that slice, taken at each read, so the eager forward pass computes with the
        /// model's current values (rounded to float).
        /// </summary>
        /// <param name="storage">The model's array.</param>
        /// <param name="offset">Where the parameter starts in <paramref name="storage"/>.</param>
        /// <exception cref="ArgumentOutOfRangeException">The slice does not fit in <paramref name="storage"/>.</exception>
        [EditorBrowsable(EditorBrowsableState.Never)]
        public void Bind(double[] storage, int offset)
        {
            ArgumentNullException.ThrowIfNull(storage);
            if (offset < 0 || offset > storage.Length - Count)
                throw new ArgumentOutOfRangeException(nameof(offset), offset,
                    $"A parameter of shape {Shapes.Format(shape)} ({Count} values) at offset {offset} does not fit in an array of length {storage.Length}.");
            this.storage = new float[Count];
            this.offset = 0;
            wide = storage;
            wideOffset = offset;
        }

        /// <summary>
        /// The parameter's current values as a tensor of batch 1 (a copy), so that a forward pass can use a learned tensor held in a
        /// field as PyTorch uses an <c>nn.Parameter</c>: <c>x + position</c> adds it to every example (a batch of 1 broadcasts).
        /// </summary>
        /// <param name="parameter">The parameter, of 1 to 4 dimensions.</param>
        /// <returns>A tensor of batch 1 and the parameter's shape.</returns>
        public static implicit operator Tensor(Parameter parameter)
        {
            ArgumentNullException.ThrowIfNull(parameter);
            return Tensor.FromSpan(parameter.Data, 1, parameter.shape);
        }

        /// <summary>Describes the parameter's shape, for example <c>Parameter(10×784)</c>.</summary>
        /// <returns>The shape.</returns>
        public override string ToString() => $"Parameter({Shapes.Format(shape)})";

        /// <summary>Fills the parameter with standard normal values N(0, 1) (Box–Muller, drawn in order), as PyTorch initialises an embedding.</summary>
        internal void InitNormal(Random random)
        {
            Span<float> values = Data;
            for (int i = 0; i < values.Length; i++)
                values[i] = (float)(Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble()));
        }

        /// <summary>Fills the parameter with uniform values in [−<paramref name="bound"/>, <paramref name="bound"/>), drawn in order.</summary>
        internal void InitUniform(Random random, double bound)
        {
            Span<float> values = Data;
            for (int i = 0; i < values.Length; i++)
                values[i] = (float)((random.NextDouble() * 2 - 1) * bound);
        }
    }

    /// <summary>
    /// An integer state of a module, such as BatchNorm's <c>num_batches_tracked</c>, stored in one element of a <see cref="long"/> array.
    /// </summary>
    public sealed class Counter
    {
        private long[] storage = new long[1];
        private int index;

        /// <summary>The current value (0 when created).</summary>
        public long Value
        {
            get => storage[index];
            set => storage[index] = value;
        }

        /// <summary>
        /// Moves the counter onto <c>storage[index]</c> without copying: from now on <see cref="Value"/> is that element.
        /// </summary>
        /// <param name="storage">The array that holds the counter from now on.</param>
        /// <param name="index">The counter's element in <paramref name="storage"/>.</param>
        /// <exception cref="ArgumentOutOfRangeException"><paramref name="index"/> is outside <paramref name="storage"/>.</exception>
        [EditorBrowsable(EditorBrowsableState.Never)]
        public void Bind(long[] storage, int index)
        {
            ArgumentNullException.ThrowIfNull(storage);
            if ((uint)index >= (uint)storage.Length)
                throw new ArgumentOutOfRangeException(nameof(index), index, $"The index is outside an array of length {storage.Length}.");
            this.storage = storage;
            this.index = index;
        }

        /// <summary>The value as text.</summary>
        /// <returns>For example <c>Counter(3)</c>.</returns>
        public override string ToString() => $"Counter({Value})";
    }
}
