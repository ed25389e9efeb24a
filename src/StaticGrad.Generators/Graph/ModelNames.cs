using System.Collections.Generic;
using System.Linq;

namespace StaticGrad.Generators.Graph
{
    /// <summary>
    /// The names a <c>[Model]</c>'s inputs and outputs take in the generated members: the span parameters of Forward,
    /// Backward and Predict, and the constants holding their values per example. The parser checks them for clashes; the
    /// emitter writes them.
    /// </summary>
    internal static class ModelNames
    {
        /// <summary>The span parameter of an input: <c>inputs</c> for a model of one input, else the Forward parameter's name.</summary>
        public static string InputParameter(int inputCount, string name) => inputCount == 1 ? "inputs" : Escape(name);

        /// <summary>The constant of an input's values per example: <c>InputSize</c> for one input, else <c>XSize</c> for <c>x</c>.</summary>
        public static string InputSize(int inputCount, string name) => inputCount == 1 ? "InputSize" : SizeName(name);

        /// <summary>The constant of an output's values per example: <c>OutputSize</c> for one output, else <c>ScoresSize</c> for <c>scores</c>.</summary>
        public static string OutputSize(int outputCount, string name) => outputCount == 1 ? "OutputSize" : SizeName(name);

        /// <summary>The span parameter of an output's gradient in Backward: <c>outputGradients</c>, or <c>scoresGradients</c>.</summary>
        public static string OutputGradients(int outputCount, string name) => outputCount == 1 ? "outputGradients" : name.TrimStart('@') + "Gradients";

        /// <summary>An output's name in an exported ONNX graph: <c>output</c> for one output, else the element's name (<c>scores</c>).</summary>
        public static string OnnxOutput(int outputCount, string name) => outputCount == 1 ? "output" : name.TrimStart('@');

        /// <summary>A tuple element's name as a span parameter: <c>Scores</c> → <c>scores</c>, a keyword prefixed with <c>@</c>.</summary>
        public static string Parameter(string name) => Escape(char.ToLowerInvariant(name[0]) + name.Substring(1));

        /// <summary>A name as C# source: <c>@int</c> for a keyword (Roslyn's symbol names leave the <c>@</c> out).</summary>
        private static string Escape(string name) =>
            Microsoft.CodeAnalysis.CSharp.SyntaxFacts.GetKeywordKind(name) != Microsoft.CodeAnalysis.CSharp.SyntaxKind.None ? "@" + name : name;

        /// <summary><c>x</c> → <c>XSize</c>, <c>@int</c> → <c>IntSize</c>.</summary>
        private static string SizeName(string name)
        {
            string bare = name.TrimStart('@');
            return char.ToUpperInvariant(bare[0]) + bare.Substring(1) + "Size";
        }

        /// <summary>
        /// Why an output name cannot be used beside the inputs (a span parameter, a size constant or an ONNX name they would
        /// share), or null when it can: for a model of several outputs, named <paramref name="output"/>.
        /// </summary>
        public static string? Clash(string output, int outputCount, IReadOnlyList<string> inputNames)
        {
            string size = OutputSize(outputCount, output), gradients = OutputGradients(outputCount, output);
            foreach (string input in inputNames)
            {
                if (InputParameter(inputNames.Count, input) == output || input == output.TrimStart('@') || InputSize(inputNames.Count, input) == size)
                {
                    return $"a span parameter, '{size}' or the ONNX name of the input '{input}'";
                }
            }

            return gradients == "inputGradients" ? "the parameter 'inputGradients' of Backward" : null;
        }

        /// <summary>
        /// The span parameters of an imported graph's outputs: <c>outputs</c> for one; for several, each ONNX name as a C#
        /// parameter (<c>scores</c>), or <c>output1</c>, <c>output2</c>, … for all of them when one is not an identifier, two
        /// coincide, or one clashes with an input.
        /// </summary>
        public static string[] ImportedOutputs(IReadOnlyList<string> onnxNames, IReadOnlyList<string> inputNames)
        {
            if (onnxNames.Count == 1)
            {
                return new[] { "outputs" };
            }

            var names = new string[onnxNames.Count];
            for (int i = 0; i < names.Length; i++)
            {
                string name = onnxNames[i];
                bool identifier = name.Length > 0 && (char.IsLetter(name[0]) || name[0] == '_') && name.All(c => char.IsLetterOrDigit(c) || c == '_');
                names[i] = identifier ? Parameter(name) : string.Empty;
            }

            bool usable = names.All(n => n.Length > 0) && names.Distinct(System.StringComparer.Ordinal).Count() == names.Length
                && names.All(n => Clash(n, names.Length, inputNames) is null);
            return usable ? names : Enumerable.Range(1, names.Length).Select(i => $"output{i}").ToArray();
        }
    }
}
