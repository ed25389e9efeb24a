using System;
using System.Numerics;

namespace StaticGrad.Kernels
{
    /// <summary>Layer normalisation split across a <see cref="WorkerTeam"/>: each thread takes a contiguous share of the rows.</summary>
    public static partial class Normalization
    {
        /// <summary>Fewer rows than this run on the calling thread alone.</summary>
        private const int TeamRows = 64;

        /// <summary>
        /// <see cref="LayerNorm{T}(ReadOnlySpan{T}, int, int, ReadOnlySpan{T}, ReadOnlySpan{T}, double, Span{T}, Span{T}, Span{T})"/>
        /// with the rows split across <paramref name="team"/>'s threads; the result is the same as on one thread.
        /// </summary>
        /// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
        /// <param name="x">The input, <c>[rows × features]</c>.</param>
        /// <param name="rows">Rows (every dimension before the normalised one, multiplied).</param>
        /// <param name="features">Values normalised together.</param>
        /// <param name="weight">γ, <c>[features]</c>.</param>
        /// <param name="bias">β, <c>[features]</c>.</param>
        /// <param name="epsilon">Added to the variance.</param>
        /// <param name="y">Receives the output, <c>[rows × features]</c>.</param>
        /// <param name="savedMean">Receives each row's mean, <c>[rows]</c>.</param>
        /// <param name="savedInvStd">Receives each row's <c>1/√(var + ε)</c>, <c>[rows]</c>.</param>
        /// <param name="team">The threads to use, or <see langword="null"/> for this one.</param>
        public static unsafe void LayerNorm<T>(ReadOnlySpan<T> x, int rows, int features, ReadOnlySpan<T> weight, ReadOnlySpan<T> bias, double epsilon, Span<T> y, Span<T> savedMean, Span<T> savedInvStd, WorkerTeam? team)
            where T : unmanaged, IBinaryFloatingPointIeee754<T>
        {
            if (team is null || rows < TeamRows)
            {
                LayerNorm(x, rows, features, weight, bias, epsilon, y, savedMean, savedInvStd);
                return;
            }

            fixed (T* px = x, pw = weight, pb = bias, py = y, pm = savedMean, ps = savedInvStd)
            {
                var job = new LayerNormJob<T> { X = px, Weight = pw, Bias = pb, Y = py, Mean = pm, InvStd = ps, Rows = rows, Features = features, Epsilon = epsilon };
                team.Run(ref job);
            }
        }

        /// <summary>
        /// <see cref="LayerNormBackward{T}(ReadOnlySpan{T}, ReadOnlySpan{T}, int, int, ReadOnlySpan{T}, ReadOnlySpan{T}, ReadOnlySpan{T}, Span{T}, Span{T}, Span{T}, bool)"/>
        /// with the rows split across <paramref name="team"/>'s threads. The input gradient is the same as on one thread; the
        /// first share's parameter gradients are added directly, each other share's are summed apart and then added in share
        /// order, so a given number of threads always gives the same result (another number may differ in the last bits).
        /// The other shares' sums live in this thread's scratch memory, allocated on the first call.
        /// </summary>
        /// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
        /// <param name="x">The forward input, <c>[rows × features]</c>.</param>
        /// <param name="outputGradient">∂L/∂y, <c>[rows × features]</c>.</param>
        /// <param name="rows">Rows.</param>
        /// <param name="features">Values normalised together.</param>
        /// <param name="weight">γ, <c>[features]</c>.</param>
        /// <param name="savedMean">The forward pass's row means, <c>[rows]</c>.</param>
        /// <param name="savedInvStd">The forward pass's <c>1/√(var + ε)</c>, <c>[rows]</c>.</param>
        /// <param name="weightGradient">∂L/∂γ is added to it, <c>[features]</c>.</param>
        /// <param name="biasGradient">∂L/∂β is added to it, <c>[features]</c>.</param>
        /// <param name="inputGradient">Receives ∂L/∂x, <c>[rows × features]</c>.</param>
        /// <param name="team">The threads to use, or <see langword="null"/> for this one.</param>
        /// <param name="accumulateInput">Add ∂L/∂x to <paramref name="inputGradient"/> instead of overwriting it.</param>
        public static unsafe void LayerNormBackward<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> outputGradient, int rows, int features, ReadOnlySpan<T> weight, ReadOnlySpan<T> savedMean, ReadOnlySpan<T> savedInvStd, Span<T> weightGradient, Span<T> biasGradient, Span<T> inputGradient, WorkerTeam? team, bool accumulateInput = false)
            where T : unmanaged, IBinaryFloatingPointIeee754<T>
        {
            if (team is null || rows < TeamRows)
            {
                LayerNormBackward(x, outputGradient, rows, features, weight, savedMean, savedInvStd, weightGradient, biasGradient, inputGradient, accumulateInput);
                return;
            }

            // Shares 1 … parts − 1 sum their parameter gradients here: 2·features each, zeroed first.
            Span<T> partials = ThreadScratch<T>.Get((team.Threads - 1) * 2 * features);
            partials.Clear();
            int parts;
            fixed (T* px = x, pdy = outputGradient, pw = weight, pm = savedMean, ps = savedInvStd, pdw = weightGradient, pdb = biasGradient, pdx = inputGradient, pp = partials)
            {
                var job = new LayerNormBackwardJob<T>
                {
                    X = px, OutputGradient = pdy, Weight = pw, Mean = pm, InvStd = ps, WeightGradient = pdw, BiasGradient = pdb, InputGradient = pdx,
                    Partials = pp, Rows = rows, Features = features, AccumulateInput = accumulateInput,
                };
                team.Run(ref job);
                parts = job.Parts;
            }

            // A busy team runs the job as one share: then there is nothing to add.
            for (int part = 1; part < parts; part++)
            {
                Span<T> share = partials.Slice((part - 1) * 2 * features, 2 * features);
                for (int j = 0; j < features; j++)
                {
                    weightGradient[j] += share[j];
                    biasGradient[j] += share[features + j];
                }
            }
        }

