using System;

namespace StaticGrad
{
    /// <summary>
    /// A batch of examples that all have one per-example shape (rank 1 to 4), stored batch-major and row-major in one
    /// <see cref="float"/> array: example <c>b</c> occupies <c>[b·ExampleSize, (b+1)·ExampleSize)</c>. The batch dimension is kept
    /// apart from the shape, so an image batch of PyTorch shape <c>[8, 32, 14, 14]</c> is <c>Batch = 8</c>, <c>Shape = 32×14×14</c>.
    /// </summary>
    /// <remarks>
    /// This is the eager reference implementation of models written as C# code: every operation is a plain loop that
    /// allocates its result. Operations that change only the view (<see cref="Flatten"/>, <see cref="Reshape"/>) share the data.
    /// </remarks>
    public sealed class Tensor
    {
        private readonly float[] data;
        private readonly int[] shape;

        /// <summary>Creates a tensor of zeros.</summary>
        /// <param name="batch">The number of examples, positive.</param>
        /// <param name="shape">The per-example shape: 1 to 4 positive sizes.</param>
        public Tensor(int batch, params int[] shape)
        {
            this.shape = CheckShape(shape, nameof(shape));
            Batch = CheckBatch(batch);
            data = new float[checked(batch * ExampleSize)];
        }

        /// <summary>Wraps an array (without copying it) as a tensor; later writes to either are seen by both.</summary>
        /// <param name="data">The values, batch-major and row-major; its length must be <c>batch</c> times the product of <paramref name="shape"/>.</param>
        /// <param name="batch">The number of examples, positive.</param>
        /// <param name="shape">The per-example shape: 1 to 4 positive sizes.</param>
        /// <exception cref="ArgumentException">The length of <paramref name="data"/> does not match.</exception>
        public Tensor(float[] data, int batch, params int[] shape)
        {
            ArgumentNullException.ThrowIfNull(data);
            this.shape = CheckShape(shape, nameof(shape));
            Batch = CheckBatch(batch);
            long expected = (long)batch * ExampleSize;
            if (data.Length != expected)
                throw new ArgumentException(
                    $"A batch of {batch} examples of shape {Shapes.Format(this.shape)} needs {expected} values, but the array has length {data.Length}.",
                    nameof(data));
            this.data = data;
        }

        /// <summary>Creates a tensor holding a copy of <paramref name="values"/>.</summary>
        /// <param name="values">The values, batch-major and row-major; the length must be <c>batch</c> times the product of <paramref name="shape"/>.</param>
        /// <param name="batch">The number of examples, positive.</param>
        /// <param name="shape">The per-example shape: 1 to 4 positive sizes.</param>
        /// <returns>A new tensor that owns its data.</returns>
        /// <exception cref="ArgumentException">The length of <paramref name="values"/> does not match.</exception>
        public static Tensor FromSpan(ReadOnlySpan<float> values, int batch, params int[] shape)
        {
            var result = new Tensor(batch, shape);
            if (values.Length != result.data.Length)
                throw new ArgumentException(
                    $"A batch of {batch} examples of shape {Shapes.Format(result.shape)} needs {result.data.Length} values, but the span has length {values.Length}.",
                    nameof(values));
            values.CopyTo(result.data);
            return result;
        }

        /// <summary>The number of examples.</summary>
        public int Batch { get; }

        /// <summary>The number of per-example dimensions (1 to 4); the batch dimension is not counted.</summary>
        public int Rank => shape.Length;

        /// <summary>The per-example shape, outermost dimension first.</summary>
        public ReadOnlySpan<int> Shape => shape;

        /// <summary>The number of values in one example: the product of <see cref="Shape"/>.</summary>
        public int ExampleSize => Shapes.Product(shape);

        /// <summary>The size of one per-example dimension.</summary>
        /// <param name="dimension">0 to <see cref="Rank"/> − 1, or negative to count from the end like PyTorch (−1 is the last).</param>
        /// <returns>The size of that dimension.</returns>
        /// <exception cref="ArgumentOutOfRangeException"><paramref name="dimension"/> is out of range for this rank.</exception>
        public int Size(int dimension) => shape[Shapes.Dimension(dimension, shape, nameof(dimension))];

        /// <summary>All values, batch-major and row-major (the tensor's own storage, not a copy).</summary>
        /// <returns>A span over the storage; writes change the tensor.</returns>
        public Span<float> AsSpan() => data;

        /// <summary>A copy of all values, batch-major and row-major.</summary>
        /// <returns>A new array.</returns>
        public float[] ToArray() => (float[])data.Clone();

