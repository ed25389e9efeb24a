using StaticGrad.Generators.Model;

namespace StaticGrad.Generators.Emit.Network
{
    /// <summary>
    /// The network's <c>Description</c> (its layers and parameter layout for StaticGrad.Interchange) and the methods that
    /// move it to and from the rest of the ML world: safetensors both ways and ONNX export. The file code itself lives
    /// once in StaticGrad.Runtime (<c>StaticGrad.Interchange.Safetensors</c>, <c>OnnxExport</c>); only networks compiled
    /// against it (.NET 8 and later) get these members.
    /// </summary>
    internal static class InterchangeEmitter
    {
        private const string Namespace = "global::StaticGrad.Interchange.";

        public static void Write(SourceWriter w, NetworkCode code)
        {
            NetworkSpec spec = code.Spec;
            string t = code.T;
            string dtype = spec.Element == ElementKind.Double ? "F64" : "F32";
            string other = spec.Element == ElementKind.Double ? "F32" : "F64";
            string span = $"new global::System.ReadOnlySpan<{t}>(_parameters)";

            w.Line("/// <summary>");
            w.Line("/// The network as file formats see it: its layers and where each parameter tensor sits in <see cref=\"Parameters\"/>,");
            w.Line("/// with PyTorch's names for them (<c>0.weight</c> [out, in], <c>0.bias</c> [out], …; the index is the layer's position).");
            w.Line("/// </summary>");
            w.Line($"public static {Namespace}NetworkDescription Description {{ get; }} = new {Namespace}NetworkDescription(");
            w.Line("    Architecture,");
            w.Line("    ParameterCount,");
            for (int i = 0; i < spec.Layers.Count; i++)
            {
                LayerSpec layer = spec.Layers[i];
                string arguments;
                if (layer.In.IsImage)
                {
                    string image(SpatialShape shape) => $"new {Namespace}ImageShape({shape.Channels}, {shape.Height}, {shape.Width})";
                    arguments = $"{i}, {Namespace}LayerOperator.{layer.Kind}, {image(layer.In)}, {image(layer.Out)}";
                    if (layer.Kernel > 0)
                    {
                        arguments += $", kernel: {layer.Kernel}, stride: {layer.Stride}, padding: {layer.Padding}";
                    }

                    if (layer.HasParameters)
                    {
                        arguments += $", weightOffset: {layer.WeightOffset}, biasOffset: {(layer.HasBias ? layer.BiasOffset : -1)}";
                    }
                }
                else
                {
                    arguments = $"{i}, {Namespace}LayerOperator.{layer.Kind}, {layer.Inputs}, {layer.Outputs}";
                    if (layer.HasParameters)
                    {
                        arguments += $", {layer.WeightOffset}, {(layer.HasBias ? layer.BiasOffset : -1)}";
                    }
                }

                w.Line($"    new {Namespace}LayerDescription({arguments}){(i == spec.Layers.Count - 1 ? ");" : ",")}");
            }

            w.Line();

