using System.Collections.Generic;
using System.Text;
using StaticGrad.Generators.Model;

namespace StaticGrad.Generators.Emit.Kernels
{
    /// <summary>
    /// Writes register-blocked matrix-product kernels with every dimension but the row count fixed at compile time.
    /// Each kernel is one method holding its whole loop nest with no calls inside (the JIT then keeps the vector
    /// accumulators in registers), and three paths the JIT picks between once per process:
    /// Vector256 with FMA (AVX2), Vector128 (SSE or Arm64 AdvSimd), and scalar.
    /// </summary>
    /// <remarks>
    /// <para><b>Broadcast kernel</b>, <c>C[rows×N] (+)= A·B</c> with <c>B[P×N]</c> row-major and A read through two strides,
    /// so a transposed A costs nothing: each step broadcasts one A element and multiplies it into a row of B.
    /// Blocks of 4 rows × 2 vectors (8 accumulators).</para>
    /// <para><b>Dot kernel</b>, <c>C[rows×Q] (+)= A·Bᵀ (+ bias)</c> with <c>A[rows×P]</c> and <c>B[Q×P]</c> row-major: each output is a dot
    /// product of two contiguous rows. Blocks of 2 rows × 4 columns (8 accumulators), reduced once at the end.</para>
    /// </remarks>
    internal static class KernelEmitter
    {
        private const string Unsafe = "global::System.Runtime.CompilerServices.Unsafe";
        private const string Fma = "global::System.Runtime.Intrinsics.X86.Fma";

        /// <summary>
        /// A broadcast kernel: <c>C[rows×N] (+)= Σ_p A(r, p)·B[p, :]</c>, A(r, p) = a[r·RowStride + p·PStride].
        /// <paramref name="Rows"/> and <paramref name="P"/> are constants ("64") or, for a run-time size, the name of an int parameter ("batch").
        /// </summary>
        public sealed record BroadcastKernel(string Name, string Formula, string Rows, string P, int N, int RowStride, int PStride, bool Accumulate);

        /// <summary>
        /// A dot kernel: <c>C[rows×Q] (+)= Σ_p A[r, p]·B[q, p] (+ bias[q])</c>.
        /// <paramref name="Rows"/> is a constant or the name of an int parameter.
        /// </summary>
        public sealed record DotKernel(string Name, string Formula, string Rows, int P, int Q, bool Accumulate, bool Bias);

        private sealed record Width(string Vector, int Lanes, bool UseFma);

        public static void Write(SourceWriter w, ElementKind element, BroadcastKernel kernel)
        {
            string t = element.Keyword();
            string rows = kernel.Rows;
            w.Line($"/// <summary>{kernel.Formula}: blocks of 4 rows × 2 vectors; Vector256+FMA, Vector128 or scalar, chosen by the JIT.</summary>");
            w.Line("[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]");
            w.Open($"private static void {kernel.Name}(ref {t} a, ref {t} b, ref {t} c{SizeParameters(kernel.Rows, kernel.P)})");
            foreach (var width in Widths(element))
            {
                w.Open(width.UseFma
                    ? $"if (global::System.Runtime.Intrinsics.{width.Vector}.IsHardwareAccelerated && {Fma}.IsSupported)"
                    : $"if (global::System.Runtime.Intrinsics.{width.Vector}.IsHardwareAccelerated)");
                WriteBroadcastBody(w, t, kernel, width, rows);
                w.Line("return;");
                w.Close();
                w.Line();
            }

            w.Line("// Scalar: the same product, one element at a time.");
            w.Open($"for (int i = 0; i < {rows}; i++)");
            w.Open($"for (int j = 0; j < {kernel.N}; j++)");
            w.Line($"{t} sum = {(kernel.Accumulate ? $"{Unsafe}.Add(ref c, (i * {kernel.N}) + j)" : "0")};");
            w.Open($"for (int p = 0; p < {kernel.P}; p++)");
            w.Line($"sum += {Unsafe}.Add(ref a, {AIndex(kernel, "i", "p")}) * {Unsafe}.Add(ref b, (p * {kernel.N}) + j);");
            w.Close();
            w.Line();
            w.Line($"{Unsafe}.Add(ref c, (i * {kernel.N}) + j) = sum;");
            w.Close();
            w.Close();
            w.Close();
            w.Line();
        }

