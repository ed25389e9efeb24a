using System.Collections.Generic;
using System.Linq;
using System.Text;
using StaticGrad.Generators.Emit.Kernels;
using StaticGrad.Generators.Model;

namespace StaticGrad.Generators.Emit
{
    /// <summary>
    /// Writes the C# for one <see cref="MatMulSpec"/>: shape constants, the span API (Forward, Backward),
    /// the typed matrices and typed overloads, and the throw helpers. Pure text; no Roslyn symbols.
    /// </summary>
    internal static class MatMulEmitter
    {
        private const string ReadOnlySpan = "global::System.ReadOnlySpan";
        private const string Span = "global::System.Span";
        private const int TermsPerLine = 8;

        /// <summary>
        /// Unrolled code reads a row (or column) that several outputs share into locals once, when it has at most this
        /// many elements: the straight-line code is bound by loads, and 16 fits the x64 vector register file.
        /// </summary>
        private const int MaxReusedLocals = 16;
        private const string CheckComment = "// Every span must hold exactly its matrix, and no output may share memory with another span: checked before anything is written.";

        public static string HintName(MatMulSpec spec) => GeneratedFile.HintName(spec.Type);

        public static string Emit(MatMulSpec spec)
        {
            var w = new SourceWriter();
            GeneratedFile.Open(w, spec.Type, spec.AttributeText, spec.NullableDirective);

            WriteConstants(w, spec);
            WriteForward(w, spec);
            WriteBackward(w, spec);
            WriteTypedOverloads(w, spec);
            WriteMatrixType(w, spec, "WMatrix", "W", spec.M, spec.K);
            WriteMatrixType(w, spec, "XMatrix", "X", spec.K, spec.N);
            WriteMatrixType(w, spec, "DMatrix", "D", spec.M, spec.N);
            WriteThrowHelpers(w);
            if (!spec.Unrolled && spec.RuntimeKernels)
            {
                WriteProducts(w, spec);
            }

            GeneratedFile.Close(w, spec.Type);
            return w.ToString();
        }

        private static void WriteConstants(SourceWriter w, MatMulSpec spec)
        {
            w.Line($"/// <summary>Rows of W and of D: <c>M = {spec.M}</c>.</summary>");
            w.Line($"public const int M = {spec.M};");
            w.Line();
            w.Line($"/// <summary>Columns of W and rows of X, the dimension the product sums over: <c>K = {spec.K}</c>.</summary>");
            w.Line($"public const int K = {spec.K};");
            w.Line();
            w.Line($"/// <summary>Columns of X and of D: <c>N = {spec.N}</c>.</summary>");
            w.Line($"public const int N = {spec.N};");
            w.Line();
        }

