using System;
using System.Runtime.CompilerServices;

namespace StaticGrad.Kernels
{
    /// <summary>
    /// How the kernels with a <see cref="WorkerTeam"/> overload cut their work: contiguous shares in part order, on whole
    /// grains (vectors, rows, items), and per-thread scratch memory for the parts that run on workers.
    /// </summary>
    internal static class TeamShares
    {
        /// <summary>Part <paramref name="part"/> of <paramref name="parts"/>'s share of <c>0 … length</c>: on grain boundaries, the last share taking the rest.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static (int First, int End) Of(int length, int grain, int part, int parts)
        {
            int first = Boundary(length, grain, part, parts);
            int end = part + 1 == parts ? length : Boundary(length, grain, part + 1, parts);
            return (first, Math.Max(first, end));
        }

        private static int Boundary(int length, int grain, int part, int parts) => (int)((long)length * part / parts) / grain * grain;
    }

    /// <summary>
    /// Scratch memory of the current thread, one array per element type that grows to the largest length asked for: a
    /// worker allocates it the first time a kernel needs it there, never per call.
    /// </summary>
    /// <typeparam name="T">The element type.</typeparam>
    internal static class ThreadScratch<T>
    {
        [ThreadStatic]
        private static T[]? t_buffer;

        /// <summary>At least <paramref name="length"/> elements of this thread's scratch (their contents are left as they were).</summary>
        public static Span<T> Get(int length)
        {
            T[]? buffer = t_buffer;
            if (buffer is null || buffer.Length < length)
            {
                t_buffer = buffer = new T[length];
            }

            return buffer.AsSpan(0, length);
        }
    }
}