        public static void Write(SourceWriter w, ElementKind element, DotKernel kernel)
        {
            string t = element.Keyword();
            string rows = kernel.Rows;
            string biasParameter = kernel.Bias ? $", ref {t} bias" : string.Empty;
            w.Line($"/// <summary>{kernel.Formula}: blocks of 2 rows × 4 columns; Vector256+FMA, Vector128 or scalar, chosen by the JIT.</summary>");
            w.Line("[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]");
            w.Open($"private static void {kernel.Name}(ref {t} a, ref {t} b, ref {t} c{biasParameter}{SizeParameters(kernel.Rows)})");
            foreach (var width in Widths(element))
            {
                if (kernel.P < width.Lanes)
                {
                    continue; // rows shorter than one vector: the scalar path is the right one
                }

                w.Open(width.UseFma
                    ? $"if (global::System.Runtime.Intrinsics.{width.Vector}.IsHardwareAccelerated && {Fma}.IsSupported)"
                    : $"if (global::System.Runtime.Intrinsics.{width.Vector}.IsHardwareAccelerated)");
                WriteDotBody(w, t, kernel, width, rows);
                w.Line("return;");
                w.Close();
                w.Line();
            }

            w.Line("// Scalar: the same product, one element at a time.");
            w.Open($"for (int i = 0; i < {rows}; i++)");
            w.Open($"for (int q = 0; q < {kernel.Q}; q++)");
            w.Line($"{t} sum = {Initial(kernel, t, "i", "q")};");
            w.Open($"for (int p = 0; p < {kernel.P}; p++)");
            w.Line($"sum += {Unsafe}.Add(ref a, (i * {kernel.P}) + p) * {Unsafe}.Add(ref b, (q * {kernel.P}) + p);");
            w.Close();
            w.Line();
            w.Line($"{Unsafe}.Add(ref c, (i * {kernel.Q}) + q) = sum;");
            w.Close();
            w.Close();
            w.Close();
            w.Line();
        }

        /// <summary><c>, int batch</c> for each size that is a name rather than a constant.</summary>
        private static string SizeParameters(params string[] sizes)
        {
            var text = new StringBuilder();
            foreach (string size in sizes)
            {
                if (size.Length > 0 && !char.IsDigit(size[0]) && text.ToString().IndexOf(" " + size, System.StringComparison.Ordinal) < 0)
                {
                    text.Append(", int ").Append(size);
                }
            }

            return text.ToString();
        }

        private static IEnumerable<Width> Widths(ElementKind element)
        {
            int scale = element == ElementKind.Double ? 2 : 1;
            yield return new Width("Vector256", 8 / scale, true);
            yield return new Width("Vector128", 4 / scale, false);
        }

        private static void WriteBroadcastBody(SourceWriter w, string t, BroadcastKernel k, Width width, string rows)
        {
            int lanes = width.Lanes;
            int wide = 2 * lanes;
            int fullWide = k.N / wide * wide;
            bool oneVectorTail = k.N - fullWide >= lanes;
            int vectorColumns = fullWide + (oneVectorTail ? lanes : 0);

            w.Line("int i = 0;");
            w.Open($"for (; i + 4 <= {rows}; i += 4)");
            WriteBroadcastColumns(w, t, k, width, 4, fullWide, oneVectorTail, vectorColumns);
            w.Close();
            w.Line();
            w.Open($"for (; i < {rows}; i++)");
            WriteBroadcastColumns(w, t, k, width, 1, fullWide, oneVectorTail, vectorColumns);
            w.Close();
        }