        private static void WriteForward(SourceWriter w, MatMulSpec spec)
        {
            string t = spec.Element.Keyword();
            w.Line("/// <summary>Computes the product <c>D = W·X</c>.</summary>");
            w.Line($"/// <param name=\"w\">W, {Shape(spec.M, spec.K)} row-major: {spec.WLength} elements.</param>");
            w.Line($"/// <param name=\"x\">X, {Shape(spec.K, spec.N)} row-major: {spec.XLength} elements.</param>");
            w.Line($"/// <param name=\"d\">Receives D, {Shape(spec.M, spec.N)} row-major: {spec.DLength} elements, overwritten.</param>");
            w.Line("/// <remarks>");
            w.Line($"/// <para><c>D[i,j] = Σₖ W[i,k]·X[k,j]</c> for i &lt; {spec.M}, j &lt; {spec.N}, summing k &lt; {spec.K}.</para>");
            w.Line($"/// <para>{spec.CodeShapeReason}</para>");
            if (spec.Parallel)
            {
                w.Line($"/// <para>Runs on {spec.Threads} threads (Threads = {spec.Threads}, M·K·N = {(long)spec.M * spec.K * spec.N} ≥ {MatMulSpec.ParallelThreshold}): this one and {spec.Threads - 1} background worker(s) of this class (StaticGrad.Runtime's WorkerTeam), each on its own share of every product (columns of a packed product wider than tall, rows otherwise); a concurrent call runs on its own thread alone. Allocates nothing.</para>");
            }

            w.Line("/// </remarks>");
            w.Line("/// <exception cref=\"global::System.ArgumentException\">A span's length is not its matrix's element count, or <paramref name=\"d\"/> overlaps an input. Nothing is written.</exception>");
            WriteGeneratedCodeAttribute(w);
            w.Open($"public static void Forward({ReadOnlySpan}<{t}> w, {ReadOnlySpan}<{t}> x, {Span}<{t}> d)");
            w.Line(CheckComment);
            WriteLengthCheck(w, "w", "W", spec.M, spec.K);
            WriteLengthCheck(w, "x", "X", spec.K, spec.N);
            WriteLengthCheck(w, "d", "D", spec.M, spec.N);
            WriteOverlapCheck(w, "d", "w");
            WriteOverlapCheck(w, "d", "x");
            w.Line();
            if (spec.Unrolled)
            {
                w.Line("// D[i,j] = Σₖ W[i,k]·X[k,j]: one statement per element of D.");
                bool reuse = spec.K <= MaxReusedLocals && spec.N > 1;
                for (int i = 0; i < spec.M; i++)
                {
                    if (reuse)
                    {
                        w.Line($"// Row {i} of W, read once into locals and used for all {spec.N} columns of D.");
                        w.Open();
                        w.Line($"{t} {string.Join(", ", Enumerable.Range(0, spec.K).Select(k => $"w{k} = w[{(i * spec.K) + k}]"))};");
                    }

                    for (int j = 0; j < spec.N; j++)
                    {
                        var terms = new List<string>(spec.K);
                        for (int k = 0; k < spec.K; k++)
                        {
                            terms.Add(reuse ? $"w{k} * x[{(k * spec.N) + j}]" : $"w[{(i * spec.K) + k}] * x[{(k * spec.N) + j}]");
                        }

                        WriteSum(w, $"d[{(i * spec.N) + j}]", terms, $"D[{i},{j}]");
                    }

                    if (reuse)
                    {
                        w.Close();
                    }
                }
            }
            else if (spec.Parallel)
            {
                w.Line($"// D[i,j] = Σₖ W[i,k]·X[k,j] with StaticGrad's kernel (ForwardProduct), split across the {spec.Threads} threads of Workers.");
                w.Line(GemmShapeEmitter.Call("ForwardProduct", spec.Element, Ref("w"), Ref("x"), Ref("d"), team: "Workers"));
            }
            else if (spec.RuntimeKernels)
            {
                w.Line("// D[i,j] = Σₖ W[i,k]·X[k,j]: StaticGrad's kernel, specialised for ForwardProduct (the shape below).");
                w.Line(GemmShapeEmitter.Call("ForwardProduct", spec.Element, Ref("w"), Ref("x"), Ref("d")));
            }
            else
            {
                w.Line("// D[i,j] = Σₖ W[i,k]·X[k,j], as row i of D += W[i,k] · row k of X, so every inner loop runs over contiguous memory.");
                w.Open("for (int i = 0; i < M; i++)");
                w.Line($"{Span}<{t}> dRow = d.Slice(i * N, N);");
                w.Line("dRow.Clear();");
                w.Open("for (int k = 0; k < K; k++)");
                w.Line($"{t} wik = w[(i * K) + k];");
                w.Line($"{ReadOnlySpan}<{t}> xRow = x.Slice(k * N, N);");
                w.Open("for (int j = 0; j < N; j++)");
                w.Line("dRow[j] += wik * xRow[j];");
                w.Close();
                w.Close();
                w.Close();
            }

            w.Close();
            w.Line();
        }