        /// <summary>The value at one position of one example.</summary>
        /// <param name="example">The example, 0 to <see cref="Batch"/> − 1.</param>
        /// <param name="index">One index per per-example dimension (exactly <see cref="Rank"/> of them).</param>
        /// <exception cref="ArgumentException">The number of indices is not <see cref="Rank"/>.</exception>
        /// <exception cref="IndexOutOfRangeException">An index is out of range.</exception>
        public float this[int example, params int[] index]
        {
            get => data[Offset(example, index)];
            set => data[Offset(example, index)] = value;
        }

        /// <summary>
        /// Flattens each example to one dimension, like PyTorch's <c>nn.Flatten()</c> (<c>C×H×W → C·H·W</c>).
        /// The result shares this tensor's data.
        /// </summary>
        /// <returns>A rank-1 view of the same values.</returns>
        public Tensor Flatten() => new Tensor(data, Batch, ExampleSize);

        /// <summary>
        /// Gives each example a new shape with the same number of values, like PyTorch's <c>view</c> with the batch kept.
        /// The result shares this tensor's data.
        /// </summary>
        /// <param name="shape">1 to 4 sizes; one of them may be −1, which is inferred.</param>
        /// <returns>A view of the same values with the new per-example shape.</returns>
        /// <exception cref="ArgumentException">The sizes do not multiply to <see cref="ExampleSize"/>, or more than one is −1.</exception>
        public Tensor Reshape(params int[] shape)
        {
            ArgumentNullException.ThrowIfNull(shape);
            if (shape.Length < 1 || shape.Length > 4)
                throw new ArgumentException($"A per-example shape has 1 to 4 dimensions, but {shape.Length} were given.", nameof(shape));
            int[] resolved = (int[])shape.Clone();
            int inferred = -1;
            long known = 1;
            for (int i = 0; i < resolved.Length; i++)
            {
                if (resolved[i] == -1)
                {
                    if (inferred >= 0)
                        throw new ArgumentException($"Only one dimension can be −1, but {Shapes.FormatRaw(shape)} has more.", nameof(shape));
                    inferred = i;
                }
                else if (resolved[i] <= 0)
                {
                    throw new ArgumentException($"Dimension {i} of {Shapes.FormatRaw(shape)} must be positive or −1.", nameof(shape));
                }
                else
                {
                    known *= resolved[i];
                    if (known > int.MaxValue)
                        throw new ArgumentException($"Cannot reshape {Shapes.Format(this.shape)} ({ExampleSize} values) to {Shapes.FormatRaw(shape)}: too many values.", nameof(shape));
                }
            }

            if (inferred >= 0)
            {
                if (ExampleSize % known != 0)
                    throw new ArgumentException($"Cannot reshape {Shapes.Format(this.shape)} ({ExampleSize} values) to {Shapes.FormatRaw(shape)}: {ExampleSize} is not a multiple of {known}.", nameof(shape));
                resolved[inferred] = (int)(ExampleSize / known);
            }
            else if (known != ExampleSize)
            {
                throw new ArgumentException($"Cannot reshape {Shapes.Format(this.shape)} ({ExampleSize} values) to {Shapes.Format(resolved)} ({known} values).", nameof(shape));
            }

            return new Tensor(data, Batch, resolved);
        }

        /// <summary>
        /// The slice <paramref name="start"/> … <paramref name="start"/> + <paramref name="length"/> − 1 of one per-example
        /// dimension, like PyTorch's <c>narrow</c> with the batch kept (for example the last step of a sequence:
        /// <c>output.Narrow(0, steps − 1, 1)</c>). The values are copied.
        /// </summary>
        /// <param name="dimension">A per-example dimension (negative counts from the end).</param>
        /// <param name="start">The first index kept.</param>
        /// <param name="length">How many indices are kept, at least 1.</param>
        /// <returns>A new tensor whose dimension <paramref name="dimension"/> has <paramref name="length"/> entries.</returns>
        /// <exception cref="ArgumentOutOfRangeException">The dimension or the range is outside this shape.</exception>
        public Tensor Narrow(int dimension, int start, int length)
        {
            int d = Shapes.Dimension(dimension, shape, nameof(dimension));
            if (length < 1 || start < 0 || (long)start + length > shape[d])
                throw new ArgumentOutOfRangeException(nameof(length), length, $"Narrow({dimension}, {start}, {length}) of {Shapes.Format(shape)}: indices {start} to {(long)start + length - 1} are not within dimension {d}'s {shape[d]}.");
            int[] outShape = (int[])shape.Clone();
            outShape[d] = length;
            int outer = 1, inner = 1;
            for (int i = 0; i < d; i++) outer *= shape[i];
            for (int i = d + 1; i < shape.Length; i++) inner *= shape[i];
            var result = new Tensor(Batch, outShape);
            int blocks = Batch * outer, chunk = length * inner, inputChunk = shape[d] * inner;
            for (int block = 0; block < blocks; block++)
                Array.Copy(data, block * inputChunk + start * inner, result.data, block * chunk, chunk);
            return result;
        }