        private static void WriteBroadcastColumns(SourceWriter w, string t, BroadcastKernel k, Width width, int blockRows, int fullWide, bool oneVectorTail, int vectorColumns)
        {
            int lanes = width.Lanes;
            if (fullWide > 0)
            {
                w.Open($"for (int j = 0; j < {fullWide}; j += {2 * lanes})");
                WriteBroadcastBlock(w, t, k, width, blockRows, 2, "j");
                w.Close();
            }

            if (oneVectorTail)
            {
                w.Open();
                w.Line($"const int j = {fullWide};");
                WriteBroadcastBlock(w, t, k, width, blockRows, 1, "j");
                w.Close();
            }

            if (vectorColumns < k.N)
            {
                w.Line($"// The last {k.N - vectorColumns} column(s), narrower than a vector.");
                w.Open($"for (int j = {vectorColumns}; j < {k.N}; j++)");
                for (int r = 0; r < blockRows; r++)
                {
                    w.Line($"{t} s{r} = {(k.Accumulate ? $"{Unsafe}.Add(ref c, ((i + {r}) * {k.N}) + j)" : "0")};");
                }

                w.Open($"for (int p = 0; p < {k.P}; p++)");
                w.Line($"{t} bp = {Unsafe}.Add(ref b, (p * {k.N}) + j);");
                for (int r = 0; r < blockRows; r++)
                {
                    w.Line($"s{r} += {Unsafe}.Add(ref a, {AIndex(k, $"(i + {r})", "p")}) * bp;");
                }

                w.Close();
                for (int r = 0; r < blockRows; r++)
                {
                    w.Line($"{Unsafe}.Add(ref c, ((i + {r}) * {k.N}) + j) = s{r};");
                }

                w.Close();
            }
        }

        private static void WriteBroadcastBlock(SourceWriter w, string t, BroadcastKernel k, Width width, int blockRows, int vectors, string column)
        {
            string v = $"global::System.Runtime.Intrinsics.{width.Vector}";
            string vt = $"{v}<{t}>";
            for (int r = 0; r < blockRows; r++)
            {
                for (int x = 0; x < vectors; x++)
                {
                    string init = k.Accumulate
                        ? $"{v}.LoadUnsafe(ref {Unsafe}.Add(ref c, {COffset(k.N, r, column, x * width.Lanes)}))"
                        : $"{vt}.Zero";
                    w.Line($"var c{r}{x} = {init};");
                }
            }

            w.Open($"for (int p = 0; p < {k.P}; p++)");
            w.Line($"ref {t} bRow = ref {Unsafe}.Add(ref b, (p * {k.N}) + {column});");
            for (int x = 0; x < vectors; x++)
            {
                w.Line(x == 0 ? $"var b0 = {v}.LoadUnsafe(ref bRow);" : $"var b{x} = {v}.LoadUnsafe(ref {Unsafe}.Add(ref bRow, {x * width.Lanes}));");
            }

            for (int r = 0; r < blockRows; r++)
            {
                w.Line($"var a{r} = {v}.Create({Unsafe}.Add(ref a, {AIndex(k, $"(i + {r})", "p")}));");
                for (int x = 0; x < vectors; x++)
                {
                    w.Line($"c{r}{x} = {MultiplyAdd(width, $"a{r}", $"b{x}", $"c{r}{x}")};");
                }
            }

            w.Close();
            for (int r = 0; r < blockRows; r++)
            {
                for (int x = 0; x < vectors; x++)
                {
                    w.Line($"{v}.StoreUnsafe(c{r}{x}, ref {Unsafe}.Add(ref c, {COffset(k.N, r, column, x * width.Lanes)}));");
                }
            }
        }

        private static void WriteDotBody(SourceWriter w, string t, DotKernel k, Width width, string rows)
        {
            int fullColumns = k.Q / 4 * 4;
            w.Line("int i = 0;");
            w.Open($"for (; i + 2 <= {rows}; i += 2)");
            WriteDotColumns(w, t, k, width, 2, fullColumns);
            w.Close();
            w.Line();
            w.Open($"for (; i < {rows}; i++)");
            WriteDotColumns(w, t, k, width, 1, fullColumns);
            w.Close();
        }

