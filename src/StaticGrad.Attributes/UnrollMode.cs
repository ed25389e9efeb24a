namespace StaticGrad
{
    /// <summary>
    /// Chooses how StaticGrad writes the body of a generated Forward or Backward method.
    /// </summary>
    public enum UnrollMode
    {
        /// <summary>
        /// Let StaticGrad decide: the SIMD kernels of StaticGrad.Runtime when N fills a vector (8 floats, 4 doubles) and the
        /// target is .NET 8 or later;
        /// otherwise straight-line scalar code while the product is small (<c>M·K·N ≤ 512</c> multiply-adds for Forward),
        /// loops with constant bounds above that.
        /// </summary>
        Auto = 0,

        /// <summary>
        /// Always write straight-line code: one statement per output element, every index a constant.
        /// Allowed up to <c>M·K·N ≤ 4096</c>; above that StaticGrad reports SGR0008 and writes loops.
        /// </summary>
        Always = 1,

        /// <summary>Always write loops with constant bounds.</summary>
        Never = 2,
    }
}