        /// <summary>Swaps two per-example dimensions, like PyTorch's <c>transpose</c> with the batch kept. The values are copied.</summary>
        /// <param name="a">One per-example dimension (negative counts from the end).</param>
        /// <param name="b">The other per-example dimension (negative counts from the end).</param>
        /// <returns>A new tensor whose dimensions <paramref name="a"/> and <paramref name="b"/> are exchanged.</returns>
        /// <exception cref="ArgumentOutOfRangeException">A dimension is out of range for this rank.</exception>
        public Tensor Transpose(int a, int b)
        {
            int da = Shapes.Dimension(a, shape, nameof(a));
            int db = Shapes.Dimension(b, shape, nameof(b));
            int[] outShape = (int[])shape.Clone();
            (outShape[da], outShape[db]) = (outShape[db], outShape[da]);
            var result = new Tensor(Batch, outShape);

            // Walk the input in row-major order with a 4-dimensional counter (leading dimensions of size 1 pad smaller ranks).
            int pad = 4 - Rank;
            int[] size4 = Shapes.Pad4(shape);
            int[] outStrides4 = Shapes.Pad4Strides(outShape);
            int[] inIndex = new int[4];
            int exampleSize = ExampleSize;
            for (int example = 0; example < Batch; example++)
            {
                int source = example * exampleSize;
                int targetBase = example * exampleSize;
                for (inIndex[0] = 0; inIndex[0] < size4[0]; inIndex[0]++)
                    for (inIndex[1] = 0; inIndex[1] < size4[1]; inIndex[1]++)
                        for (inIndex[2] = 0; inIndex[2] < size4[2]; inIndex[2]++)
                            for (inIndex[3] = 0; inIndex[3] < size4[3]; inIndex[3]++)
                            {
                                // The output index is the input index with the two dimensions swapped.
                                int target = targetBase;
                                for (int d = 0; d < 4; d++)
                                {
                                    int from = d;
                                    if (d == da + pad) from = db + pad;
                                    else if (d == db + pad) from = da + pad;
                                    target += inIndex[from] * outStrides4[d];
                                }

                                result.data[target] = data[source++];
                            }
            }

            return result;
        }

        /// <summary>Element-wise sum with PyTorch broadcasting over the per-example dimensions (aligned from the right; a size of 1 expands).</summary>
        /// <param name="a">The left operand.</param>
        /// <param name="b">The right operand; its batch must equal <paramref name="a"/>'s, or one of the two batches be 1 (a <see cref="Parameter"/>).</param>
        /// <returns>A new tensor of the broadcast shape.</returns>
        /// <exception cref="ArgumentException">The batches differ or the shapes do not broadcast.</exception>
        public static Tensor operator +(Tensor a, Tensor b) => Broadcast(a, b, "add", static (x, y) => x + y);

        /// <summary>Element-wise difference with PyTorch broadcasting over the per-example dimensions.</summary>
        /// <param name="a">The left operand.</param>
        /// <param name="b">The right operand; its batch must equal <paramref name="a"/>'s, or one of the two batches be 1 (a <see cref="Parameter"/>).</param>
        /// <returns>A new tensor of the broadcast shape.</returns>
        /// <exception cref="ArgumentException">The batches differ or the shapes do not broadcast.</exception>
        public static Tensor operator -(Tensor a, Tensor b) => Broadcast(a, b, "subtract", static (x, y) => x - y);

        /// <summary>Element-wise product with PyTorch broadcasting over the per-example dimensions.</summary>
        /// <param name="a">The left operand.</param>
        /// <param name="b">The right operand; its batch must equal <paramref name="a"/>'s, or one of the two batches be 1 (a <see cref="Parameter"/>).</param>
        /// <returns>A new tensor of the broadcast shape.</returns>
        /// <exception cref="ArgumentException">The batches differ or the shapes do not broadcast.</exception>
        public static Tensor operator *(Tensor a, Tensor b) => Broadcast(a, b, "multiply", static (x, y) => x * y);

        /// <summary>Describes the tensor's shape, for example <c>Tensor(batch 8, 32×14×14)</c>.</summary>
        /// <returns>The batch and per-example shape.</returns>
        public override string ToString() => $"Tensor(batch {Batch}, {Shapes.Format(shape)})";

        /// <summary>The storage itself, batch-major and row-major (for the modules of this library).</summary>
        internal float[] Data => data;

