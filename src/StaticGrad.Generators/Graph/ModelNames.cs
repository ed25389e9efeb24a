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
        public static string InputParameter(int inputCount, string name) => inputCount == 1 ? "inputs" : name;

        /// <summary>The constant of an input's values per example: <c>InputSize</c> for one input, else <c>XSize</c> for <c>x</c>.</summary>
        public static string InputSize(int inputCount, string name) => inputCount == 1 ? "InputSize" : SizeName(name);

        /// <summary>The constant of an output's values per example: <c>OutputSize</c> for one output, else <c>ScoresSize</c> for <c>scores</c>.</summary>
        public static string OutputSize(int outputCount, string name) => outputCount == 1 ? "OutputSize" : SizeName(name);

        /// <summary>The span parameter of an output's gradient in Backward: <c>outputGradients</c>, or <c>scoresGradients</c>.</summary>
        public static string OutputGradients(int outputCount, string name) => outputCount == 1 ? "outputGradients" : name.TrimStart('@') + "Gradients";

        /// <summary>An output's name in an exported ONNX graph: <c>output</c> for one output, else the element's name (<c>scores</c>).</summary>
        public static string OnnxOutput(int outputCount, string name) => outputCount == 1 ? "output" : name.TrimStart('@');

        /// <summary>A tuple element's name as a span parameter: <c>Scores</c> → <c>scores</c>, a keyword prefixed with <c>@</c>.</summary>
        public static string Parameter(string name)
        {
            string camel = char.ToLowerInvariant(name[0]) + name.Substring(1);
            return Microsoft.CodeAnalysis.CSharp.SyntaxFacts.GetKeywordKind(camel) != Microsoft.CodeAnalysis.CSharp.SyntaxKind.None ? "@" + camel : camel;
        }

        /// <summary><c>x</c> → <c>XSize</c>, <c>@int</c> → <c>IntSize</c>.</summary>
        private static string SizeName(string name)
        {
            string bare = name.TrimStart('@');
            return char.ToUpperInvariant(bare[0]) + bare.Substring(1) + "Size";
        }
    }
}
