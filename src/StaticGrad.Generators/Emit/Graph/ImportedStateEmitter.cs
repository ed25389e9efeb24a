using System;
using System.Globalization;
using StaticGrad.Generators.Graph;

namespace StaticGrad.Generators.Emit.Graph
{
    /// <summary>
    /// The second file of a <c>[FromOnnx]</c> model: the file's initializers (parameters, then buffers, as float32
    /// little-endian bytes in base64) in a UTF-8 literal the compiler stores in the assembly's data, and
    /// <c>LoadImportedState()</c>, which the constructor calls after <c>InitializeState</c>. Kept apart from the model's code so
    /// that file stays readable.
    /// </summary>
    internal static class ImportedStateEmitter
    {
        /// <summary>
        /// Base64 characters per line of the literal (a multiple of 4). For a 10 MB model (3,400 lines) the compile takes about 3 s
        /// more than with one line, and 9 s less than with lines of 1,024 (concatenated u8 literals cost the compiler per piece).
        /// </summary>
        private const int LineLength = 4096;

        public static string HintName(GraphSpec spec) => spec.Type.MetadataName + ".OnnxState.g.cs";

        public static string Emit(GraphSpec spec)
        {
            var w = new SourceWriter();
            GeneratedFile.Open(w, spec.Type, $"FromOnnx(\"{spec.ImportedFrom}\")", spec.NullableDirective);
            // A new head's parameters (Head = …) come after the file's, and start as PyTorch initialises them.
            int buffers = spec.BufferCount, parameters = spec.ImportedState.Count - buffers;
            var values = new float[spec.ImportedState.Count];
            for (int i = 0; i < values.Length; i++)
            {
                values[i] = spec.ImportedState[i];
            }

            var bytes = new byte[values.Length * 4];
            Buffer.BlockCopy(values, 0, bytes, 0, bytes.Length);
            if (!BitConverter.IsLittleEndian)
            {
                for (int i = 0; i < bytes.Length; i += 4)
                {
                    Array.Reverse(bytes, i, 4);
                }
            }

            string base64 = Convert.ToBase64String(bytes);
            w.Line($"/// <summary>");
            w.Line($"/// The state read from '{Xml(spec.ImportedFrom ?? string.Empty)}' at compile time: {Int(parameters)} parameter values then {Int(buffers)} buffer values,");
            w.Line("/// float32 little-endian, in base64 (a UTF-8 literal: the compiler keeps its bytes in the assembly's data, not in a string).");
            w.Line("/// </summary>");
            w.Line("private static global::System.ReadOnlySpan<byte> ImportedStateBase64 =>");
            if (base64.Length == 0)
            {
                w.Line("    \"\"u8;");
            }

            for (int start = 0; start < base64.Length; start += LineLength)
            {
                int length = Math.Min(LineLength, base64.Length - start);
                bool last = start + length >= base64.Length;
                w.Line($"    \"{base64.Substring(start, length)}\"u8{(last ? ";" : " +")}");
            }

            w.Line();
            w.Line($"/// <summary>Sets the parameters and buffers to the values of '{Xml(spec.ImportedFrom ?? string.Empty)}' (the counters stay 0).</summary>");
            w.Open("private void LoadImportedState()");
            w.Line($"byte[] bytes = new byte[{Int(bytes.Length)}];");
            w.Open("if (global::System.Buffers.Text.Base64.DecodeFromUtf8(ImportedStateBase64, bytes, out _, out int written) != global::System.Buffers.OperationStatus.Done || written != bytes.Length)");
            w.Line("throw new global::System.InvalidOperationException(\"The imported state embedded in the model is damaged: rebuild the project.\");");
            w.Close();
            w.Line();
            string count = parameters == spec.ParameterCount ? "ParameterCount" : Int(parameters);
            w.Open($"for (int i = 0; i < {count}; i++){(parameters == spec.ParameterCount ? string.Empty : " // the file's parameters; the new head's keep what InitializeState gave them")}");
            w.Line("_parameters[i] = global::System.Buffers.Binary.BinaryPrimitives.ReadSingleLittleEndian(new global::System.ReadOnlySpan<byte>(bytes, 4 * i, 4));");
            w.Close();
            w.Line();
            w.Open("for (int i = 0; i < BufferCount; i++)");
            w.Line($"_buffers[i] = global::System.Buffers.Binary.BinaryPrimitives.ReadSingleLittleEndian(new global::System.ReadOnlySpan<byte>(bytes, 4 * ({count} + i), 4));");
            w.Close();
            w.Close();
            GeneratedFile.Close(w, spec.Type);
            return w.ToString();
        }

        private static string Int(int value) => value.ToString(CultureInfo.InvariantCulture);

        private static string Xml(string text) => text.Replace("&", "&amp;").Replace("<", "&lt;").Replace(">", "&gt;");
    }
}
