using System;
using System.Numerics;

namespace StaticGrad.Kernels
{
    /// <summary>Fused attention split across a <see cref="WorkerTeam"/>: each thread takes a contiguous share of the items (examples × heads).</summary>
    public static partial class Attention
    {
        /// <summary>
        /// <see cref="ScaledDotProduct{TShape, T}(ReadOnlySpan{T}, ReadOnlySpan{T}, ReadOnlySpan{T}, Span{T}, Span{T}, int, bool, T)"/>
        /// with the items split across <paramref name="team"/>'s threads; the result is the same as on one thread.
        /// </summary>
        /// <typeparam name="TShape">Tq, Tk, D and Dv as constants.</typeparam>
        /// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
        /// <param name="q">Queries, <c>count × Tq × D</c>.</param>
        /// <param name="k">Keys, <c>count × Tk × D</c>.</param>
        /// <param name="v">Values, <c>count × Tk × Dv</c>.</param>
        /// <param name="output">Receives <c>P·v</c>, <c>count × Tq × Dv</c>.</param>
        /// <param name="probabilities">Receives P, <c>count × Tq × Tk</c>.</param>
        /// <param name="count">Independent items (the batch times the leading dimensions).</param>
        /// <param name="causal">Hide key j from query i when j &gt; i.</param>
        /// <param name="scale">The scores' factor, usually 1/√D; must be positive.</param>
        /// <param name="team">The threads to use, or <see langword="null"/> for this one.</param>
        public static unsafe void ScaledDotProduct<TShape, T>(ReadOnlySpan<T> q, ReadOnlySpan<T> k, ReadOnlySpan<T> v, Span<T> output, Span<T> probabilities, int count, bool causal, T scale, WorkerTeam? team)
            where TShape : struct, IAttentionShape
            where T : unmanaged, IBinaryFloatingPointIeee754<T>
        {
            if (team is null || count < 2)
            {
                ScaledDotProduct<TShape, T>(q, k, v, output, probabilities, count, causal, scale);
                return;
            }

            fixed (T* pq = q, pk = k, pv = v, po = output, pp = probabilities)
            {
                var job = new AttentionJob<TShape, T> { Q = pq, K = pk, V = pv, Output = po, Probabilities = pp, Count = count, Causal = causal, Scale = scale };
                team.Run(ref job);
            }
        }

        /// <summary>
        /// <see cref="ScaledDotProductBackward{TShape, T}(ReadOnlySpan{T}, ReadOnlySpan{T}, ReadOnlySpan{T}, ReadOnlySpan{T}, ReadOnlySpan{T}, Span{T}, Span{T}, Span{T}, Span{T}, int, bool, T)"/>
        /// with the items split across <paramref name="team"/>'s threads; the result is the same as on one thread. The calling
        /// thread's share uses <paramref name="scratch"/>; a worker's share uses scratch memory of that worker, allocated the first time.
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
        /// <param name="team">The threads to use, or <see langword="null"/> for this one.</param>
        public static unsafe void ScaledDotProductBackward<TShape, T>(ReadOnlySpan<T> q, ReadOnlySpan<T> k, ReadOnlySpan<T> v, ReadOnlySpan<T> probabilities, ReadOnlySpan<T> outputGradient,
            Span<T> queryGradient, Span<T> keyGradient, Span<T> valueGradient, Span<T> scratch, int count, bool causal, T scale, WorkerTeam? team)
            where TShape : struct, IAttentionShape
            where T : unmanaged, IBinaryFloatingPointIeee754<T>
        {
            if (team is null || count < 2)
            {
                ScaledDotProductBackward<TShape, T>(q, k, v, probabilities, outputGradient, queryGradient, keyGradient, valueGradient, scratch, count, causal, scale);
                return;
            }

            fixed (T* pq = q, pk = k, pv = v, pp = probabilities, pdo = outputGradient, pdq = queryGradient, pdk = keyGradient, pdv = valueGradient, ps = scratch)
            {
                var job = new AttentionJob<TShape, T>
                {
                    Q = pq, K = pk, V = pv, Probabilities = pp, Output = pdo, QueryGradient = pdq, KeyGradient = pdk, ValueGradient = pdv,
                    Scratch = ps, ScratchLength = scratch.Length, Count = count, Causal = causal, Scale = scale, Backward = true,
                };
                team.Run(ref job);
            }
        }

        /// <summary>One thread's share of fused attention, forward or backward: a contiguous run of items.</summary>
        private unsafe struct AttentionJob<TShape, T> : IPartitionedJob
            where TShape : struct, IAttentionShape
            where T : unmanaged, IBinaryFloatingPointIeee754<T>
        {
            public T* Q, K, V, Probabilities, Output; // Output is ∂L/∂output going backward
            public T* QueryGradient, KeyGradient, ValueGradient, Scratch;
            public int ScratchLength, Count;
            public bool Causal, Backward;
            public T Scale;

            public void Run(int part, int parts)
            {
                (int first, int end) = TeamShares.Of(Count, 1, part, parts);
                int n = end - first;
                if (n == 0)
                {
                    return;
                }

                TShape s = default;
                int tq = s.Tq, tk = s.Tk, d = s.D, dv = s.Dv;
                var q = new ReadOnlySpan<T>(Q + ((nint)first * tq * d), n * tq * d);
                var k = new ReadOnlySpan<T>(K + ((nint)first * tk * d), n * tk * d);
                var v = new ReadOnlySpan<T>(V + ((nint)first * tk * dv), n * tk * dv);
                var p = new Span<T>(Probabilities + ((nint)first * tq * tk), n * tq * tk);
                var o = new Span<T>(Output + ((nint)first * tq * dv), n * tq * dv);
                if (!Backward)
                {
                    ScaledDotProduct<TShape, T>(q, k, v, o, p, n, Causal, Scale);
                    return;
                }

                Span<T> scratch = part == 0 ? new Span<T>(Scratch, ScratchLength) : ThreadScratch<T>.Get(tq * tk);
                ScaledDotProductBackward<TShape, T>(q, k, v, p, o,
                    new Span<T>(QueryGradient + ((nint)first * tq * d), n * tq * d), new Span<T>(KeyGradient + ((nint)first * tk * d), n * tk * d),
                    new Span<T>(ValueGradient + ((nint)first * tk * dv), n * tk * dv), scratch, n, Causal, Scale);
            }
        }
    }
}