        private static void WriteBackward(SourceWriter w, MatMulSpec spec)
        {
            string t = spec.Element.Keyword();
            w.Line("/// <summary>Computes the gradients of <c>D = W·X</c>: <c>dW = dD·Xᵀ</c> and <c>dX = Wᵀ·dD</c>.</summary>");
            w.Line($"/// <param name=\"w\">W, {Shape(spec.M, spec.K)} row-major: {spec.WLength} elements.</param>");
            w.Line($"/// <param name=\"x\">X, {Shape(spec.K, spec.N)} row-major: {spec.XLength} elements.</param>");
            w.Line($"/// <param name=\"dD\">The upstream gradient ∂L/∂D, {Shape(spec.M, spec.N)} row-major: {spec.DLength} elements.</param>");
            w.Line($"/// <param name=\"dW\">Receives ∂L/∂W = dD·Xᵀ, {Shape(spec.M, spec.K)} row-major: {spec.WLength} elements, overwritten (not accumulated).</param>");
            w.Line($"/// <param name=\"dX\">Receives ∂L/∂X = Wᵀ·dD, {Shape(spec.K, spec.N)} row-major: {spec.XLength} elements, overwritten (not accumulated).</param>");
            w.Line("/// <remarks>");
            w.Line("/// <para><c>dW[i,k] = Σⱼ dD[i,j]·X[k,j]</c> and <c>dX[k,j] = Σᵢ W[i,k]·dD[i,j]</c>.</para>");
            w.Line($"/// <para>{spec.CodeShapeReason}</para>");
            if (spec.Parallel)
            {
                w.Line($"/// <para>Runs on {spec.Threads} threads (Threads = {spec.Threads}, M·K·N = {(long)spec.M * spec.K * spec.N} ≥ {MatMulSpec.ParallelThreshold}): this one and {spec.Threads - 1} background worker(s) of this class (StaticGrad.Runtime's WorkerTeam), each on its own share of every product (columns of a packed product wider than tall, rows otherwise); a concurrent call runs on its own thread alone. Allocates nothing.</para>");
            }

            w.Line("/// </remarks>");
            w.Line("/// <exception cref=\"global::System.ArgumentException\">A span's length is not its matrix's element count, or an output overlaps an input or the other output. Nothing is written.</exception>");
            WriteGeneratedCodeAttribute(w);
            w.Open($"public static void Backward({ReadOnlySpan}<{t}> w, {ReadOnlySpan}<{t}> x, {ReadOnlySpan}<{t}> dD, {Span}<{t}> dW, {Span}<{t}> dX)");
            w.Line(CheckComment);
            WriteLengthCheck(w, "w", "W", spec.M, spec.K);
            WriteLengthCheck(w, "x", "X", spec.K, spec.N);
            WriteLengthCheck(w, "dD", "dD", spec.M, spec.N);
            WriteLengthCheck(w, "dW", "dW", spec.M, spec.K);
            WriteLengthCheck(w, "dX", "dX", spec.K, spec.N);
            foreach (string output in new[] { "dW", "dX" })
            {
                WriteOverlapCheck(w, output, "w");
                WriteOverlapCheck(w, output, "x");
                WriteOverlapCheck(w, output, "dD");
            }

            WriteOverlapCheck(w, "dW", "dX");
            w.Line();
            if (spec.Unrolled)
            {
                w.Line("// dW = dD·Xᵀ: dW[i,k] = Σⱼ dD[i,j]·X[k,j], one statement per element of dW.");
                bool reuseG = spec.N <= MaxReusedLocals && spec.K > 1;
                for (int i = 0; i < spec.M; i++)
                {
                    if (reuseG)
                    {
                        w.Line($"// Row {i} of dD, read once into locals and used for all {spec.K} columns of dW.");
                        w.Open();
                        w.Line($"{t} {string.Join(", ", Enumerable.Range(0, spec.N).Select(j => $"g{j} = dD[{(i * spec.N) + j}]"))};");
                    }

                    for (int k = 0; k < spec.K; k++)
                    {
                        var terms = new List<string>(spec.N);
                        for (int j = 0; j < spec.N; j++)
                        {
                            terms.Add(reuseG ? $"g{j} * x[{(k * spec.N) + j}]" : $"dD[{(i * spec.N) + j}] * x[{(k * spec.N) + j}]");
                        }

                        WriteSum(w, $"dW[{(i * spec.K) + k}]", terms, $"dW[{i},{k}]");
                    }

                    if (reuseG)
                    {
                        w.Close();
                    }
                }

                w.Line();
                w.Line("// dX = Wᵀ·dD: dX[k,j] = Σᵢ W[i,k]·dD[i,j], one statement per element of dX.");
                bool reuseW = spec.M <= MaxReusedLocals && spec.N > 1;
                for (int k = 0; k < spec.K; k++)
                {
                    if (reuseW)
                    {
                        w.Line($"// Column {k} of W, read once into locals and used for all {spec.N} columns of dX.");
                        w.Open();
                        w.Line($"{t} {string.Join(", ", Enumerable.Range(0, spec.M).Select(i => $"w{i} = w[{(i * spec.K) + k}]"))};");
                    }

                    for (int j = 0; j < spec.N; j++)
                    {
                        var terms = new List<string>(spec.M);
                        for (int i = 0; i < spec.M; i++)
                        {
                            terms.Add(reuseW ? $"w{i} * dD[{(i * spec.N) + j}]" : $"w[{(i * spec.K) + k}] * dD[{(i * spec.N) + j}]");
                        }

                        WriteSum(w, $"dX[{(k * spec.N) + j}]", terms, $"dX[{k},{j}]");
                    }

                    if (reuseW)
                    {
                        w.Close();
                    }
                }
            }
            else if (spec.Parallel)
            {
                w.Line($"// dW = dD·Xᵀ (WeightGradientProduct) and dX = Wᵀ·dD (InputGradientProduct), each split across the {spec.Threads} threads of Workers.");
                w.Line(GemmShapeEmitter.Call("WeightGradientProduct", spec.Element, Ref("dD"), Ref("x"), Ref("dW"), team: "Workers"));
                w.Line(GemmShapeEmitter.Call("InputGradientProduct", spec.Element, Ref("w"), Ref("dD"), Ref("dX"), team: "Workers"));
            }
            else if (spec.RuntimeKernels)
            {
                w.Line("// dW = dD·Xᵀ: dW[i,k] = Σⱼ dD[i,j]·X[k,j], the dot product of row i of dD and row k of X (X is read as stored: no transpose is formed).");
                w.Line(GemmShapeEmitter.Call("WeightGradientProduct", spec.Element, Ref("dD"), Ref("x"), Ref("dW")));
                w.Line("// dX = Wᵀ·dD: dX[k,j] = Σᵢ W[i,k]·dD[i,j] (W is read by columns as stored).");
                w.Line(GemmShapeEmitter.Call("InputGradientProduct", spec.Element, Ref("w"), Ref("dD"), Ref("dX")));
            }
            else
            {
                w.Line("// dW = dD·Xᵀ: dW[i,k] = Σⱼ dD[i,j]·X[k,j], the dot product of row i of dD and row k of X.");
                w.Open("for (int i = 0; i < M; i++)");
                w.Line($"{ReadOnlySpan}<{t}> dDRow = dD.Slice(i * N, N);");
                w.Open("for (int k = 0; k < K; k++)");
                w.Line($"{ReadOnlySpan}<{t}> xRow = x.Slice(k * N, N);");
                w.Line($"{t} sum = 0;");
                w.Open("for (int j = 0; j < N; j++)");
                w.Line("sum += dDRow[j] * xRow[j];");
                w.Close();
                w.Line();
                w.Line("dW[(i * K) + k] = sum;");
                w.Close();
                w.Close();
                w.Line();
                w.Line("// dX = Wᵀ·dD: dX[k,j] = Σᵢ W[i,k]·dD[i,j], as row k of dX += W[i,k] · row i of dD.");
                w.Line("dX.Clear();");
                w.Open("for (int i = 0; i < M; i++)");
                w.Line($"{ReadOnlySpan}<{t}> dDRow = dD.Slice(i * N, N);");
                w.Open("for (int k = 0; k < K; k++)");
                w.Line($"{t} wik = w[(i * K) + k];");
                w.Line($"{Span}<{t}> dXRow = dX.Slice(k * N, N);");
                w.Open("for (int j = 0; j < N; j++)");
                w.Line("dXRow[j] += wik * dDRow[j];");
                w.Close();
                w.Close();
                w.Close();
            }

            w.Close();
            w.Line();
        }