        private static Tensor Broadcast(Tensor a, Tensor b, string verb, Func<float, float, float> op)
        {
            ArgumentNullException.ThrowIfNull(a);
            ArgumentNullException.ThrowIfNull(b);
            // A batch of 1 (a Parameter converted to a Tensor) expands over the other's batch, as PyTorch broadcasts [T, D] over [B, T, D].
            if (a.Batch != b.Batch && a.Batch != 1 && b.Batch != 1)
                throw new ArgumentException(
                    $"Cannot {verb} {a} and {b}: the batches differ ({a.Batch} and {b.Batch}).", nameof(b));
            int batch = Math.Max(a.Batch, b.Batch);
            int aStep = a.Batch == 1 ? 0 : 1, bStep = b.Batch == 1 ? 0 : 1;

            int rank = Math.Max(a.Rank, b.Rank);
            int[] outShape = new int[rank];
            for (int i = 0; i < rank; i++)
            {
                // Aligned from the right: a missing dimension counts as size 1.
                int ai = i - (rank - a.Rank), bi = i - (rank - b.Rank);
                int sa = ai >= 0 ? a.shape[ai] : 1;
                int sb = bi >= 0 ? b.shape[bi] : 1;
                if (sa != sb && sa != 1 && sb != 1)
                    throw new ArgumentException(
                        $"Cannot {verb} {Shapes.Format(a.shape)} and {Shapes.Format(b.shape)}: dimension {i} differs ({sa} and {sb}) and neither is 1.",
                        nameof(b));
                outShape[i] = Math.Max(sa, sb);
            }

            var result = new Tensor(batch, outShape);
            int[] size4 = Shapes.Pad4(outShape);
            int[] aStrides = BroadcastStrides(a.shape, rank);
            int[] bStrides = BroadcastStrides(b.shape, rank);
            int aSize = a.ExampleSize, bSize = b.ExampleSize;
            int target = 0;
            for (int example = 0; example < batch; example++)
                for (int i0 = 0; i0 < size4[0]; i0++)
                    for (int i1 = 0; i1 < size4[1]; i1++)
                        for (int i2 = 0; i2 < size4[2]; i2++)
                            for (int i3 = 0; i3 < size4[3]; i3++)
                            {
                                int ia = example * aStep * aSize + i0 * aStrides[0] + i1 * aStrides[1] + i2 * aStrides[2] + i3 * aStrides[3];
                                int ib = example * bStep * bSize + i0 * bStrides[0] + i1 * bStrides[1] + i2 * bStrides[2] + i3 * bStrides[3];
                                result.data[target++] = op(a.data[ia], b.data[ib]);
                            }

            return result;
        }

        /// <summary>Strides of <paramref name="shape"/> seen as a 4-dimensional shape broadcast to rank <paramref name="rank"/>: 0 where the size is 1 or missing.</summary>
        private static int[] BroadcastStrides(int[] shape, int rank)
        {
            int[] strides = new int[4];
            int stride = 1;
            for (int i = shape.Length - 1; i >= 0; i--)
            {
                int d = 4 - shape.Length + i;
                strides[d] = shape[i] == 1 ? 0 : stride;
                stride *= shape[i];
            }

            return strides;
        }

        private int Offset(int example, int[] index)
        {
            ArgumentNullException.ThrowIfNull(index);
            if ((uint)example >= (uint)Batch)
                throw new IndexOutOfRangeException($"Example {example} is out of range for a batch of {Batch}.");
            if (index.Length != Rank)
                throw new ArgumentException($"A {Shapes.Format(shape)} example needs {Rank} indices, but {index.Length} were given.", nameof(index));
            int offset = 0;
            for (int d = 0; d < Rank; d++)
            {
                if ((uint)index[d] >= (uint)shape[d])
                    throw new IndexOutOfRangeException($"Index {index[d]} is out of range for dimension {d} of {Shapes.Format(shape)}.");
                offset = offset * shape[d] + index[d];
            }

            return example * ExampleSize + offset;
        }

        private static int[] CheckShape(int[] shape, string paramName)
        {
            ArgumentNullException.ThrowIfNull(shape, paramName);
            if (shape.Length < 1 || shape.Length > 4)
                throw new ArgumentException($"A per-example shape has 1 to 4 dimensions, but {shape.Length} were given.", paramName);
            long product = 1;
            for (int i = 0; i < shape.Length; i++)
            {
                if (shape[i] <= 0)
                    throw new ArgumentException($"Dimension {i} of {Shapes.FormatRaw(shape)} must be positive.", paramName);
                product *= shape[i];
                if (product > int.MaxValue)
                    throw new ArgumentException($"The shape {Shapes.FormatRaw(shape)} has more than {int.MaxValue} values per example.", paramName);
            }

            return (int[])shape.Clone();
        }

        private static int CheckBatch(int batch)
        {
            if (batch <= 0)
                throw new ArgumentOutOfRangeException(nameof(batch), batch, "The batch must be positive.");
            return batch;
        }
    }
}