            w.Line($"/// <summary>Saves the parameters as a safetensors file ({dtype} tensors named <c>0.weight</c>, <c>0.bias</c>, … as in the equivalent");
            w.Line("/// PyTorch <c>nn.Sequential</c>, the architecture in <c>__metadata__</c>), through a temporary file that then replaces <paramref name=\"path\"/>.");
            w.Line("/// PyTorch reads it with <c>model.load_state_dict(safetensors.torch.load_file(path))</c>.</summary>");
            w.Line("/// <param name=\"path\">The file to create or replace.</param>");
            w.Line($"public void SaveSafetensors(string path) => {Namespace}Safetensors.Save(path, Description, {span});");
            w.Line();
            w.Line("/// <summary>Writes the parameters to <paramref name=\"stream\"/> as a safetensors file; see <see cref=\"SaveSafetensors(string)\"/>.</summary>");
            w.Line("/// <param name=\"stream\">A writable stream.</param>");
            w.Line($"public void SaveSafetensors(global::System.IO.Stream stream) => {Namespace}Safetensors.Save(stream, Description, {span});");
            w.Line();
            w.Line("/// <summary>Loads parameters from a safetensors file, such as <c>safetensors.torch.save_file(model.state_dict(), path)</c> writes for the");
            w.Line("/// equivalent <c>nn.Sequential</c>. Tensors may come in any order. The file is read and checked in full first: a missing, extra or");
            w.Line("/// misshapen tensor, another dtype, a truncated or malformed file throws and leaves the model as it was.</summary>");
            w.Line("/// <param name=\"path\">The file to read.</param>");
            w.Line($"/// <param name=\"allowConversion\">Accept {other} tensors and convert them to {t}; otherwise an {other} tensor is an error.</param>");
            w.Line("/// <exception cref=\"global::System.IO.InvalidDataException\">The file does not hold exactly this network's tensors, or is damaged; the message names the tensor.</exception>");
            w.Line($"public void LoadSafetensors(string path, bool allowConversion = false) => {Namespace}Safetensors.Load(path, Description, new global::System.Span<{t}>(_parameters), allowConversion);");
            w.Line();
            w.Line("/// <summary>Loads parameters from a safetensors file in <paramref name=\"stream\"/> (read to its end); see <see cref=\"LoadSafetensors(string, bool)\"/>.</summary>");
            w.Line("/// <param name=\"stream\">A readable stream positioned at the start of the file.</param>");
            w.Line($"/// <param name=\"allowConversion\">Accept {other} tensors and convert them to {t}; otherwise an {other} tensor is an error.</param>");
            w.Line("/// <exception cref=\"global::System.IO.InvalidDataException\">The file does not hold exactly this network's tensors, or is damaged; the message names the tensor.</exception>");
            w.Line($"public void LoadSafetensors(global::System.IO.Stream stream, bool allowConversion = false) => {Namespace}Safetensors.Load(stream, Description, new global::System.Span<{t}>(_parameters), allowConversion);");
            w.Line();
            w.Line("/// <summary>Exports the forward pass as an ONNX model (IR version 7, opset 13) that ONNX Runtime runs: input <c>input</c>");
            w.Line($"/// [batch, {spec.InputSize}], output <c>output</c> [batch, {spec.OutputSize}] equal to <c>Forward</c>'s (the scores before the loss),");
            w.Line("/// Linear layers as <c>Gemm</c> (image layers as <c>Conv</c>, <c>MaxPool</c>, …) with the weights as initializers. Written through a temporary file that then replaces <paramref name=\"path\"/>.</summary>");
            w.Line("/// <param name=\"path\">The .onnx file to create or replace.</param>");
            w.Line($"public void ExportOnnx(string path) => {Namespace}OnnxExport.Save(path, Description, {span});");
            w.Line();
            w.Line("/// <summary>Writes the forward pass to <paramref name=\"stream\"/> as an ONNX model; see <see cref=\"ExportOnnx(string)\"/>.</summary>");
            w.Line("/// <param name=\"stream\">A writable stream.</param>");
            w.Line($"public void ExportOnnx(global::System.IO.Stream stream) => {Namespace}OnnxExport.Save(stream, Description, {span});");
            w.Line();
            string elementType = $"{Namespace}ElementType";
            string convert = spec.Element == ElementKind.Double
                ? "<c>Float</c> rounds the parameters to float and makes input and output float, so ONNX Runtime's CPU provider (which has no double <c>Conv</c>) runs it; <c>Double</c> is the same as the overload without it"
                : "<c>Double</c> widens the parameters exactly and makes input and output double; <c>Float</c> is the same as the overload without it";
            w.Line("/// <summary>Exports the forward pass as an ONNX model with tensors of <paramref name=\"elementType\"/>; see <see cref=\"ExportOnnx(string)\"/>.</summary>");
            w.Line("/// <param name=\"path\">The .onnx file to create or replace.</param>");
            w.Line($"/// <param name=\"elementType\">The element type of the file's input, output and initializers: {convert}.</param>");
            w.Line("/// <exception cref=\"global::System.ArgumentOutOfRangeException\"><paramref name=\"elementType\"/> is not a defined value.</exception>");
            w.Line($"public void ExportOnnx(string path, {elementType} elementType) => {Namespace}OnnxExport.Save(path, Description, {span}, elementType);");
            w.Line();
            w.Line("/// <summary>Writes the forward pass to <paramref name=\"stream\"/> as an ONNX model with tensors of <paramref name=\"elementType\"/>; see <see cref=\"ExportOnnx(string)\"/>.</summary>");
            w.Line("/// <param name=\"stream\">A writable stream.</param>");
            w.Line($"/// <param name=\"elementType\">The element type of the file's input, output and initializers: {convert}.</param>");
            w.Line("/// <exception cref=\"global::System.ArgumentOutOfRangeException\"><paramref name=\"elementType\"/> is not a defined value.</exception>");
            w.Line($"public void ExportOnnx(global::System.IO.Stream stream, {elementType} elementType) => {Namespace}OnnxExport.Save(stream, Description, {span}, elementType);");
            w.Line();
        }
    }
}
