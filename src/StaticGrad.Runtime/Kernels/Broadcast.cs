using System;
using System.Diagnostics;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace StaticGrad.Kernels
{
    /// <summary>The element-wise operators that <see cref="Broadcast"/> applies.</summary>
    public enum BinaryOperator
    {
        /// <summary><c>left + right</c>.</summary>
        Add,

        /// <summary><c>left − right</c>.</summary>
        Subtract,

        /// <summary><c>left · right</c>.</summary>
        Multiply,
    }

    /// <summary>
    /// How two per-example shapes broadcast against each other, as in PyTorch: the shapes are aligned on the right, a
    /// missing leading dimension counts as 1, and a dimension of 1 expands to the other's size. Built once per op
    /// (generated code keeps it in a static readonly field); it also holds the shapes' collapsed form that
    /// <see cref="Broadcast"/> loops over (dimensions of output size 1 dropped, neighbours that step alike in both
    /// operands merged), so <c>[C,H,W] + [C,1,1]</c> runs as C rows of H·W with one right value per row.
    /// </summary>
    public sealed class BroadcastShape
    {
        /// <summary>The collapsed output dimensions, outermost first, padded in front with 1s to four.</summary>
        internal readonly int[] Dimensions = new int[4];

        /// <summary>The left operand's step per collapsed dimension (0 where it is broadcast).</summary>
        internal readonly int[] LeftStrides = new int[4];

        /// <summary>The right operand's step per collapsed dimension (0 where it is broadcast).</summary>
        internal readonly int[] RightStrides = new int[4];

        /// <summary>Initializes a new instance of the <see cref="BroadcastShape"/> class.</summary>
        /// <param name="left">The left operand's per-example shape, rank 1 to 4, every dimension at least 1.</param>
        /// <param name="right">The right operand's per-example shape, rank 1 to 4, every dimension at least 1.</param>
        /// <exception cref="ArgumentNullException">A shape is null.</exception>
        /// <exception cref="ArgumentException">A rank is outside 1–4, a dimension is less than 1, or the shapes do not broadcast.</exception>
        public BroadcastShape(int[] left, int[] right)
        {
            ArgumentNullException.ThrowIfNull(left);
            ArgumentNullException.ThrowIfNull(right);
            Validate(left, nameof(left));
            Validate(right, nameof(right));

            int rank = Math.Max(left.Length, right.Length);
            int[] l = Pad(left, rank), r = Pad(right, rank), output = new int[rank];
            for (int i = 0; i < rank; i++)
            {
                if (l[i] != r[i] && l[i] != 1 && r[i] != 1)
                {
                    throw new ArgumentException(
                        $"Shapes {Format(left)} and {Format(right)} do not broadcast: dimension {i - rank} is {l[i]} on the left and {r[i]} on the right (they must be equal or one of them 1).",
                        nameof(right));
                }

                output[i] = Math.Max(l[i], r[i]);
            }

            Output = output;
            LeftSize = Product(left);
            RightSize = Product(right);
            OutputSize = Product(output);
            SameShape = left.AsSpan().SequenceEqual(right);

            // Contiguous strides, 0 where an operand is broadcast; then drop output dimensions of 1 and merge neighbours
            // that both operands step through alike (the outer step is the inner one times the inner size, or both 0).
            Span<int> dims = stackalloc int[4], ls = stackalloc int[4], rs = stackalloc int[4];
            int count = 0, leftStep = 1, rightStep = 1;
            Span<int> leftStrides = stackalloc int[rank], rightStrides = stackalloc int[rank];
            for (int i = rank - 1; i >= 0; i--)
            {
                leftStrides[i] = l[i] == 1 ? 0 : leftStep;
                rightStrides[i] = r[i] == 1 ? 0 : rightStep;
                leftStep *= l[i];
                rightStep *= r[i];
            }

            for (int i = 0; i < rank; i++)
            {
                if (output[i] == 1)
                {
                    continue;
                }

                if (count > 0 && ls[count - 1] == leftStrides[i] * output[i] && rs[count - 1] == rightStrides[i] * output[i])
                {
                    dims[count - 1] *= output[i];
                    ls[count - 1] = leftStrides[i];
                    rs[count - 1] = rightStrides[i];
                    continue;
                }

                dims[count] = output[i];
                ls[count] = leftStrides[i];
                rs[count] = rightStrides[i];
                count++;
            }

            int pad = 4 - count;
            Dimensions.AsSpan().Fill(1);
            for (int i = 0; i < count; i++)
            {
                Dimensions[pad + i] = dims[i];
                LeftStrides[pad + i] = ls[i];
                RightStrides[pad + i] = rs[i];
            }
        }

        /// <summary>Gets the per-example output shape (do not modify it).</summary>
        public int[] Output { get; }

        /// <summary>Gets the number of elements of one example of the left operand.</summary>
        public int LeftSize { get; }

        /// <summary>Gets the number of elements of one example of the right operand.</summary>
        public int RightSize { get; }

        /// <summary>Gets the number of elements of one example of the output.</summary>
        public int OutputSize { get; }

        /// <summary>Gets a value indicating whether both operands have the same shape (a residual <c>x + h</c>): no broadcasting at all.</summary>
        internal bool SameShape { get; }

        private static void Validate(int[] shape, string name)
        {
            if (shape.Length is < 1 or > 4)
            {
                throw new ArgumentException($"Shape {Format(shape)} has rank {shape.Length}; broadcasting takes ranks 1 to 4.", name);
            }

            foreach (int d in shape)
            {
                if (d < 1)
                {
                    throw new ArgumentException($"Shape {Format(shape)} has a dimension less than 1.", name);
                }
            }
        }

        private static int[] Pad(int[] shape, int rank)
        {
            int[] padded = new int[rank];
            padded.AsSpan().Fill(1);
            shape.CopyTo(padded, rank - shape.Length);
            return padded;
        }

        private static int Product(int[] shape)
        {
            int product = 1;
            foreach (int d in shape)
            {
                product = checked(product * d);
            }

            return product;
        }

        private static string Format(int[] shape) => "[" + string.Join(", ", shape) + "]";
    }

    /// <summary>
    /// Element-wise add, subtract and multiply of two batched tensors whose per-example shapes broadcast (see
    /// <see cref="BroadcastShape"/>), forward and backward, and <see cref="Accumulate{T}"/>, which sums the gradients of a
    /// value used twice. Both operands carry the batch: example b of the left operand starts at <c>b·LeftSize</c>, of the
    /// right at <c>b·RightSize</c>, of the output at <c>b·OutputSize</c>. Equal shapes run as one vector loop over the
    /// whole batch; otherwise the innermost collapsed dimension is a vector loop in which an operand is either contiguous
    /// or one broadcast value, and backward reduces over the broadcast dimensions. Nothing is allocated and lengths are
    /// only asserted.
    /// </summary>
    public static class Broadcast
    {
        /// <summary><c>output = left op right</c>, broadcasting per example.</summary>
        /// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
        /// <param name="op">The operator.</param>
        /// <param name="shape">The operands' shapes.</param>
        /// <param name="left">The left operand, <c>[batch × LeftSize]</c>.</param>
        /// <param name="right">The right operand, <c>[batch × RightSize]</c>.</param>
        /// <param name="batch">Examples.</param>
        /// <param name="output">Receives <c>[batch × OutputSize]</c> (may be an operand of the output's shape).</param>
        public static void Forward<T>(BinaryOperator op, BroadcastShape shape, ReadOnlySpan<T> left, ReadOnlySpan<T> right, int batch, Span<T> output)
            where T : unmanaged, IBinaryFloatingPointIeee754<T>
        {
            switch (op)
            {
                case BinaryOperator.Add:
                    Forward<T, AddOperator>(shape, left, right, batch, output);
                    break;
                case BinaryOperator.Subtract:
                    Forward<T, SubtractOperator>(shape, left, right, batch, output);
                    break;
                default:
                    Debug.Assert(op == BinaryOperator.Multiply, "an operator outside the enum.");
                    Forward<T, MultiplyOperator>(shape, left, right, batch, output);
                    break;
            }
        }

        /// <summary>
        /// The gradients of both operands from the output gradient: for Add <c>dL = dR = dOut</c>, for Subtract
        /// <c>dL = dOut</c> and <c>dR = −dOut</c>, for Multiply <c>dL = dOut·right</c> and <c>dR = dOut·left</c>; each
        /// summed over the dimensions along which its operand was broadcast.
        /// </summary>
        /// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
        /// <param name="op">The forward operator.</param>
        /// <param name="shape">The operands' shapes.</param>
        /// <param name="left">The forward left operand (read only for Multiply; may be empty otherwise).</param>
        /// <param name="right">The forward right operand (read only for Multiply; may be empty otherwise).</param>
        /// <param name="outputGradient">∂L/∂output, <c>[batch × OutputSize]</c>.</param>
        /// <param name="batch">Examples.</param>
        /// <param name="leftGradient">Receives ∂L/∂left, <c>[batch × LeftSize]</c>; or empty to skip it.</param>
        /// <param name="rightGradient">Receives ∂L/∂right, <c>[batch × RightSize]</c>; or empty to skip it.</param>
        /// <param name="accumulate">Add to the gradients instead of overwriting them.</param>
        public static void Backward<T>(BinaryOperator op, BroadcastShape shape, ReadOnlySpan<T> left, ReadOnlySpan<T> right, ReadOnlySpan<T> outputGradient, int batch, Span<T> leftGradient, Span<T> rightGradient, bool accumulate)
            where T : unmanaged, IBinaryFloatingPointIeee754<T>
        {
            Debug.Assert(outputGradient.Length >= batch * shape.OutputSize, "outputGradient is shorter than batch × OutputSize.");
            Debug.Assert(leftGradient.IsEmpty || leftGradient.Length >= batch * shape.LeftSize, "leftGradient is shorter than batch × LeftSize.");
            Debug.Assert(rightGradient.IsEmpty || rightGradient.Length >= batch * shape.RightSize, "rightGradient is shorter than batch × RightSize.");
            bool multiply = op == BinaryOperator.Multiply;
            Debug.Assert(!multiply || ((leftGradient.IsEmpty || right.Length >= batch * shape.RightSize) && (rightGradient.IsEmpty || left.Length >= batch * shape.LeftSize)), "Multiply's backward pass needs the operands.");
            if (!accumulate)
            {
                if (!leftGradient.IsEmpty)
                {
                    leftGradient.Slice(0, batch * shape.LeftSize).Clear();
                }

                if (!rightGradient.IsEmpty)
                {
                    rightGradient.Slice(0, batch * shape.RightSize).Clear();
                }
            }

            ref T g = ref MemoryMarshal.GetReference(outputGradient);
            ref T l = ref MemoryMarshal.GetReference(left);
            ref T r = ref MemoryMarshal.GetReference(right);
            T rightSign = op == BinaryOperator.Subtract ? -T.One : T.One;
            if (shape.SameShape)
            {
                int n = batch * shape.OutputSize;
                if (!leftGradient.IsEmpty)
                {
                    AccumulateRow(ref MemoryMarshal.GetReference(leftGradient), 1, ref g, ref r, 1, multiply, T.One, n);
                }

                if (!rightGradient.IsEmpty)
                {
                    AccumulateRow(ref MemoryMarshal.GetReference(rightGradient), 1, ref g, ref l, 1, multiply, rightSign, n);
                }

                return;
            }

            int[] d = shape.Dimensions, ls = shape.LeftStrides, rs = shape.RightStrides;
            for (int target = 0; target < 2; target++)
            {
                Span<T> gradient = target == 0 ? leftGradient : rightGradient;
                if (gradient.IsEmpty)
                {
                    continue;
                }

                ref T dTarget = ref MemoryMarshal.GetReference(gradient);
                ref T other = ref (target == 0 ? ref r : ref l);
                int[] ts = target == 0 ? ls : rs, os = target == 0 ? rs : ls;
                int targetSize = target == 0 ? shape.LeftSize : shape.RightSize, otherSize = target == 0 ? shape.RightSize : shape.LeftSize;
                T sign = target == 0 ? T.One : rightSign;
                int o = 0;
                for (int b = 0; b < batch; b++)
                {
                    for (int i0 = 0; i0 < d[0]; i0++)
                    {
                        for (int i1 = 0; i1 < d[1]; i1++)
                        {
                            for (int i2 = 0; i2 < d[2]; i2++, o += d[3])
                            {
                                int t = (b * targetSize) + (i0 * ts[0]) + (i1 * ts[1]) + (i2 * ts[2]);
                                int m = (b * otherSize) + (i0 * os[0]) + (i1 * os[1]) + (i2 * os[2]);
                                AccumulateRow(ref Unsafe.Add(ref dTarget, t), ts[3], ref Unsafe.Add(ref g, o), ref Unsafe.Add(ref other, m), os[3], multiply, sign, d[3]);
                            }
                        }
                    }
                }
            }
        }

        /// <summary><c>destination += source</c>, element by element (the sum of the gradients of a value used twice).</summary>
        /// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
        /// <param name="source">The values to add.</param>
        /// <param name="destination">Added to; at least as long as <paramref name="source"/>.</param>
        public static void Accumulate<T>(ReadOnlySpan<T> source, Span<T> destination)
            where T : unmanaged, IBinaryFloatingPointIeee754<T>
        {
            Debug.Assert(destination.Length >= source.Length, "destination is shorter than source.");
            AddScaled(ref MemoryMarshal.GetReference(destination), ref MemoryMarshal.GetReference(source), T.One, source.Length, scale: false);
        }

        private static void Forward<T, TOperator>(BroadcastShape shape, ReadOnlySpan<T> left, ReadOnlySpan<T> right, int batch, Span<T> output)
            where T : unmanaged, IBinaryFloatingPointIeee754<T>
            where TOperator : struct, IOperator
        {
            Debug.Assert(left.Length >= batch * shape.LeftSize && right.Length >= batch * shape.RightSize, "an operand is shorter than batch × its size.");
            Debug.Assert(output.Length >= batch * shape.OutputSize, "output is shorter than batch × OutputSize.");
            ref T l = ref MemoryMarshal.GetReference(left);
            ref T r = ref MemoryMarshal.GetReference(right);
            ref T y = ref MemoryMarshal.GetReference(output);
            if (shape.SameShape)
            {
                ForwardRow<T, TOperator>(ref l, 1, ref r, 1, ref y, batch * shape.OutputSize);
                return;
            }

            int[] d = shape.Dimensions, ls = shape.LeftStrides, rs = shape.RightStrides;
            int o = 0;
            for (int b = 0; b < batch; b++)
            {
                for (int i0 = 0; i0 < d[0]; i0++)
                {
                    for (int i1 = 0; i1 < d[1]; i1++)
                    {
                        for (int i2 = 0; i2 < d[2]; i2++, o += d[3])
                        {
                            int a = (b * shape.LeftSize) + (i0 * ls[0]) + (i1 * ls[1]) + (i2 * ls[2]);
                            int c = (b * shape.RightSize) + (i0 * rs[0]) + (i1 * rs[1]) + (i2 * rs[2]);
                            ForwardRow<T, TOperator>(ref Unsafe.Add(ref l, a), ls[3], ref Unsafe.Add(ref r, c), rs[3], ref Unsafe.Add(ref y, o), d[3]);
                        }
                    }
                }
            }
        }

        /// <summary>One innermost row: each operand steps 1 (contiguous) or 0 (one broadcast value).</summary>
        private static void ForwardRow<T, TOperator>(ref T l, int leftStride, ref T r, int rightStride, ref T y, int n)
            where T : unmanaged, IBinaryFloatingPointIeee754<T>
            where TOperator : struct, IOperator
        {
            int i = 0;
            if (Vector256.IsHardwareAccelerated && n >= Vector256<T>.Count)
            {
                if (leftStride == 1 && rightStride == 1)
                {
                    for (; i <= n - Vector256<T>.Count; i += Vector256<T>.Count)
                    {
                        TOperator.Apply(Vector256.LoadUnsafe(ref l, (nuint)i), Vector256.LoadUnsafe(ref r, (nuint)i)).StoreUnsafe(ref y, (nuint)i);
                    }
                }
                else if (leftStride == 1)
                {
                    var rv = Vector256.Create(r);
                    for (; i <= n - Vector256<T>.Count; i += Vector256<T>.Count)
                    {
                        TOperator.Apply(Vector256.LoadUnsafe(ref l, (nuint)i), rv).StoreUnsafe(ref y, (nuint)i);
                    }
                }
                else if (rightStride == 1)
                {
                    var lv = Vector256.Create(l);
                    for (; i <= n - Vector256<T>.Count; i += Vector256<T>.Count)
                    {
                        TOperator.Apply(lv, Vector256.LoadUnsafe(ref r, (nuint)i)).StoreUnsafe(ref y, (nuint)i);
                    }
                }
            }
            else if (Vector128.IsHardwareAccelerated && n >= Vector128<T>.Count)
            {
                if (leftStride == 1 && rightStride == 1)
                {
                    for (; i <= n - Vector128<T>.Count; i += Vector128<T>.Count)
                    {
                        TOperator.Apply(Vector128.LoadUnsafe(ref l, (nuint)i), Vector128.LoadUnsafe(ref r, (nuint)i)).StoreUnsafe(ref y, (nuint)i);
                    }
                }
                else if (leftStride == 1)
                {
                    var rv = Vector128.Create(r);
                    for (; i <= n - Vector128<T>.Count; i += Vector128<T>.Count)
                    {
                        TOperator.Apply(Vector128.LoadUnsafe(ref l, (nuint)i), rv).StoreUnsafe(ref y, (nuint)i);
                    }
                }
                else if (rightStride == 1)
                {
                    var lv = Vector128.Create(l);
                    for (; i <= n - Vector128<T>.Count; i += Vector128<T>.Count)
                    {
                        TOperator.Apply(lv, Vector128.LoadUnsafe(ref r, (nuint)i)).StoreUnsafe(ref y, (nuint)i);
                    }
                }
            }

            for (; i < n; i++)
            {
                Unsafe.Add(ref y, i) = TOperator.Apply(Unsafe.Add(ref l, i * leftStride), Unsafe.Add(ref r, i * rightStride));
            }
        }

        /// <summary>
        /// One innermost row of a backward pass: <c>target (+)= sign·g·m</c> (m only when <paramref name="multiply"/>),
        /// where the target steps 1 or 0 (then the row is summed into one value) and m steps 1 or 0.
        /// </summary>
        private static void AccumulateRow<T>(ref T target, int targetStride, ref T g, ref T m, int mStride, bool multiply, T sign, int n)
            where T : unmanaged, IBinaryFloatingPointIeee754<T>
        {
            if (targetStride == 1)
            {
                if (!multiply)
                {
                    AddScaled(ref target, ref g, sign, n, scale: sign != T.One);
                }
                else if (mStride == 0)
                {
                    AddScaled(ref target, ref g, m, n, scale: true);
                }
                else
                {
                    AddProduct(ref target, ref g, ref m, n);
                }
            }
            else if (!multiply)
            {
                target += sign * Sum(ref g, n);
            }
            else if (mStride == 0)
            {
                target += m * Sum(ref g, n);
            }
            else
            {
                target += Dot(ref g, ref m, n);
            }
        }

        /// <summary><c>target[i] += k·source[i]</c> (or <c>+= source[i]</c> without <paramref name="scale"/>).</summary>
        private static void AddScaled<T>(ref T target, ref T source, T k, int n, bool scale)
            where T : unmanaged, IBinaryFloatingPointIeee754<T>
        {
            int i = 0;
            if (Vector256.IsHardwareAccelerated)
            {
                var kv = Vector256.Create(k);
                for (; i <= n - Vector256<T>.Count; i += Vector256<T>.Count)
                {
                    var s = Vector256.LoadUnsafe(ref source, (nuint)i);
                    (Vector256.LoadUnsafe(ref target, (nuint)i) + (scale ? s * kv : s)).StoreUnsafe(ref target, (nuint)i);
                }
            }
            else if (Vector128.IsHardwareAccelerated)
            {
                var kv = Vector128.Create(k);
                for (; i <= n - Vector128<T>.Count; i += Vector128<T>.Count)
                {
                    var s = Vector128.LoadUnsafe(ref source, (nuint)i);
                    (Vector128.LoadUnsafe(ref target, (nuint)i) + (scale ? s * kv : s)).StoreUnsafe(ref target, (nuint)i);
                }
            }

            for (; i < n; i++)
            {
                T s = Unsafe.Add(ref source, i);
                Unsafe.Add(ref target, i) += scale ? s * k : s;
            }
        }

        /// <summary><c>target[i] += a[i]·b[i]</c>.</summary>
        private static void AddProduct<T>(ref T target, ref T a, ref T b, int n)
            where T : unmanaged, IBinaryFloatingPointIeee754<T>
        {
            int i = 0;
            if (Vector256.IsHardwareAccelerated)
            {
                for (; i <= n - Vector256<T>.Count; i += Vector256<T>.Count)
                {
                    (Vector256.LoadUnsafe(ref target, (nuint)i) + (Vector256.LoadUnsafe(ref a, (nuint)i) * Vector256.LoadUnsafe(ref b, (nuint)i))).StoreUnsafe(ref target, (nuint)i);
                }
            }
            else if (Vector128.IsHardwareAccelerated)
            {
                for (; i <= n - Vector128<T>.Count; i += Vector128<T>.Count)
                {
                    (Vector128.LoadUnsafe(ref target, (nuint)i) + (Vector128.LoadUnsafe(ref a, (nuint)i) * Vector128.LoadUnsafe(ref b, (nuint)i))).StoreUnsafe(ref target, (nuint)i);
                }
            }

            for (; i < n; i++)
            {
                Unsafe.Add(ref target, i) += Unsafe.Add(ref a, i) * Unsafe.Add(ref b, i);
            }
        }

        /// <summary>Σ values[i].</summary>
        private static T Sum<T>(ref T values, int n)
            where T : unmanaged, IBinaryFloatingPointIeee754<T>
        {
            int i = 0;
            T sum = T.Zero;
            if (Vector256.IsHardwareAccelerated && n >= Vector256<T>.Count)
            {
                var acc = Vector256<T>.Zero;
                for (; i <= n - Vector256<T>.Count; i += Vector256<T>.Count)
                {
                    acc += Vector256.LoadUnsafe(ref values, (nuint)i);
                }

                sum = Vector256.Sum(acc);
            }
            else if (Vector128.IsHardwareAccelerated && n >= Vector128<T>.Count)
            {
                var acc = Vector128<T>.Zero;
                for (; i <= n - Vector128<T>.Count; i += Vector128<T>.Count)
                {
                    acc += Vector128.LoadUnsafe(ref values, (nuint)i);
                }

                sum = Vector128.Sum(acc);
            }

            for (; i < n; i++)
            {
                sum += Unsafe.Add(ref values, i);
            }

            return sum;
        }

        /// <summary>Σ a[i]·b[i].</summary>
        private static T Dot<T>(ref T a, ref T b, int n)
            where T : unmanaged, IBinaryFloatingPointIeee754<T>
        {
            int i = 0;
            T sum = T.Zero;
            if (Vector256.IsHardwareAccelerated && n >= Vector256<T>.Count)
            {
                var acc = Vector256<T>.Zero;
                for (; i <= n - Vector256<T>.Count; i += Vector256<T>.Count)
                {
                    acc += Vector256.LoadUnsafe(ref a, (nuint)i) * Vector256.LoadUnsafe(ref b, (nuint)i);
                }

                sum = Vector256.Sum(acc);
            }
            else if (Vector128.IsHardwareAccelerated && n >= Vector128<T>.Count)
            {
                var acc = Vector128<T>.Zero;
                for (; i <= n - Vector128<T>.Count; i += Vector128<T>.Count)
                {
                    acc += Vector128.LoadUnsafe(ref a, (nuint)i) * Vector128.LoadUnsafe(ref b, (nuint)i);
                }

                sum = Vector128.Sum(acc);
            }

            for (; i < n; i++)
            {
                sum += Unsafe.Add(ref a, i) * Unsafe.Add(ref b, i);
            }

            return sum;
        }

        /// <summary>An element-wise operator on scalars and vectors; the JIT compiles one loop per operator.</summary>
        private interface IOperator
        {
            static abstract T Apply<T>(T a, T b)
                where T : unmanaged, IBinaryFloatingPointIeee754<T>;

            static abstract Vector256<T> Apply<T>(Vector256<T> a, Vector256<T> b)
                where T : unmanaged, IBinaryFloatingPointIeee754<T>;

            static abstract Vector128<T> Apply<T>(Vector128<T> a, Vector128<T> b)
                where T : unmanaged, IBinaryFloatingPointIeee754<T>;
        }

        private readonly struct AddOperator : IOperator
        {
            public static T Apply<T>(T a, T b)
                where T : unmanaged, IBinaryFloatingPointIeee754<T> => a + b;

            public static Vector256<T> Apply<T>(Vector256<T> a, Vector256<T> b)
                where T : unmanaged, IBinaryFloatingPointIeee754<T> => a + b;

            public static Vector128<T> Apply<T>(Vector128<T> a, Vector128<T> b)
                where T : unmanaged, IBinaryFloatingPointIeee754<T> => a + b;
        }

        private readonly struct SubtractOperator : IOperator
        {
            public static T Apply<T>(T a, T b)
                where T : unmanaged, IBinaryFloatingPointIeee754<T> => a - b;

            public static Vector256<T> Apply<T>(Vector256<T> a, Vector256<T> b)
                where T : unmanaged, IBinaryFloatingPointIeee754<T> => a - b;

            public static Vector128<T> Apply<T>(Vector128<T> a, Vector128<T> b)
                where T : unmanaged, IBinaryFloatingPointIeee754<T> => a - b;
        }

        private readonly struct MultiplyOperator : IOperator
        {
            public static T Apply<T>(T a, T b)
                where T : unmanaged, IBinaryFloatingPointIeee754<T> => a * b;

            public static Vector256<T> Apply<T>(Vector256<T> a, Vector256<T> b)
                where T : unmanaged, IBinaryFloatingPointIeee754<T> => a * b;

            public static Vector128<T> Apply<T>(Vector128<T> a, Vector128<T> b)
                where T : unmanaged, IBinaryFloatingPointIeee754<T> => a * b;
        }
    }
}
