using System;
using System.Diagnostics;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace StaticGrad.Kernels
{
    /// <summary>
    /// The kernels of attention in a graph of ops, forward and backward: batched matrix products (<c>MatMul</c>), softmax
    /// along one dimension, and fused scaled dot-product attention (<c>softmax(q·kᵀ/√d + mask)·v</c>, the probabilities kept
    /// for the backward pass). Every function works on <c>count</c> independent matrices stored one after another
    /// (the batch times the leading dimensions), row-major. Nothing is allocated and lengths are only asserted: generated
    /// code passes spans of the shapes it was compiled for.
    /// </summary>
    public static partial class Attention
    {
        /// <summary>
        /// <c>count</c> products <c>C = op(A)·op(B)</c>, C being <paramref name="m"/>×<paramref name="n"/> and the inner dimension
        /// <paramref name="k"/>: op(A) is A [m×k] or, when <paramref name="transposeA"/>, the transpose of A stored [k×m]; op(B) is
        /// B [k×n] or, when <paramref name="transposeB"/>, the transpose of B stored [n×k]. Overwrites C, or adds to it when
        /// <paramref name="accumulate"/>.
        /// </summary>
        public static void MatMul<T>(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> c, int count, int m, int k, int n, bool transposeA, bool transposeB, bool accumulate)
            where T : unmanaged, IBinaryFloatingPointIeee754<T>
        {
            Debug.Assert(a.Length >= count * m * k && b.Length >= count * k * n && c.Length >= count * m * n, "A span is shorter than count matrices.");
            Debug.Assert(!(transposeA && transposeB), "Both operands transposed is not a product the graph writes.");
            for (int item = 0; item < count; item++)
            {
                ReadOnlySpan<T> x = a.Slice(item * m * k, m * k);
                ReadOnlySpan<T> y = b.Slice(item * k * n, k * n);
                Span<T> z = c.Slice(item * m * n, m * n);
                if (!accumulate)
                {
                    z.Clear();
                }

                if (transposeB)
                {
                    // C[i,j] += A[i,:]·B[j,:]: dot products of rows.
                    for (int i = 0; i < m; i++)
                    {
                        ReadOnlySpan<T> row = x.Slice(i * k, k);
                        for (int j = 0; j < n; j++)
                        {
                            z[(i * n) + j] += Dot(row, y.Slice(j * k, k));
                        }
                    }
                }
                else
                {
                    // C[i,:] += A(i,p)·B[p,:]: rows of B scaled and added.
                    for (int i = 0; i < m; i++)
                    {
                        Span<T> target = z.Slice(i * n, n);
                        for (int p = 0; p < k; p++)
                        {
                            T scale = transposeA ? x[(p * m) + i] : x[(i * k) + p];
                            if (scale != T.Zero)
                            {
                                MultiplyAdd(scale, y.Slice(p * n, n), target);
                            }
                        }
                    }
                }
            }
        }

        /// <summary>
        /// Softmax along one dimension: x is lines of <c>length × inner</c> values (the dimension of <paramref name="length"/>
        /// is the one normalised, <paramref name="inner"/> the product of the dimensions after it), and
        /// <c>y = exp(x − max) / Σ exp(x − max)</c> along it. y may be x.
        /// </summary>
        public static void Softmax<T>(ReadOnlySpan<T> x, Span<T> y, int length, int inner)
            where T : unmanaged, IBinaryFloatingPointIeee754<T>
        {
            Debug.Assert(x.Length == y.Length && x.Length % (length * inner) == 0, "x and y must hold whole rows of the softmax.");
            int lines = x.Length / (length * inner);
            for (int line = 0; line < lines; line++)
            {
                int start = line * length * inner;
                for (int j = 0; j < inner; j++)
                {
                    int first = start + j;
                    T max = x[first];
                    for (int i = 1; i < length; i++)
                    {
                        max = T.Max(max, x[first + (i * inner)]);
                    }

                    T sum = T.Zero;
                    for (int i = 0; i < length; i++)
                    {
                        T e = T.Exp(x[first + (i * inner)] - max);
                        y[first + (i * inner)] = e;
                        sum += e;
                    }

                    T inverse = T.One / sum;
                    for (int i = 0; i < length; i++)
                    {
                        y[first + (i * inner)] *= inverse;
                    }
                }
            }
        }

        /// <summary>The backward pass of <see cref="Softmax{T}"/> from its output: <c>dx = y ⊙ (dy − Σ dy⊙y)</c> along the dimension; overwrites dx.</summary>
        public static void SoftmaxBackward<T>(ReadOnlySpan<T> y, ReadOnlySpan<T> outputGradient, Span<T> inputGradient, int length, int inner)
            where T : unmanaged, IBinaryFloatingPointIeee754<T>
        {
            Debug.Assert(y.Length == outputGradient.Length && y.Length == inputGradient.Length, "The spans must have one length.");
            int lines = y.Length / (length * inner);
            for (int line = 0; line < lines; line++)
            {
                int start = line * length * inner;
                for (int j = 0; j < inner; j++)
                {
                    int first = start + j;
                    T dot = T.Zero;
                    for (int i = 0; i < length; i++)
                    {
                        dot += outputGradient[first + (i * inner)] * y[first + (i * inner)];
                    }

                    for (int i = 0; i < length; i++)
                    {
                        int at = first + (i * inner);
                        inputGradient[at] = y[at] * (outputGradient[at] - dot);
                    }
                }
            }
        }

        /// <summary>
        /// Scaled dot-product attention, as PyTorch 2's <c>F.scaled_dot_product_attention(q, k, v, is_causal)</c> without dropout:
        /// for each of <paramref name="count"/> items, <c>P = softmax(q·kᵀ·scale + mask)</c> with q [tq×d], k [tk×d], and
        /// <c>output = P·v</c> with v [tk×dv]. The causal mask hides key j from query i when j &gt; i. P is written to
        /// <paramref name="probabilities"/> [count×tq×tk] for the backward pass.
        /// </summary>
        public static void ScaledDotProduct<T>(ReadOnlySpan<T> q, ReadOnlySpan<T> k, ReadOnlySpan<T> v, Span<T> output, Span<T> probabilities, int count, int tq, int tk, int d, int dv, bool causal, T scale)
            where T : unmanaged, IBinaryFloatingPointIeee754<T>
        {
            Debug.Assert(q.Length >= count * tq * d && k.Length >= count * tk * d && v.Length >= count * tk * dv, "An input is shorter than count items.");
            Debug.Assert(output.Length >= count * tq * dv && probabilities.Length >= count * tq * tk, "An output is shorter than count items.");
            for (int item = 0; item < count; item++)
            {
                ReadOnlySpan<T> qs = q.Slice(item * tq * d, tq * d), ks = k.Slice(item * tk * d, tk * d), vs = v.Slice(item * tk * dv, tk * dv);
                Span<T> p = probabilities.Slice(item * tq * tk, tq * tk), o = output.Slice(item * tq * dv, tq * dv);
                o.Clear();
                for (int i = 0; i < tq; i++)
                {
                    Span<T> row = p.Slice(i * tk, tk);
                    ReadOnlySpan<T> query = qs.Slice(i * d, d);
                    int visible = causal ? Math.Min(i + 1, tk) : tk;
                    T max = T.NegativeInfinity;
                    for (int j = 0; j < visible; j++)
                    {
                        T s = Dot(query, ks.Slice(j * d, d)) * scale;
                        row[j] = s;
                        max = T.Max(max, s);
                    }

                    T sum = T.Zero;
                    for (int j = 0; j < visible; j++)
                    {
                        T e = T.Exp(row[j] - max);
                        row[j] = e;
                        sum += e;
                    }

                    T inverse = T.One / sum;
                    Span<T> target = o.Slice(i * dv, dv);
                    for (int j = 0; j < visible; j++)
                    {
                        row[j] *= inverse;
                        MultiplyAdd(row[j], vs.Slice(j * dv, dv), target);
                    }

                    row.Slice(visible).Clear();
                }
            }
        }

        /// <summary>
        /// The backward pass of <see cref="ScaledDotProduct{T}"/> from the probabilities it kept: <c>dv = Pᵀ·dO</c>,
        /// <c>dP = dO·vᵀ</c>, <c>dS = P ⊙ (dP − Σⱼ dP⊙P)</c>, <c>dq = scale·dS·k</c>, <c>dk = scale·dSᵀ·q</c>. Overwrites the
        /// three input gradients; <paramref name="scratch"/> holds one row of dS (at least <paramref name="tk"/> values).
        /// </summary>
        public static void ScaledDotProductBackward<T>(ReadOnlySpan<T> q, ReadOnlySpan<T> k, ReadOnlySpan<T> v, ReadOnlySpan<T> probabilities, ReadOnlySpan<T> outputGradient,
            Span<T> queryGradient, Span<T> keyGradient, Span<T> valueGradient, Span<T> scratch, int count, int tq, int tk, int d, int dv, bool causal, T scale)
            where T : unmanaged, IBinaryFloatingPointIeee754<T>
        {
            Debug.Assert(scratch.Length >= tk, "The scratch must hold a row of scores.");
            for (int item = 0; item < count; item++)
            {
                ReadOnlySpan<T> qs = q.Slice(item * tq * d, tq * d), ks = k.Slice(item * tk * d, tk * d), vs = v.Slice(item * tk * dv, tk * dv);
                ReadOnlySpan<T> p = probabilities.Slice(item * tq * tk, tq * tk), dO = outputGradient.Slice(item * tq * dv, tq * dv);
                Span<T> dq = queryGradient.Slice(item * tq * d, tq * d), dk = keyGradient.Slice(item * tk * d, tk * d), dV = valueGradient.Slice(item * tk * dv, tk * dv);
                dq.Clear();
                dk.Clear();
                dV.Clear();
                Span<T> dS = scratch.Slice(0, tk);
                for (int i = 0; i < tq; i++)
                {
                    ReadOnlySpan<T> row = p.Slice(i * tk, tk), gradient = dO.Slice(i * dv, dv);
                    int visible = causal ? Math.Min(i + 1, tk) : tk;
                    T dot = T.Zero;
                    for (int j = 0; j < visible; j++)
                    {
                        // dv[j,:] += P[i,j]·dO[i,:]; dP[i,j] = dO[i,:]·v[j,:]
                        MultiplyAdd(row[j], gradient, dV.Slice(j * dv, dv));
                        T dp = Dot(gradient, vs.Slice(j * dv, dv));
                        dS[j] = dp;
                        dot += dp * row[j];
                    }

                    Span<T> queryRow = dq.Slice(i * d, d);
                    ReadOnlySpan<T> query = qs.Slice(i * d, d);
                    for (int j = 0; j < visible; j++)
                    {
                        T ds = row[j] * (dS[j] - dot) * scale;
                        if (ds != T.Zero)
                        {
                            MultiplyAdd(ds, ks.Slice(j * d, d), queryRow);
                            MultiplyAdd(ds, query, dk.Slice(j * d, d));
                        }
                    }
                }
            }
        }

        /// <summary>
        /// <see cref="ScaledDotProduct{T}"/> with its sizes fixed by <typeparamref name="TShape"/>: per item, <c>S = q·kᵀ</c> and
        /// <c>O = P·v</c> are matrix products on StaticGrad's GEMM kernels (the packed, register-blocked path from 32³ up), and
        /// each row's softmax (scaled, masked, vectorised) runs in place in <paramref name="probabilities"/> between them.
        /// With the causal mask the products still cover whole matrices; the hidden probabilities are exact zeros.
        /// </summary>
        /// <typeparam name="TShape">Tq, Tk, D and Dv as constants.</typeparam>
        /// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
        /// <param name="q">Queries, <c>count × Tq × D</c>.</param>
        /// <param name="k">Keys, <c>count × Tk × D</c>.</param>
        /// <param name="v">Values, <c>count × Tk × Dv</c>.</param>
        /// <param name="output">Receives <c>P·v</c>, <c>count × Tq × Dv</c>.</param>
        /// <param name="probabilities">Receives P, <c>count × Tq × Tk</c>, for the backward pass.</param>
        /// <param name="count">Independent items (the batch times the leading dimensions).</param>
        /// <param name="causal">Hide key j from query i when j &gt; i.</param>
        /// <param name="scale">The scores' factor, usually 1/√D; must be positive.</param>
        public static void ScaledDotProduct<TShape, T>(ReadOnlySpan<T> q, ReadOnlySpan<T> k, ReadOnlySpan<T> v, Span<T> output, Span<T> probabilities, int count, bool causal, T scale)
            where TShape : struct, IAttentionShape
            where T : unmanaged, IBinaryFloatingPointIeee754<T>
        {
            TShape s = default;
            int tq = s.Tq, tk = s.Tk, d = s.D, dv = s.Dv;
            Debug.Assert(q.Length >= count * tq * d && k.Length >= count * tk * d && v.Length >= count * tk * dv, "An input is shorter than count items.");
            Debug.Assert(output.Length >= count * tq * dv && probabilities.Length >= count * tq * tk, "An output is shorter than count items.");
            Debug.Assert(scale > T.Zero, "The scale must be positive.");
            ref T q0 = ref MemoryMarshal.GetReference(q), k0 = ref MemoryMarshal.GetReference(k), v0 = ref MemoryMarshal.GetReference(v);
            ref T o0 = ref MemoryMarshal.GetReference(output), p0 = ref MemoryMarshal.GetReference(probabilities);
            for (int item = 0; item < count; item++)
            {
                ref T p = ref Unsafe.Add(ref p0, item * tq * tk);
                Gemm.Multiply<AttentionProducts.Scores<TShape>, T>(ref Unsafe.Add(ref q0, item * tq * d), ref Unsafe.Add(ref k0, item * tk * d), ref p);
                Span<T> scores = MemoryMarshal.CreateSpan(ref p, tq * tk);
                for (int i = 0; i < tq; i++)
                {
                    AttentionProducts.SoftmaxRow(scores.Slice(i * tk, tk), causal ? Math.Min(i + 1, tk) : tk, scale);
                }

                Gemm.Multiply<AttentionProducts.Mix<TShape>, T>(ref p, ref Unsafe.Add(ref v0, item * tk * dv), ref Unsafe.Add(ref o0, item * tq * dv));
            }
        }

        /// <summary>
        /// The backward pass of <see cref="ScaledDotProduct{TShape, T}(ReadOnlySpan{T}, ReadOnlySpan{T}, ReadOnlySpan{T}, Span{T}, Span{T}, int, bool, T)"/> from the probabilities it kept, as four matrix products
        /// per item on StaticGrad's GEMM kernels: <c>dv = Pᵀ·dO</c>, <c>dP = dO·vᵀ</c>, then per row
        /// <c>dS = P ⊙ (dP − Σⱼ dP⊙P)·scale</c> in place, <c>dq = dS·k</c>, <c>dk = dSᵀ·q</c>. Overwrites the three input
        /// gradients; <paramref name="scratch"/> holds one item's dP (at least Tq·Tk values).
        /// </summary>
        /// <typeparam name="TShape">Tq, Tk, D and Dv as constants.</typeparam>
        /// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
        /// <param name="q">The forward pass's queries.</param>
        /// <param name="k">Its keys.</param>
        /// <param name="v">Its values.</param>
        /// <param name="probabilities">The probabilities it kept.</param>
        /// <param name="outputGradient">∂L/∂output, <c>count × Tq × Dv</c>.</param>
        /// <param name="queryGradient">Receives ∂L/∂q.</param>
        /// <param name="keyGradient">Receives ∂L/∂k.</param>
        /// <param name="valueGradient">Receives ∂L/∂v.</param>
        /// <param name="scratch">At least Tq·Tk values.</param>
        /// <param name="count">Independent items.</param>
        /// <param name="causal">The forward pass's mask.</param>
        /// <param name="scale">The forward pass's scale.</param>
        public static void ScaledDotProductBackward<TShape, T>(ReadOnlySpan<T> q, ReadOnlySpan<T> k, ReadOnlySpan<T> v, ReadOnlySpan<T> probabilities, ReadOnlySpan<T> outputGradient,
            Span<T> queryGradient, Span<T> keyGradient, Span<T> valueGradient, Span<T> scratch, int count, bool causal, T scale)
            where TShape : struct, IAttentionShape
            where T : unmanaged, IBinaryFloatingPointIeee754<T>
        {
            TShape s = default;
            int tq = s.Tq, tk = s.Tk, d = s.D, dv = s.Dv;
            Debug.Assert(scratch.Length >= tq * tk, "The scratch must hold an item's scores.");
            Debug.Assert(queryGradient.Length >= count * tq * d && keyGradient.Length >= count * tk * d && valueGradient.Length >= count * tk * dv, "A gradient is shorter than count items.");
            ref T q0 = ref MemoryMarshal.GetReference(q), k0 = ref MemoryMarshal.GetReference(k), v0 = ref MemoryMarshal.GetReference(v);
            ref T p0 = ref MemoryMarshal.GetReference(probabilities), dO0 = ref MemoryMarshal.GetReference(outputGradient);
            ref T dq0 = ref MemoryMarshal.GetReference(queryGradient), dk0 = ref MemoryMarshal.GetReference(keyGradient), dv0 = ref MemoryMarshal.GetReference(valueGradient);
            Span<T> dS = scratch.Slice(0, tq * tk);
            ref T ds0 = ref MemoryMarshal.GetReference(dS);
            for (int item = 0; item < count; item++)
            {
                ref T p = ref Unsafe.Add(ref p0, item * tq * tk);
                ref T dO = ref Unsafe.Add(ref dO0, item * tq * dv);
                Gemm.Multiply<AttentionProducts.ValueGradient<TShape>, T>(ref p, ref dO, ref Unsafe.Add(ref dv0, item * tk * dv));
                Gemm.Multiply<AttentionProducts.ProbabilityGradient<TShape>, T>(ref dO, ref Unsafe.Add(ref v0, item * tk * dv), ref ds0);
                ReadOnlySpan<T> itemProbabilities = MemoryMarshal.CreateReadOnlySpan(ref p, tq * tk);
                for (int i = 0; i < tq; i++)
                {
                    AttentionProducts.SoftmaxGradientRow(itemProbabilities.Slice(i * tk, tk), dS.Slice(i * tk, tk), causal ? Math.Min(i + 1, tk) : tk, scale);
                }

                Gemm.Multiply<AttentionProducts.QueryGradient<TShape>, T>(ref ds0, ref Unsafe.Add(ref k0, item * tk * d), ref Unsafe.Add(ref dq0, item * tq * d));
                Gemm.Multiply<AttentionProducts.KeyGradient<TShape>, T>(ref ds0, ref Unsafe.Add(ref q0, item * tq * d), ref Unsafe.Add(ref dk0, item * tk * d));
            }
        }

        /// <summary>Σᵢ x[i]·y[i], vectorised.</summary>
        internal static T Dot<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> y)
            where T : unmanaged, IBinaryFloatingPointIeee754<T>
        {
            int i = 0;
            T sum = T.Zero;
            if (Vector.IsHardwareAccelerated && x.Length >= Vector<T>.Count)
            {
                ReadOnlySpan<Vector<T>> xv = MemoryMarshal.Cast<T, Vector<T>>(x), yv = MemoryMarshal.Cast<T, Vector<T>>(y.Slice(0, x.Length));
                Vector<T> acc = Vector<T>.Zero;
                for (int v = 0; v < xv.Length; v++)
                {
                    acc += xv[v] * yv[v];
                }

                sum = Vector.Sum(acc);
                i = xv.Length * Vector<T>.Count;
            }

            for (; i < x.Length; i++)
            {
                sum += x[i] * y[i];
            }

            return sum;
        }

        /// <summary>y[i] += s·x[i], vectorised.</summary>
        internal static void MultiplyAdd<T>(T s, ReadOnlySpan<T> x, Span<T> y)
            where T : unmanaged, IBinaryFloatingPointIeee754<T>
        {
            int i = 0;
            if (Vector.IsHardwareAccelerated && x.Length >= Vector<T>.Count)
            {
                ReadOnlySpan<Vector<T>> xv = MemoryMarshal.Cast<T, Vector<T>>(x);
                Span<Vector<T>> yv = MemoryMarshal.Cast<T, Vector<T>>(y.Slice(0, x.Length));
                var scale = new Vector<T>(s);
                for (int v = 0; v < xv.Length; v++)
                {
                    yv[v] += scale * xv[v];
                }

                i = xv.Length * Vector<T>.Count;
            }

            for (; i < x.Length; i++)
            {
                y[i] += s * x[i];
            }
        }
    }
}