        private static void WriteTypedOverloads(SourceWriter w, MatMulSpec spec)
        {
            w.Line("/// <summary>Computes <c>D = W·X</c> on typed matrices: a matrix of the wrong shape does not compile.</summary>");
            w.Line("/// <param name=\"w\">W.</param>");
            w.Line("/// <param name=\"x\">X.</param>");
            w.Line("/// <param name=\"d\">Receives D, overwritten.</param>");
            w.Line("/// <remarks>Calls the span overload; see it for the formula.</remarks>");
            w.Line("/// <exception cref=\"global::System.ArgumentNullException\">A matrix is null.</exception>");
            WriteGeneratedCodeAttribute(w);
            w.Open("public static void Forward(WMatrix w, XMatrix x, DMatrix d)");
            foreach (string name in new[] { "w", "x", "d" })
            {
                WriteNullCheck(w, name);
            }

            w.Line();
            w.Line("Forward(w.AsReadOnlySpan(), x.AsReadOnlySpan(), d.AsSpan());");
            w.Close();
            w.Line();

            w.Line("/// <summary>Computes <c>dW = dD·Xᵀ</c> and <c>dX = Wᵀ·dD</c> on typed matrices: a matrix of the wrong shape does not compile.</summary>");
            w.Line("/// <param name=\"w\">W.</param>");
            w.Line("/// <param name=\"x\">X.</param>");
            w.Line("/// <param name=\"dD\">The upstream gradient ∂L/∂D.</param>");
            w.Line("/// <param name=\"dW\">Receives ∂L/∂W, overwritten.</param>");
            w.Line("/// <param name=\"dX\">Receives ∂L/∂X, overwritten.</param>");
            w.Line("/// <remarks>Calls the span overload; see it for the formulas.</remarks>");
            w.Line("/// <exception cref=\"global::System.ArgumentNullException\">A matrix is null.</exception>");
            w.Line("/// <exception cref=\"global::System.ArgumentException\">An output is the same matrix as an input (for example <paramref name=\"dW\"/> is <paramref name=\"w\"/>). Nothing is written.</exception>");
            WriteGeneratedCodeAttribute(w);
            w.Open("public static void Backward(WMatrix w, XMatrix x, DMatrix dD, WMatrix dW, XMatrix dX)");
            foreach (string name in new[] { "w", "x", "dD", "dW", "dX" })
            {
                WriteNullCheck(w, name);
            }

            w.Line();
            w.Line("Backward(w.AsReadOnlySpan(), x.AsReadOnlySpan(), dD.AsReadOnlySpan(), dW.AsSpan(), dX.AsSpan());");
            w.Close();
            w.Line();
        }

