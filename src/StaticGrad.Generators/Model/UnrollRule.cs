namespace StaticGrad.Generators.Model
{
    /// <summary>
    /// StaticGrad's rule for straight-line versus looped code.
    /// </summary>
    /// <remarks>
    /// <para>
    /// The cost of a product is its multiply-add count, <c>M·K·N</c> for Forward and twice that for
    /// Backward. With <c>UnrollMode.Auto</c>:
    /// </para>
    /// <list type="number">
    /// <item><description>when the target has SIMD and <c>N</c> fills at least one vector (8 floats or 4 doubles), the
    /// lanes line up with the rows of D, dX and the dot products of dW, so the code calls StaticGrad.Runtime's SIMD kernels, whatever the
    /// size (measured for 8×8×8, 4×16×8 and 16×4×8: about 2.5× faster than straight-line scalar code);</description></item>
    /// <item><description>otherwise the code is straight-line scalar while <c>M·K·N ≤ 512</c> (<see cref="AutoLimit"/>):
    /// every index is a constant, there is no loop overhead, and Backward's 1024 terms stay far below the 60,000 bytes of
    /// IL past which the JIT stops optimising a method;</description></item>
    /// <item><description>above that, loops (StaticGrad.Runtime's kernels on .NET 8+, plain loops on netstandard2.0).</description></item>
    /// </list>
    /// <para>
    /// <c>UnrollMode.Always</c> is honoured up to <c>M·K·N ≤ 4096</c> (<see cref="HardLimit"/>), where
    /// a generated file is already about 200 KB; above it StaticGrad reports SGR0008 and writes loops.
    /// </para>
    /// </remarks>
    internal static class UnrollRule
    {
        /// <summary>Largest <c>M·K·N</c> that <c>UnrollMode.Auto</c> unrolls.</summary>
        public const long AutoLimit = 512;

        /// <summary>Largest <c>M·K·N</c> that <c>UnrollMode.Always</c> unrolls.</summary>
        public const long HardLimit = 4096;

        // Values of StaticGrad.UnrollMode (the generator does not reference the attribute assembly).
        public const int Auto = 0;
        public const int Always = 1;
        public const int Never = 2;

        /// <summary>Decides the code shape and says why in one sentence for the generated remarks.</summary>
        public static (bool Unrolled, string Reason) Decide(long m, long k, long n, int mode, int lanes, bool simd)
        {
            long cost = m * k * n;
            switch (mode)
            {
                case Always when cost <= HardLimit:
                    return (true, $"Unrolled: requested with Unroll = UnrollMode.Always (M·K·N = {cost}).");
                case Always:
                    return (false, $"Looped: Unroll = UnrollMode.Always was requested, but M·K·N = {cost} exceeds the limit of {HardLimit} for straight-line code (SGR0008).");
                case Never:
                    return (false, $"Looped: requested with Unroll = UnrollMode.Never (M·K·N = {cost}).");
                default:
                    if (simd && n >= lanes)
                    {
                        return (false, $"Looped SIMD kernels: N = {n} fills whole vectors of {lanes} lanes, so the rows line up with the lanes (M·K·N = {cost}).");
                    }

                    return cost <= AutoLimit
                        ? (true, $"Unrolled: M·K·N = {cost} multiply-adds is within StaticGrad's limit of {AutoLimit} for straight-line code.")
                        : (false, $"Looped: M·K·N = {cost} multiply-adds is above StaticGrad's limit of {AutoLimit} for straight-line code.");
            }
        }
    }
}
