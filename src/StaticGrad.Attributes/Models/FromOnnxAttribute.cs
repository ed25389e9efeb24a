using System;
using System.Diagnostics;

namespace StaticGrad
{
    /// <summary>
    /// Makes a partial class a trainable model whose graph is read, at compile time, from an ONNX file: the class gets
    /// every member a <see cref="ModelAttribute"/> model gets (<c>Forward</c>, <c>TrainStep</c>, the optimizers,
    /// <c>SaveSafetensors</c>/<c>LoadSafetensors</c> with the file's initializer names, <c>ExportOnnx</c>), and starts with
    /// the file's weights.
    /// </summary>
    /// <remarks>
    /// <para>The file must be an <c>AdditionalFiles</c> item of the project:
    /// <c>&lt;AdditionalFiles Include="models/digits.onnx" /&gt;</c>. The StaticGrad package's build targets turn each
    /// <c>*.onnx</c> item into a text copy under <c>obj/</c> that the compiler can hand to the generator (compilers reject
    /// binary additional files); <see cref="Path"/> is matched against the item as written, or against the end of its full path.</para>
    /// <para>The graph's first input has a symbolic batch dimension and static other dimensions; those are the model's
    /// input shape per example. Errors in the file (not ONNX, truncated, an operator StaticGrad does not import, a
    /// dimension that is not static, …) are reported on the path argument, naming the file and the node.</para>
    /// <para>A graph of several outputs becomes a model of several outputs, as a <c>[Model]</c> whose <c>Forward</c> returns a
    /// tuple: one span per output, named after the ONNX values where they are C# identifiers (<c>output1</c>, <c>output2</c>, …
    /// otherwise); such a model has no <see cref="Loss"/> or <see cref="Head"/> (or keep one output with <see cref="Output"/>).</para>
    /// <para>Example: <c>[FromOnnx("models/digits.onnx", Loss = Loss.SoftmaxCrossEntropy)] public partial class Digits;</c>.</para>
    /// </remarks>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
    [Conditional("STATICGRAD_KEEP_ATTRIBUTES")]
    public sealed class FromOnnxAttribute : Attribute
    {
        /// <summary>Imports the ONNX file at <paramref name="path"/>.</summary>
        /// <param name="path">The file's path as the project's <c>AdditionalFiles</c> item gives it (relative to the project), such as <c>models/digits.onnx</c>.</param>
        public FromOnnxAttribute(string path)
        {
            Path = path;
        }

        /// <summary>The ONNX file's path, as the <c>AdditionalFiles</c> item gives it.</summary>
        public string Path { get; }

        /// <summary>The loss that training minimises on the graph's output (a graph of one output); <see cref="StaticGrad.Loss.None"/> by default (inference, or a loss of your own).</summary>
        public Loss Loss { get; set; } = Loss.None;

        /// <summary>
        /// Where the imported graph ends: the name of an ONNX value (<c>/relu1/Relu_output_0</c>) or of a node (its first output),
        /// instead of the graph's output. What comes after it is left out — the usual way to drop a classifier's head and keep
        /// its features: compose the class with a new head (see the README's "Importing ONNX models"). Null: the graph's output.
        /// </summary>
        public string? Output { get; set; }

        /// <summary>
        /// Adds a new head after the graph's output (or <see cref="Output"/>): a <c>Linear(features, Head)</c> called <c>head</c>,
        /// initialised as PyTorch initialises <c>nn.Linear</c> (from the constructor's seed) — fine-tuning's replacement of the
        /// last layer. 0 (the default): no head.
        /// </summary>
        public int Head { get; set; }

        /// <summary>
        /// Freezes the imported layers: no gradient flows back past the end of the import, so training changes only the
        /// <see cref="Head"/> (which it then requires). BatchNorm layers of the frozen part still run in training mode during
        /// <c>TrainStep</c> (batch statistics, running statistics updated), as in PyTorch when the whole model is in <c>train()</c>.
        /// </summary>
        public bool Freeze { get; set; }
    }
}
