using System;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace StaticGrad.Kernels
{
    /// <summary>
    /// The element-wise and reduction loops of a network that need no unrolling: ReLU forward and backward, and the column
    /// sums of a bias gradient. Vectorised (Vector512, Vector256 or Vector128 as the CPU has them) with a scalar tail;
    /// generated networks call them after checking every length.
    /// </summary>
    public static class Elementwise
    {
        /// <summary><c>y = max(0, x)</c>, element by element; a NaN stays NaN, as in PyTorch.</summary>
        /// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
        /// <param name="x">The input.</param>
        /// <param name="y">Receives the output; at least as long as <paramref name="x"/> (may be <paramref name="x"/> itself).</param>
        /// <exception cref="ArgumentException"><paramref name="y"/> is shorter than <paramref name="x"/>.</exception>
        public static void Relu<T>(ReadOnlySpan<T> x, Span<T> y)
            where T : unmanaged, IBinaryFloatingPointIeee754<T>
        {
            if (y.Length < x.Length)
            {
                throw new ArgumentException($"y must hold at least x's {x.Length} elements, but has length {y.Length}.", nameof(y));
            }

            ref T from = ref MemoryMarshal.GetReference(x);
            ref T to = ref MemoryMarshal.GetReference(y);
            int length = x.Length, i = 0;
            if (Vector256.IsHardwareAccelerated)
            {
                for (; i <= length - Vector256<T>.Count; i += Vector256<T>.Count)
                {
                    var v = Vector256.LoadUnsafe(ref from, (nuint)i);
                    // Where v < 0 take 0, else v: a NaN compares false and is kept.
                    Vector256.ConditionalSelect(Vector256.LessThan(v, Vector256<T>.Zero), Vector256<T>.Zero, v).StoreUnsafe(ref to, (nuint)i);
                }
            }
            else if (Vector128.IsHardwareAccelerated)
            {
                for (; i <= length - Vector128<T>.Count; i += Vector128<T>.Count)
                {
                    var v = Vector128.LoadUnsafe(ref from, (nuint)i);
                    Vector128.ConditionalSelect(Vector128.LessThan(v, Vector128<T>.Zero), Vector128<T>.Zero, v).StoreUnsafe(ref to, (nuint)i);
                }
            }

            for (; i < length; i++)
            {
                T v = Unsafe.Add(ref from, i);
                Unsafe.Add(ref to, i) = v < T.Zero ? T.Zero : v;
            }
        }

        /// <summary>
        /// <c>y = max(0, a + b)</c>, element by element: an addition with the ReLU that alone reads it applied in the same pass
        /// (a residual block's last two steps), the same values as <c>a + b</c> then <see cref="Relu{T}"/>.
        /// </summary>
        /// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
        /// <param name="a">The first operand.</param>
        /// <param name="b">The second operand, as long as <paramref name="a"/>.</param>
        /// <param name="y">Receives the output; at least as long as <paramref name="a"/> (may be either operand).</param>
        /// <exception cref="ArgumentException">A span is shorter than <paramref name="a"/>.</exception>
        public static void AddRelu<T>(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> y)
            where T : unmanaged, IBinaryFloatingPointIeee754<T>
        {
            if (b.Length < a.Length)
            {
                throw new ArgumentException($"b must hold at least a's {a.Length} elements, but has length {b.Length}.", nameof(b));
            }

            if (y.Length < a.Length)
            {
                throw new ArgumentException($"y must hold at least a's {a.Length} elements, but has length {y.Length}.", nameof(y));
            }

            ref T left = ref MemoryMarshal.GetReference(a);
            ref T right = ref MemoryMarshal.GetReference(b);
            ref T to = ref MemoryMarshal.GetReference(y);
            int length = a.Length, i = 0;
            if (Vector256.IsHardwareAccelerated)
            {
                for (; i <= length - Vector256<T>.Count; i += Vector256<T>.Count)
                {
                    var v = Vector256.LoadUnsafe(ref left, (nuint)i) + Vector256.LoadUnsafe(ref right, (nuint)i);
                    Vector256.ConditionalSelect(Vector256.LessThan(v, Vector256<T>.Zero), Vector256<T>.Zero, v).StoreUnsafe(ref to, (nuint)i);
                }
            }
            else if (Vector128.IsHardwareAccelerated)
            {
                for (; i <= length - Vector128<T>.Count; i += Vector128<T>.Count)
                {
                    var v = Vector128.LoadUnsafe(ref left, (nuint)i) + Vector128.LoadUnsafe(ref right, (nuint)i);
                    Vector128.ConditionalSelect(Vector128.LessThan(v, Vector128<T>.Zero), Vector128<T>.Zero, v).StoreUnsafe(ref to, (nuint)i);
                }
            }

            for (; i < length; i++)
            {
                T v = Unsafe.Add(ref left, i) + Unsafe.Add(ref right, i);
                Unsafe.Add(ref to, i) = v < T.Zero ? T.Zero : v;
            }
        }

        /// <summary>
        /// The backward pass of <see cref="AddRelu{T}"/>: <c>da = db = dY · [y &gt; 0]</c>, written to each gradient that is
        /// not empty, in one pass.
        /// </summary>
        /// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
        /// <param name="y">The output of <see cref="AddRelu{T}"/>.</param>
        /// <param name="outputGradient">∂L/∂y, as long as <paramref name="y"/>.</param>
        /// <param name="firstGradient">Receives ∂L/∂a (at least as long as <paramref name="y"/>), or empty when it is not needed.</param>
        /// <param name="secondGradient">Receives ∂L/∂b, or empty.</param>
        /// <exception cref="ArgumentException">A span that is not empty is shorter than <paramref name="y"/>.</exception>
        public static void AddReluBackward<T>(ReadOnlySpan<T> y, ReadOnlySpan<T> outputGradient, Span<T> firstGradient, Span<T> secondGradient)
            where T : unmanaged, IBinaryFloatingPointIeee754<T>
        {
            if (firstGradient.IsEmpty || secondGradient.IsEmpty)
            {
                ReluBackward(y, outputGradient, firstGradient.IsEmpty ? secondGradient : firstGradient);
                return;
            }

            if (outputGradient.Length < y.Length || firstGradient.Length < y.Length || secondGradient.Length < y.Length)
            {
                throw new ArgumentException($"outputGradient, firstGradient and secondGradient must hold at least y's {y.Length} elements, but have lengths {outputGradient.Length}, {firstGradient.Length} and {secondGradient.Length}.", nameof(outputGradient));
            }

            ref T output = ref MemoryMarshal.GetReference(y);
            ref T dY = ref MemoryMarshal.GetReference(outputGradient);
            ref T dA = ref MemoryMarshal.GetReference(firstGradient);
            ref T dB = ref MemoryMarshal.GetReference(secondGradient);
            int length = y.Length, i = 0;
            if (Vector256.IsHardwareAccelerated)
            {
                for (; i <= length - Vector256<T>.Count; i += Vector256<T>.Count)
                {
                    var g = Vector256.LoadUnsafe(ref dY, (nuint)i) & Vector256.GreaterThan(Vector256.LoadUnsafe(ref output, (nuint)i), Vector256<T>.Zero);
                    g.StoreUnsafe(ref dA, (nuint)i);
                    g.StoreUnsafe(ref dB, (nuint)i);
                }
            }
            else if (Vector128.IsHardwareAccelerated)
            {
                for (; i <= length - Vector128<T>.Count; i += Vector128<T>.Count)
                {
                    var g = Vector128.LoadUnsafe(ref dY, (nuint)i) & Vector128.GreaterThan(Vector128.LoadUnsafe(ref output, (nuint)i), Vector128<T>.Zero);
                    g.StoreUnsafe(ref dA, (nuint)i);
                    g.StoreUnsafe(ref dB, (nuint)i);
                }
            }

            for (; i < length; i++)
            {
                T g = Unsafe.Add(ref output, i) > T.Zero ? Unsafe.Add(ref dY, i) : T.Zero;
                Unsafe.Add(ref dA, i) = g;
                Unsafe.Add(ref dB, i) = g;
            }
        }

        /// <summary><c>dX = dY · [y &gt; 0]</c>, from ReLU's output y (y &gt; 0 exactly where x &gt; 0).</summary>
        /// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
        /// <param name="y">ReLU's output.</param>
        /// <param name="outputGradient">∂L/∂y, as long as <paramref name="y"/>.</param>
        /// <param name="inputGradient">Receives ∂L/∂x; at least as long as <paramref name="y"/>.</param>
        /// <exception cref="ArgumentException">A span is shorter than <paramref name="y"/>.</exception>
        public static void ReluBackward<T>(ReadOnlySpan<T> y, ReadOnlySpan<T> outputGradient, Span<T> inputGradient)
            where T : unmanaged, IBinaryFloatingPointIeee754<T>
        {
            if (outputGradient.Length < y.Length)
            {
                throw new ArgumentException($"outputGradient must hold at least y's {y.Length} elements, but has length {outputGradient.Length}.", nameof(outputGradient));
            }

            if (inputGradient.Length < y.Length)
            {
                throw new ArgumentException($"inputGradient must hold at least y's {y.Length} elements, but has length {inputGradient.Length}.", nameof(inputGradient));
            }

            ref T output = ref MemoryMarshal.GetReference(y);
            ref T dY = ref MemoryMarshal.GetReference(outputGradient);
            ref T dX = ref MemoryMarshal.GetReference(inputGradient);
            int length = y.Length, i = 0;
            if (Vector256.IsHardwareAccelerated)
            {
                for (; i <= length - Vector256<T>.Count; i += Vector256<T>.Count)
                {
                    var positive = Vector256.GreaterThan(Vector256.LoadUnsafe(ref output, (nuint)i), Vector256<T>.Zero);
                    (Vector256.LoadUnsafe(ref dY, (nuint)i) & positive).StoreUnsafe(ref dX, (nuint)i);
                }
            }
            else if (Vector128.IsHardwareAccelerated)
            {
                for (; i <= length - Vector128<T>.Count; i += Vector128<T>.Count)
                {
                    var positive = Vector128.GreaterThan(Vector128.LoadUnsafe(ref output, (nuint)i), Vector128<T>.Zero);
                    (Vector128.LoadUnsafe(ref dY, (nuint)i) & positive).StoreUnsafe(ref dX, (nuint)i);
                }
            }

            for (; i < length; i++)
            {
                Unsafe.Add(ref dX, i) = Unsafe.Add(ref output, i) > T.Zero ? Unsafe.Add(ref dY, i) : T.Zero;
            }
        }

        /// <summary>
        /// The column sums of a row-major matrix, <c>sums[j] (+)= Σ_r matrix[r, j]</c>: a bias gradient <c>db = Σ_b dY[b,:]</c>.
        /// Rows are added in order, so the result does not depend on the vector width.
        /// </summary>
        /// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
        /// <param name="matrix">Whole rows of <c>sums.Length</c> elements.</param>
        /// <param name="sums">Receives the column sums, one per column.</param>
        /// <param name="accumulate">Add to <paramref name="sums"/> instead of overwriting it.</param>
        /// <exception cref="ArgumentException"><paramref name="matrix"/> does not hold whole rows.</exception>
        public static void SumRows<T>(ReadOnlySpan<T> matrix, Span<T> sums, bool accumulate)
            where T : unmanaged, IBinaryFloatingPointIeee754<T>
        {
            int columns = sums.Length;
            if (columns == 0 || matrix.Length % columns != 0)
            {
                throw new ArgumentException($"matrix must hold whole rows of {columns} elements, but has length {matrix.Length}.", nameof(matrix));
            }

            if (!accumulate)
            {
                sums.Clear();
            }

            ref T sum = ref MemoryMarshal.GetReference(sums);
            for (int start = 0; start < matrix.Length; start += columns)
            {
                ref T row = ref Unsafe.Add(ref MemoryMarshal.GetReference(matrix), start);
                int j = 0;
                if (Vector256.IsHardwareAccelerated)
                {
                    for (; j <= columns - Vector256<T>.Count; j += Vector256<T>.Count)
                    {
                        (Vector256.LoadUnsafe(ref sum, (nuint)j) + Vector256.LoadUnsafe(ref row, (nuint)j)).StoreUnsafe(ref sum, (nuint)j);
                    }
                }

                for (; j < columns; j++)
                {
                    Unsafe.Add(ref sum, j) += Unsafe.Add(ref row, j);
                }
            }
        }
    }
}