        /// <summary>One thread's share of a LayerNorm forward pass: a contiguous run of rows.</summary>
        private unsafe struct LayerNormJob<T> : IPartitionedJob
            where T : unmanaged, IBinaryFloatingPointIeee754<T>
        {
            public T* X, Weight, Bias, Y, Mean, InvStd;
            public int Rows, Features;
            public double Epsilon;

            public void Run(int part, int parts)
            {
                (int first, int end) = TeamShares.Of(Rows, 1, part, parts);
                int n = end - first, f = Features;
                if (n > 0)
                {
                    LayerNorm(new ReadOnlySpan<T>(X + ((nint)first * f), n * f), n, f, new ReadOnlySpan<T>(Weight, f), new ReadOnlySpan<T>(Bias, f), Epsilon,
                        new Span<T>(Y + ((nint)first * f), n * f), new Span<T>(Mean + first, n), new Span<T>(InvStd + first, n));
                }
            }
        }

        /// <summary>One thread's share of a LayerNorm backward pass: a contiguous run of rows; shares after the first sum their parameter gradients apart.</summary>
        private unsafe struct LayerNormBackwardJob<T> : IPartitionedJob
            where T : unmanaged, IBinaryFloatingPointIeee754<T>
        {
            public T* X, OutputGradient, Weight, Mean, InvStd, WeightGradient, BiasGradient, InputGradient, Partials;
            public int Rows, Features, Parts;
            public bool AccumulateInput;

            public void Run(int part, int parts)
            {
                if (part == 0)
                {
                    Parts = parts; // written by the calling thread's share before the team's call returns
                }

                (int first, int end) = TeamShares.Of(Rows, 1, part, parts);
                int n = end - first, f = Features;
                if (n == 0)
                {
                    return;
                }

                T* dW = part == 0 ? WeightGradient : Partials + ((nint)(part - 1) * 2 * f);
                T* dB = part == 0 ? BiasGradient : Partials + ((nint)(part - 1) * 2 * f) + f;
                LayerNormBackward(new ReadOnlySpan<T>(X + ((nint)first * f), n * f), new ReadOnlySpan<T>(OutputGradient + ((nint)first * f), n * f), n, f,
                    new ReadOnlySpan<T>(Weight, f), new ReadOnlySpan<T>(Mean + first, n), new ReadOnlySpan<T>(InvStd + first, n),
                    new Span<T>(dW, f), new Span<T>(dB, f), new Span<T>(InputGradient + ((nint)first * f), n * f), AccumulateInput);
            }
        }
    }
}
