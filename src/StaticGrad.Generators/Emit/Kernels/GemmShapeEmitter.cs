using System.Globalization;
using StaticGrad.Generators.Model;

namespace StaticGrad.Generators.Emit.Kernels
{
    /// <summary>
    /// Writes the calls into StaticGrad.Runtime's matrix-product kernels (<c>StaticGrad.Kernels.Gemm</c>) and the small
    /// shape structs they are specialised with. The kernels live once in the run-time library; a shape struct's members
    /// return literals, so the JIT compiles one body per shape with every dimension and stride a constant.
    /// </summary>
    internal static class GemmShapeEmitter
    {
        private const string Gemm = "global::StaticGrad.Kernels.Gemm";

        /// <summary>
        /// One product <c>C[M×N] (+)= op(A)·op(B)</c>. <paramref name="M"/> or <paramref name="K"/> is 0 when the caller passes it
        /// at run time (a batch, or a thread's share of the rows).
        /// </summary>
        public sealed record Product(string Name, string Formula, int M, int N, int K, int LeadingA, int LeadingB, bool TransposeA, bool TransposeB, bool Accumulate);

        /// <summary>The shape struct: every member a constant.</summary>
        public static void WriteShape(SourceWriter w, Product product)
        {
            w.Line($"/// <summary>{product.Formula}: the shape StaticGrad's kernels are specialised for (the JIT folds every member in as a constant).</summary>");
            w.Open($"private readonly struct {product.Name} : global::StaticGrad.Kernels.IGemmShape");
            w.Line($"public int M => {Int(product.M)};{(product.M == 0 ? " // rows: given at run time" : string.Empty)}");
            w.Line($"public int N => {Int(product.N)};");
            w.Line($"public int K => {Int(product.K)};{(product.K == 0 ? " // summed dimension: given at run time" : string.Empty)}");
            w.Line($"public int LeadingA => {Int(product.LeadingA)};");
            w.Line($"public int LeadingB => {Int(product.LeadingB)};");
            w.Line($"public bool TransposeA => {Bool(product.TransposeA)};");
            w.Line($"public bool TransposeB => {Bool(product.TransposeB)};");
            w.Line($"public bool Accumulate => {Bool(product.Accumulate)};");
            w.Close();
        }

        /// <summary>
        /// <c>Gemm.Multiply&lt;Shape, T&gt;(ref a, ref b, ref c[, rows: …][, depth: …]);</c>, or <c>MultiplyAddBias</c> when
        /// <paramref name="bias"/> is given. The arguments are references the caller has bounds-checked.
        /// </summary>
        public static string Call(string shape, ElementKind element, string a, string b, string c, string? bias = null, string? rows = null, string? depth = null, string? team = null)
        {
            string t = element.Keyword();
            string method = bias is null ? "Multiply" : "MultiplyAddBias";
            string arguments = bias is null ? $"ref {a}, ref {b}, ref {c}" : $"ref {a}, ref {b}, ref {bias}, ref {c}";
            if (team is not null)
            {
                arguments += $", {team}";
            }

            if (rows is not null)
            {
                arguments += $", rows: {rows}";
            }

            if (depth is not null)
            {
                arguments += $", depth: {depth}";
            }

            return $"{Gemm}.{method}<{shape}, {t}>({arguments});";
        }

        private static string Int(int value) => value.ToString(CultureInfo.InvariantCulture);

        private static string Bool(bool value) => value ? "true" : "false";
    }
}