        private static void WriteMatrixType(SourceWriter w, MatMulSpec spec, string typeName, string operand, int rows, int columns)
        {
            string t = spec.Element.Keyword();
            int length = rows * columns;
            w.Line($"/// <summary>{operand} of <c>[{Escape(spec.AttributeText)}]</c>: a {Shape(rows, columns)} matrix of {t}, row-major, stored on the heap.</summary>");
            w.Line("/// <remarks>Each operand has its own type, so passing one where another is expected is a compile error. Creating one allocates its array once; using it allocates nothing.</remarks>");
            WriteGeneratedCodeAttribute(w);
            if (spec.RuntimeKernels)
            {
                // The storage, indexer and spans live once in StaticGrad.Runtime; this type only fixes the shape.
                w.Open($"public sealed class {typeName} : global::StaticGrad.Typed.FixedMatrix<{t}>");
                WriteMatrixConstants(w, rows, columns);
                w.Line("/// <summary>Creates a matrix of zeros.</summary>");
                w.Line($"public {typeName}() : base(Rows, Columns) {{ }}");
                w.Line();
                w.Line("/// <summary>Creates a matrix holding a copy of <paramref name=\"values\"/>, row-major.</summary>");
                w.Line($"/// <param name=\"values\">{length} elements, row-major.</param>");
                w.Line($"/// <exception cref=\"global::System.ArgumentException\"><paramref name=\"values\"/> does not hold {length} elements.</exception>");
                w.Line($"public {typeName}({ReadOnlySpan}<{t}> values) : base(Rows, Columns, values, \"{operand}\") {{ }}");
                w.Close();
                w.Line();
                return;
            }

            w.Open($"public sealed class {typeName}");
            WriteMatrixConstants(w, rows, columns);
            w.Line($"private readonly {t}[] _elements;");
            w.Line();
            w.Line("/// <summary>Creates a matrix of zeros.</summary>");
            w.Open($"public {typeName}()");
            w.Line($"_elements = new {t}[Length];");
            w.Close();
            w.Line();
            w.Line("/// <summary>Creates a matrix holding a copy of <paramref name=\"values\"/>, row-major.</summary>");
            w.Line($"/// <param name=\"values\">{length} elements, row-major.</param>");
            w.Line($"/// <exception cref=\"global::System.ArgumentException\"><paramref name=\"values\"/> does not hold {length} elements.</exception>");
            w.Open($"public {typeName}({ReadOnlySpan}<{t}> values)");
            w.Line($"if (values.Length != Length) ThrowLengthMismatch(nameof(values), \"{operand}\", \"{Shape(rows, columns)}\", Length, values.Length);");
            w.Line("_elements = values.ToArray();");
            w.Close();
            w.Line();
            w.Line("/// <summary>The element at <paramref name=\"row\"/>, <paramref name=\"column\"/>, by reference.</summary>");
            w.Line("/// <param name=\"row\">Zero-based row, less than <see cref=\"Rows\"/>.</param>");
            w.Line("/// <param name=\"column\">Zero-based column, less than <see cref=\"Columns\"/>.</param>");
            w.Line("/// <exception cref=\"global::System.ArgumentOutOfRangeException\">An index is outside the matrix.</exception>");
            w.Line($"public ref {t} this[int row, int column]");
            w.Line("{");
            w.Line("    get");
            w.Line("    {");
            w.Line($"        if ((uint)row >= Rows) throw new global::System.ArgumentOutOfRangeException(nameof(row), row, \"Row must be at least 0 and less than {rows}.\");");
            w.Line($"        if ((uint)column >= Columns) throw new global::System.ArgumentOutOfRangeException(nameof(column), column, \"Column must be at least 0 and less than {columns}.\");");
            w.Line("        return ref _elements[(row * Columns) + column];");
            w.Line("    }");
            w.Line("}");
            w.Line();
            w.Line("/// <summary>The elements, row-major, writable.</summary>");
            w.Line($"public {Span}<{t}> AsSpan() => _elements;");
            w.Line();
            w.Line("/// <summary>The elements, row-major, read-only.</summary>");
            w.Line($"public {ReadOnlySpan}<{t}> AsReadOnlySpan() => _elements;");
            w.Close();
            w.Line();
        }