        private static void WriteDotColumns(SourceWriter w, string t, DotKernel k, Width width, int blockRows, int fullColumns)
        {
            if (fullColumns > 0)
            {
                w.Open($"for (int q = 0; q < {fullColumns}; q += 4)");
                WriteDotBlock(w, t, k, width, blockRows, 4);
                w.Close();
            }

            if (fullColumns < k.Q)
            {
                w.Open($"for (int q = {fullColumns}; q < {k.Q}; q++)");
                WriteDotBlock(w, t, k, width, blockRows, 1);
                w.Close();
            }
        }

        private static void WriteDotBlock(SourceWriter w, string t, DotKernel k, Width width, int blockRows, int columns)
        {
            string v = $"global::System.Runtime.Intrinsics.{width.Vector}";
            string vt = $"{v}<{t}>";
            int lanes = width.Lanes;
            int vectorEnd = k.P / lanes * lanes;
            for (int r = 0; r < blockRows; r++)
            {
                for (int q = 0; q < columns; q++)
                {
                    w.Line($"var s{r}{q} = {vt}.Zero;");
                }
            }

            w.Open($"for (int p = 0; p < {vectorEnd}; p += {lanes})");
            for (int r = 0; r < blockRows; r++)
            {
                w.Line($"var a{r} = {v}.LoadUnsafe(ref {Unsafe}.Add(ref a, ({Row(r)} * {k.P}) + p));");
            }

            for (int q = 0; q < columns; q++)
            {
                w.Line($"var b{q} = {v}.LoadUnsafe(ref {Unsafe}.Add(ref b, ((q + {q}) * {k.P}) + p));".Replace("(q + 0)", "q"));
                for (int r = 0; r < blockRows; r++)
                {
                    w.Line($"s{r}{q} = {MultiplyAdd(width, $"a{r}", $"b{q}", $"s{r}{q}")};");
                }
            }

            w.Close();
            for (int r = 0; r < blockRows; r++)
            {
                for (int q = 0; q < columns; q++)
                {
                    string col = q == 0 ? "q" : $"(q + {q})";
                    w.Line($"{t} r{r}{q} = {Initial(k, t, Row(r), col)} + {v}.Sum(s{r}{q});");
                    if (vectorEnd < k.P)
                    {
                        w.Open($"for (int p = {vectorEnd}; p < {k.P}; p++)");
                        w.Line($"r{r}{q} += {Unsafe}.Add(ref a, ({Row(r)} * {k.P}) + p) * {Unsafe}.Add(ref b, ({col} * {k.P}) + p);");
                        w.Close();
                    }

                    w.Line($"{Unsafe}.Add(ref c, ({Row(r)} * {k.Q}) + {col}) = r{r}{q};");
                }
            }
        }

        /// <summary>What an output starts from: 0, its old value (accumulate), and/or the bias.</summary>
        private static string Initial(DotKernel k, string t, string row, string column)
        {
            var parts = new List<string>();
            if (k.Accumulate)
            {
                parts.Add($"{Unsafe}.Add(ref c, ({row} * {k.Q}) + {column})");
            }

            if (k.Bias)
            {
                parts.Add($"{Unsafe}.Add(ref bias, {column})");
            }

            return parts.Count == 0 ? $"({t})0" : string.Join(" + ", parts);
        }

        private static string Row(int r) => r == 0 ? "i" : $"(i + {r})";

        private static string COffset(int n, int row, string column, int lane)
        {
            string rowPart = row == 0 ? $"(i * {n})" : $"((i + {row}) * {n})";
            return lane == 0 ? $"{rowPart} + {column}" : $"{rowPart} + {column} + {lane}";
        }

        private static string AIndex(BroadcastKernel k, string row, string p)
        {
            row = row == "(i + 0)" ? "i" : row;
            string rowPart = k.RowStride == 1 ? row : $"({row} * {k.RowStride})";
            string pPart = k.PStride == 1 ? p : $"({p} * {k.PStride})";
            return $"{rowPart} + {pPart}";
        }

        private static string MultiplyAdd(Width width, string a, string b, string c) =>
            width.UseFma ? $"{Fma}.MultiplyAdd({a}, {b}, {c})" : $"({a} * {b}) + {c}";
    }
}
