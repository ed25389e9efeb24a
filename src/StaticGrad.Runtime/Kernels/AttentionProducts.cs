using System;
using System.Diagnostics;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace StaticGrad.Kernels
{
    /// <summary>
    /// The dimensions of one scaled dot-product attention, fixed at compile time: q [Tq×D], k [Tk×D], v [Tk×Dv] per item.
    /// Generated code implements it on a struct whose properties return constants, so the matrix products the attention
    /// kernels run (<see cref="Attention.ScaledDotProduct{TShape, T}(ReadOnlySpan{T}, ReadOnlySpan{T}, ReadOnlySpan{T}, Span{T}, Span{T}, int, bool, T)"/>) are compiled for their sizes, as every
    /// <see cref="IGemmShape"/> is.
    /// </summary>
    public interface IAttentionShape
    {
        /// <summary>Query positions.</summary>
        int Tq { get; }

        /// <summary>Key (and value) positions.</summary>
        int Tk { get; }

        /// <summary>Features of a query and of a key.</summary>
        int D { get; }

        /// <summary>Features of a value (and of the output).</summary>
        int Dv { get; }
    }

    /// <summary>The six products of attention on one item, as <see cref="IGemmShape"/>s built from an <see cref="IAttentionShape"/>.</summary>
    internal static class AttentionProducts
    {
        /// <summary>S[Tq×Tk] = q·kᵀ.</summary>
        public struct Scores<TShape> : IGemmShape
            where TShape : struct, IAttentionShape
        {
            public int M => default(TShape).Tq;

            public int N => default(TShape).Tk;

            public int K => default(TShape).D;

            public int LeadingA => default(TShape).D;

            public int LeadingB => default(TShape).D;

            public bool TransposeA => false;

            public bool TransposeB => true;

            public bool Accumulate => false;
        }

        /// <summary>O[Tq×Dv] = P·v.</summary>
        public struct Mix<TShape> : IGemmShape
            where TShape : struct, IAttentionShape
        {
            public int M => default(TShape).Tq;

            public int N => default(TShape).Dv;

            public int K => default(TShape).Tk;

            public int LeadingA => default(TShape).Tk;

            public int LeadingB => default(TShape).Dv;

            public bool TransposeA => false;

            public bool TransposeB => false;

            public bool Accumulate => false;
        }

        /// <summary>dv[Tk×Dv] = Pᵀ·dO, P stored [Tq×Tk].</summary>
        public struct ValueGradient<TShape> : IGemmShape
            where TShape : struct, IAttentionShape
        {
            public int M => default(TShape).Tk;

            public int N => default(TShape).Dv;

            public int K => default(TShape).Tq;

            public int LeadingA => default(TShape).Tk;

            public int LeadingB => default(TShape).Dv;

            public bool TransposeA => true;

            public bool TransposeB => false;

            public bool Accumulate => false;
        }

        /// <summary>dP[Tq×Tk] = dO·vᵀ.</summary>
        public struct ProbabilityGradient<TShape> : IGemmShape
            where TShape : struct, IAttentionShape
        {
            public int M => default(TShape).Tq;

            public int N => default(TShape).Tk;

            public int K => default(TShape).Dv;

            public int LeadingA => default(TShape).Dv;

            public int LeadingB => default(TShape).Dv;

            public bool TransposeA => false;

            public bool TransposeB => true;

            public bool Accumulate => false;
        }

        /// <summary>dq[Tq×D] = dS·k.</summary>
        public struct QueryGradient<TShape> : IGemmShape
            where TShape : struct, IAttentionShape
        {
            public int M => default(TShape).Tq;

            public int N => default(TShape).D;

            public int K => default(TShape).Tk;

            public int LeadingA => default(TShape).Tk;

            public int LeadingB => default(TShape).D;

            public bool TransposeA => false;

            public bool TransposeB => false;

            public bool Accumulate => false;
        }

        /// <summary>dk[Tk×D] = dSᵀ·q, dS stored [Tq×Tk].</summary>
        public struct KeyGradient<TShape> : IGemmShape
            where TShape : struct, IAttentionShape
        {
            public int M => default(TShape).Tk;

            public int N => default(TShape).D;

            public int K => default(TShape).Tq;

            public int LeadingA => default(TShape).Tk;

            public int LeadingB => default(TShape).D;

            public bool TransposeA => true;

            public bool TransposeB => false;

            public bool Accumulate => false;
        }

        /// <summary>
        /// One row of scores in place: <c>row[j] = exp((row[j] − max)·scale) / Σ</c> over the first <paramref name="visible"/>
        /// entries (scale &gt; 0, so the maximum of the scaled scores is the scaled maximum), zeros after them.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void SoftmaxRow<T>(Span<T> row, int visible, T scale)
            where T : unmanaged, IBinaryFloatingPointIeee754<T>
        {
            ref T r = ref MemoryMarshal.GetReference(row);
            T max = T.NegativeInfinity;
            for (int j = 0; j < visible; j++)
            {
                max = T.Max(max, Unsafe.Add(ref r, j));
            }

            T sum;
            if (typeof(T) == typeof(float))
            {
                sum = T.CreateTruncating(ExpRow(ref Unsafe.As<T, float>(ref r), visible, float.CreateTruncating(max), float.CreateTruncating(scale)));
            }
            else
            {
                sum = T.Zero;
                for (int j = 0; j < visible; j++)
                {
                    T e = T.Exp((Unsafe.Add(ref r, j) - max) * scale);
                    Unsafe.Add(ref r, j) = e;
                    sum += e;
                }
            }

            Scale(ref r, visible, T.One / sum);
            row.Slice(visible).Clear();
        }

        /// <summary>
        /// One row of the scores' gradient in place, from the probabilities: <c>dS[j] = P[j]·(dP[j] − Σ P⊙dP)·scale</c> over
        /// the first <paramref name="visible"/> entries, zeros after them.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void SoftmaxGradientRow<T>(ReadOnlySpan<T> probabilities, Span<T> gradient, int visible, T scale)
            where T : unmanaged, IBinaryFloatingPointIeee754<T>
        {
            ref T p = ref MemoryMarshal.GetReference(probabilities);
            ref T g = ref MemoryMarshal.GetReference(gradient);
            T dot = Attention.Dot(probabilities.Slice(0, visible), gradient.Slice(0, visible));
            int j = 0;
            if (Vector512.IsHardwareAccelerated)
            {
                Vector512<T> d = Vector512.Create(dot), s = Vector512.Create(scale);
                for (; j <= visible - Vector512<T>.Count; j += Vector512<T>.Count)
                {
                    (Vector512.LoadUnsafe(ref p, (nuint)j) * (Vector512.LoadUnsafe(ref g, (nuint)j) - d) * s).StoreUnsafe(ref g, (nuint)j);
                }
            }
            else if (Vector256.IsHardwareAccelerated)
            {
                Vector256<T> d = Vector256.Create(dot), s = Vector256.Create(scale);
                for (; j <= visible - Vector256<T>.Count; j += Vector256<T>.Count)
                {
                    (Vector256.LoadUnsafe(ref p, (nuint)j) * (Vector256.LoadUnsafe(ref g, (nuint)j) - d) * s).StoreUnsafe(ref g, (nuint)j);
                }
            }
            else if (Vector128.IsHardwareAccelerated)
            {
                Vector128<T> d = Vector128.Create(dot), s = Vector128.Create(scale);
                for (; j <= visible - Vector128<T>.Count; j += Vector128<T>.Count)
                {
                    (Vector128.LoadUnsafe(ref p, (nuint)j) * (Vector128.LoadUnsafe(ref g, (nuint)j) - d) * s).StoreUnsafe(ref g, (nuint)j);
                }
            }

            for (; j < visible; j++)
            {
                Unsafe.Add(ref g, j) = Unsafe.Add(ref p, j) * (Unsafe.Add(ref g, j) - dot) * scale;
            }

            gradient.Slice(visible).Clear();
        }

        /// <summary>row[j] = e^((row[j] − max)·scale) for the first <paramref name="length"/> floats; returns their sum.</summary>
        private static float ExpRow(ref float row, int length, float max, float scale)
        {
            int j = 0;
            float sum = 0f;
            if (Vector512.IsHardwareAccelerated)
            {
                Vector512<float> m = Vector512.Create(max), s = Vector512.Create(scale), total = Vector512<float>.Zero;
                for (; j <= length - Vector512<float>.Count; j += Vector512<float>.Count)
                {
                    Vector512<float> e = VectorMath.Exp((Vector512.LoadUnsafe(ref row, (nuint)j) - m) * s);
                    e.StoreUnsafe(ref row, (nuint)j);
                    total += e;
                }

                sum = Vector512.Sum(total);
            }
            else if (Vector256.IsHardwareAccelerated)
            {
                Vector256<float> m = Vector256.Create(max), s = Vector256.Create(scale), total = Vector256<float>.Zero;
                for (; j <= length - Vector256<float>.Count; j += Vector256<float>.Count)
                {
                    Vector256<float> e = VectorMath.Exp((Vector256.LoadUnsafe(ref row, (nuint)j) - m) * s);
                    e.StoreUnsafe(ref row, (nuint)j);
                    total += e;
                }

                sum = Vector256.Sum(total);
            }
            else if (Vector128.IsHardwareAccelerated)
            {
                Vector128<float> m = Vector128.Create(max), s = Vector128.Create(scale), total = Vector128<float>.Zero;
                for (; j <= length - Vector128<float>.Count; j += Vector128<float>.Count)
                {
                    Vector128<float> e = VectorMath.Exp((Vector128.LoadUnsafe(ref row, (nuint)j) - m) * s);
                    e.StoreUnsafe(ref row, (nuint)j);
                    total += e;
                }

                sum = Vector128.Sum(total);
            }

            for (; j < length; j++)
            {
                float e = VectorMath.Exp((Unsafe.Add(ref row, j) - max) * scale);
                Unsafe.Add(ref row, j) = e;
                sum += e;
            }

            return sum;
        }

        /// <summary>row[j] *= factor for the first <paramref name="length"/> values.</summary>
        private static void Scale<T>(ref T row, int length, T factor)
            where T : unmanaged, IBinaryFloatingPointIeee754<T>
        {
            int j = 0;
            if (Vector512.IsHardwareAccelerated)
            {
                Vector512<T> f = Vector512.Create(factor);
                for (; j <= length - Vector512<T>.Count; j += Vector512<T>.Count)
                {
                    (Vector512.LoadUnsafe(ref row, (nuint)j) * f).StoreUnsafe(ref row, (nuint)j);
                }
            }
            else if (Vector256.IsHardwareAccelerated)
            {
                Vector256<T> f = Vector256.Create(factor);
                for (; j <= length - Vector256<T>.Count; j += Vector256<T>.Count)
                {
                    (Vector256.LoadUnsafe(ref row, (nuint)j) * f).StoreUnsafe(ref row, (nuint)j);
                }
            }
            else if (Vector128.IsHardwareAccelerated)
            {
                Vector128<T> f = Vector128.Create(factor);
                for (; j <= length - Vector128<T>.Count; j += Vector128<T>.Count)
                {
                    (Vector128.LoadUnsafe(ref row, (nuint)j) * f).StoreUnsafe(ref row, (nuint)j);
                }
            }

            for (; j < length; j++)
            {
                Unsafe.Add(ref row, j) *= factor;
            }
        }
    }
}