        private static void WriteMatrixConstants(SourceWriter w, int rows, int columns)
        {
            w.Line($"/// <summary>Rows: {rows}.</summary>");
            w.Line($"public const int Rows = {rows};");
            w.Line();
            w.Line($"/// <summary>Columns: {columns}.</summary>");
            w.Line($"public const int Columns = {columns};");
            w.Line();
            w.Line($"/// <summary>Element count: {rows * columns}.</summary>");
            w.Line($"public const int Length = {rows * columns};");
            w.Line();
        }

        private static void WriteThrowHelpers(SourceWriter w)
        {
            w.Line("// Throwing lives in its own methods so Forward and Backward stay small enough for the JIT to inline their checks.");
            WriteGeneratedCodeAttribute(w);
            w.Open("private static void ThrowLengthMismatch(string parameterName, string matrix, string shape, int expected, int actual)");
            w.Line("throw new global::System.ArgumentException(");
            w.Line("    $\"{matrix} must be {shape} = {expected} elements (row-major), but the span has length {actual}.\", parameterName);");
            w.Close();
            w.Line();
            WriteGeneratedCodeAttribute(w);
            w.Open("private static void ThrowOverlap(string output, string other)");
            w.Line("throw new global::System.ArgumentException(");
            w.Line("    $\"{output} overlaps {other}: an output must not share memory with an input or with another output.\", output);");
            w.Close();
        }

