using System;
using System.Numerics;

namespace StaticGrad.Kernels
{
    /// <summary>The GELU passes split across a <see cref="WorkerTeam"/>: each thread takes a contiguous share of the elements.</summary>
    public static partial class Activations
    {
        /// <summary>Spans shorter than this run on the calling thread alone (handing a share to a worker costs microseconds).</summary>
        private const int TeamThreshold = 16384;

        /// <summary>
        /// <see cref="Gelu{T}(ReadOnlySpan{T}, Span{T}, bool)"/> with the elements split across <paramref name="team"/>'s
        /// threads in contiguous shares (whole vectors); the result is the same as on one thread.
        /// </summary>
        /// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
        /// <param name="x">The input.</param>
        /// <param name="y">Receives GELU(x); as long as <paramref name="x"/> (may be <paramref name="x"/> itself).</param>
        /// <param name="tanhApproximation">Use the tanh approximation instead of the exact function.</param>
        /// <param name="team">The threads to use, or <see langword="null"/> for this one.</param>
        public static unsafe void Gelu<T>(ReadOnlySpan<T> x, Span<T> y, bool tanhApproximation, WorkerTeam? team)
            where T : unmanaged, IBinaryFloatingPointIeee754<T>
        {
            if (team is null || x.Length < TeamThreshold)
            {
                Gelu(x, y, tanhApproximation);
                return;
            }

            fixed (T* px = x, py = y)
            {
                var job = new GeluJob<T> { X = px, Y = py, Length = x.Length, Tanh = tanhApproximation };
                team.Run(ref job);
            }
        }

        /// <summary>
        /// <see cref="GeluBackward{T}(ReadOnlySpan{T}, ReadOnlySpan{T}, Span{T}, bool)"/> with the elements split across
        /// <paramref name="team"/>'s threads in contiguous shares; the result is the same as on one thread.
        /// </summary>
        /// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
        /// <param name="x">GELU's input.</param>
        /// <param name="outputGradient">∂L/∂y, as long as <paramref name="x"/>.</param>
        /// <param name="inputGradient">Receives ∂L/∂x (overwritten); as long as <paramref name="x"/>.</param>
        /// <param name="tanhApproximation">The forward pass used the tanh approximation.</param>
        /// <param name="team">The threads to use, or <see langword="null"/> for this one.</param>
        public static unsafe void GeluBackward<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> outputGradient, Span<T> inputGradient, bool tanhApproximation, WorkerTeam? team)
            where T : unmanaged, IBinaryFloatingPointIeee754<T>
        {
            if (team is null || x.Length < TeamThreshold)
            {
                GeluBackward(x, outputGradient, inputGradient, tanhApproximation);
                return;
            }

            fixed (T* px = x, pdy = outputGradient, pdx = inputGradient)
            {
                var job = new GeluJob<T> { X = px, Y = pdx, OutputGradient = pdy, Length = x.Length, Tanh = tanhApproximation, Backward = true };
                team.Run(ref job);
            }
        }

        /// <summary>One thread's share of a GELU pass: elements <c>first … end</c>, on 64-element boundaries.</summary>
        private unsafe struct GeluJob<T> : IPartitionedJob
            where T : unmanaged, IBinaryFloatingPointIeee754<T>
        {
            public T* X;
            public T* Y; // the output, or the input gradient going backward
            public T* OutputGradient;
            public int Length;
            public bool Tanh;
            public bool Backward;

            public void Run(int part, int parts)
            {
                (int first, int end) = TeamShares.Of(Length, 64, part, parts);
                if (end == first)
                {
                    return;
                }

                var x = new ReadOnlySpan<T>(X + first, end - first);
                var y = new Span<T>(Y + first, end - first);
                if (Backward)
                {
                    GeluBackward(x, new ReadOnlySpan<T>(OutputGradient + first, end - first), y, Tanh);
                }
                else
                {
                    Gelu(x, y, Tanh);
                }
            }
        }
    }
}