        /// <summary>
        /// The shapes of the three products for StaticGrad's kernels, in the kernels' terms <c>C[M×N] = op(A)·op(B)</c>, op(A) M×K.
        /// </summary>
        private static void WriteProducts(SourceWriter w, MatMulSpec spec)
        {
            w.Line();
            GemmShapeEmitter.WriteShape(w, new GemmShapeEmitter.Product(
                "ForwardProduct", $"D[{spec.M}×{spec.N}] = W[{spec.M}×{spec.K}]·X[{spec.K}×{spec.N}]",
                M: spec.M, N: spec.N, K: spec.K, LeadingA: spec.K, LeadingB: spec.N, TransposeA: false, TransposeB: false, Accumulate: false));
            w.Line();
            GemmShapeEmitter.WriteShape(w, new GemmShapeEmitter.Product(
                "WeightGradientProduct", $"dW[{spec.M}×{spec.K}] = dD[{spec.M}×{spec.N}]·Xᵀ, X[{spec.K}×{spec.N}] read by rows",
                M: spec.M, N: spec.K, K: spec.N, LeadingA: spec.N, LeadingB: spec.N, TransposeA: false, TransposeB: true, Accumulate: false));
            w.Line();
            GemmShapeEmitter.WriteShape(w, new GemmShapeEmitter.Product(
                "InputGradientProduct", $"dX[{spec.K}×{spec.N}] = Wᵀ·dD[{spec.M}×{spec.N}], W[{spec.M}×{spec.K}] read by columns",
                M: spec.K, N: spec.N, K: spec.M, LeadingA: spec.K, LeadingB: spec.N, TransposeA: true, TransposeB: false, Accumulate: false));
            if (spec.Parallel)
            {
                w.Line();
                w.Line($"/// <summary>This thread and {spec.Threads - 1} background worker(s) of this class, started on first use, that Forward and Backward split their products across.</summary>");
                w.Line($"private static readonly global::StaticGrad.Kernels.WorkerTeam Workers = new global::StaticGrad.Kernels.WorkerTeam({spec.Threads});");
            }
        }


        /// <summary><c>MemoryMarshal.GetReference(span)</c>: the kernels index from a reference, with no bounds checks (the lengths were checked).</summary>
        private static string Ref(string span) => $"global::System.Runtime.InteropServices.MemoryMarshal.GetReference({span})";

        private static void WriteLengthCheck(SourceWriter w, string parameter, string matrix, int rows, int columns)
        {
            int length = rows * columns;
            w.Line($"if ({parameter}.Length != {length}) ThrowLengthMismatch(nameof({parameter}), \"{matrix}\", \"{Shape(rows, columns)}\", {length}, {parameter}.Length);");
        }

        private static void WriteOverlapCheck(SourceWriter w, string output, string other) =>
            w.Line($"if (global::System.MemoryExtensions.Overlaps({output}, {other})) ThrowOverlap(nameof({output}), nameof({other}));");

        private static void WriteNullCheck(SourceWriter w, string parameter) =>
            w.Line($"if ({parameter} is null) throw new global::System.ArgumentNullException(nameof({parameter}));");

        /// <summary>Writes <c>target = t0 + t1 + …; // element</c>, eight terms a line.</summary>
        private static void WriteSum(SourceWriter w, string target, List<string> terms, string element)
        {
            var line = new StringBuilder();
            line.Append(target).Append(" = ");
            string continuation = new(' ', target.Length + 1);
            for (int i = 0; i < terms.Count; i++)
            {
                if (i > 0 && i % TermsPerLine == 0)
                {
                    w.Line(line.ToString());
                    line.Clear().Append(continuation).Append("+ ");
                }
                else if (i > 0)
                {
                    line.Append(" + ");
                }

                line.Append(terms[i]);
            }

            line.Append("; // ").Append(element);
            w.Line(line.ToString());
        }

        private static void WriteGeneratedCodeAttribute(SourceWriter w) =>
            w.Line($"[global::System.CodeDom.Compiler.GeneratedCode(\"StaticGrad\", \"{GeneratedFile.GeneratorVersion}\")]");

        private static string Shape(int rows, int columns) => $"{rows}×{columns}";

        private static string Escape(string text) => text.Replace("&", "&amp;").Replace("<", "&lt;").Replace(">", "&gt;");
    }
}
