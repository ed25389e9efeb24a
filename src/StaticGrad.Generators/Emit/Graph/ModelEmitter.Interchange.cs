using System.Collections.Generic;
using System.Linq;
using StaticGrad.Generators.Graph;
using StaticGrad.Generators.Graph.Ops;
using StaticGrad.Generators.Model;

namespace StaticGrad.Generators.Emit.Graph
{
    /// <summary>Interchange: Save/Load, the network interface, the PyTorch-named safetensors state and the ONNX graph and export.</summary>
    internal static partial class ModelEmitter
    {
        /// <summary>
        /// The save file and, for a model of one float input and one label or target row per example, the members of
        /// <c>IClassifier&lt;float&gt;</c> or <c>IRegressor&lt;float&gt;</c> that a <c>[Model]</c> has under other forms
        /// (constants, optional parameters), so it trains with <c>TrainEpoch</c> and <c>MiniBatches</c> as a network does.
        /// </summary>
        private static void WriteFileAndInterface(SourceWriter w, GraphSpec spec)
        {
            w.Lines("""
                /// <summary>
                /// Saves the model's whole state (parameters, running statistics and counters) in StaticGrad's model format
                /// (<see cref="global::StaticGrad.Interchange.ModelFile"/>), tied to <see cref="Architecture"/>. Writes a temporary file
                /// beside <paramref name="path"/> and then replaces it. SaveSafetensors writes the same state for PyTorch.
                /// </summary>
                public void Save(string path) => global::StaticGrad.Interchange.ModelFile.Save(path, Architecture, _parameters, _buffers, _counters);

                /// <summary>Writes the model's whole state to <paramref name="stream"/>; see <see cref="Save(string)"/>.</summary>
                public void Save(global::System.IO.Stream stream) => global::StaticGrad.Interchange.ModelFile.Save(stream, Architecture, _parameters, _buffers, _counters);

                /// <summary>Loads a state written by <see cref="Save(string)"/>. The whole file is checked first: a file of another architecture, a truncated or corrupt file throws and leaves the model as it was.</summary>
                /// <exception cref="global::System.IO.InvalidDataException">The file is not a model of this architecture, or is damaged.</exception>
                public void Load(string path) => global::StaticGrad.Interchange.ModelFile.Load(path, Architecture, _parameters, _buffers, _counters);

                /// <summary>Loads a state from <paramref name="stream"/> (read to its end); see <see cref="Load(string)"/>.</summary>
                /// <exception cref="global::System.IO.InvalidDataException">The stream does not hold a model of this architecture, or it is damaged.</exception>
                public void Load(global::System.IO.Stream stream) => global::StaticGrad.Interchange.ModelFile.Load(stream, Architecture, _parameters, _buffers, _counters);

                """);
            if (InterfaceName(spec) is not { } name)
            {
                return;
            }

            if (ImplementsTokenClassifier(spec))
            {
                w.Line($"// {name}: the members this class has as constants.");
                w.Line($"int {name}.InputSize => InputSize;");
                w.Line($"int {name}.OutputSize => OutputSize;");
                w.Line($"int {name}.LabelsPerExample => {Int(Positions(spec))};");
                w.Line($"int {name}.ParameterCount => ParameterCount;");
                w.Line($"string {name}.Architecture => Architecture;");
                w.Line();
                return;
            }

            string network = $"global::StaticGrad.INetwork<{E(spec)}>";
            w.Line($"// {name}: the members this class has as constants, static properties or with optional parameters.");
            w.Line($"int {network}.InputSize => InputSize;");
            w.Line($"int {network}.OutputSize => OutputSize;");
            w.Line($"int {network}.ParameterCount => ParameterCount;");
            w.Line($"string {network}.Architecture => Architecture;");
            w.Line($"global::StaticGrad.Interchange.NetworkDescription {network}.Description => Description;");
            w.Line($"void {network}.ExportOnnx(string path) => ExportOnnx(path);");
            w.Line($"void {network}.ExportOnnx(global::System.IO.Stream stream) => ExportOnnx(stream);");
            w.Line($"void {network}.ExportOnnx(string path, global::StaticGrad.Interchange.ElementType elementType) => ExportOnnx(path, CheckOnnxElementType(elementType));");
            w.Line($"void {network}.ExportOnnx(global::System.IO.Stream stream, global::StaticGrad.Interchange.ElementType elementType) => ExportOnnx(stream, CheckOnnxElementType(elementType));");
            w.Line();
            w.Line(spec.Element == ElementKind.Double ? "/// <summary>A [Model<double>] exports FLOAT tensors (its state rounded to float); the opset stays the default.</summary>".Replace("<double>", "&lt;double&gt;") : "/// <summary>A float model exports float tensors; the opset stays the default.</summary>");
            w.Open("private static int CheckOnnxElementType(global::StaticGrad.Interchange.ElementType elementType)");
            w.Open("if (elementType != global::StaticGrad.Interchange.ElementType.Float)");
            w.Line("throw new global::System.ArgumentException($\"A [Model] exports FLOAT tensors; {elementType} is not available (an attribute network of double can export DOUBLE).\", nameof(elementType));");
            w.Close();
            w.Line();
            w.Line("return global::StaticGrad.Interchange.OnnxGraphExport.DefaultOpset;");
            w.Close();
            w.Line();
        }

        private static void WriteInterchange(SourceWriter w, GraphSpec spec)
        {
            w.Line("/// <summary>The parameter tensors with PyTorch's <c>state_dict</c> names and shapes, in the flat array's order.</summary>");
            w.Open("public static global::StaticGrad.Interchange.NetworkDescription Description { get; } = new global::StaticGrad.Interchange.NetworkDescription(Architecture, ParameterCount, new global::StaticGrad.Interchange.ParameterSpec[]");
            foreach (StateTensor tensor in spec.Parameters)
            {
                w.Line($"new(\"{Escape(tensor.Name)}\", {Int(tensor.Offset)}, {(tensor.IsWeight ? "true" : "false")}, new int[] {{ {string.Join(", ", tensor.Shape)} }}),");
            }

            w.Close(");");
            w.Line();
            w.Line("/// <summary>The state that is not trained: float buffers (running statistics) and counters (<c>num_batches_tracked</c>), with PyTorch's names.</summary>");
            w.Open("public static global::StaticGrad.Interchange.StateDescription State { get; } = new global::StaticGrad.Interchange.StateDescription(BufferCount, new global::StaticGrad.Interchange.BufferSpec[]");
            foreach (StateTensor tensor in spec.Buffers)
            {
                w.Line($"new(\"{Escape(tensor.Name)}\", {Int(tensor.Offset)}, new int[] {{ {string.Join(", ", tensor.Shape)} }}),");
            }

            w.Close(",");
            w.Open("new global::StaticGrad.Interchange.CounterSpec[]");
            foreach (StateTensor tensor in spec.Counters)
            {
                w.Line($"new(\"{Escape(tensor.Name)}\", {Int(tensor.Offset)}),");
            }

            w.Close(");");
            w.Line();
            w.Lines("""
                /// <summary>Writes parameters, buffers and counters as a safetensors file that PyTorch's <c>load_state_dict</c> reads (the same names).</summary>
                public void SaveSafetensors(string path) => global::StaticGrad.Interchange.Safetensors.Save(path, Description, State, _parameters, _buffers, _counters);

                /// <summary>Writes parameters, buffers and counters to a stream in safetensors format.</summary>
                public void SaveSafetensors(global::System.IO.Stream stream) => global::StaticGrad.Interchange.Safetensors.Save(stream, Description, State, _parameters, _buffers, _counters);

                /// <summary>Reads a PyTorch <c>state_dict</c> saved as safetensors (names and shapes checked before anything changes).</summary>
                /// <param name="path">The file.</param>
                /// <param name="allowConversion">Accept F64 tensors and convert them.</param>
                public void LoadSafetensors(string path, bool allowConversion = false) => global::StaticGrad.Interchange.Safetensors.Load(path, Description, State, _parameters, _buffers, _counters, allowConversion);

                /// <summary>Reads a PyTorch <c>state_dict</c> in safetensors format from a stream.</summary>
                public void LoadSafetensors(global::System.IO.Stream stream, bool allowConversion = false) => global::StaticGrad.Interchange.Safetensors.Load(stream, Description, State, _parameters, _buffers, _counters, allowConversion);

                """);
        }

        /// <summary>
        /// The forward pass as ONNX nodes (each live node's op writes its own through <see cref="OnnxBuilder"/>), as a static
        /// <c>OnnxGraph</c>, and the <c>ExportOnnx</c> methods that write it with the current parameters and buffers.
        /// </summary>
        private static void WriteOnnx(SourceWriter w, GraphSpec spec, Routing routing)
        {
            var onnx = new OnnxBuilder(spec);
            foreach (GraphNode node in spec.Nodes)
            {
                if (routing.Live.Contains(node.Id))
                {
                    OpCatalogue.Of(node.Op).WriteOnnx(onnx, node);
                }
            }

            const string Interchange = "global::StaticGrad.Interchange.";
            string shape(Helpers.EquatableArray<int> dims) => $"new int[] {{ {string.Join(", ", dims)} }}";
            string names(string[] values) => $"new string[] {{ {string.Join(", ", values.Select(v => $"\"{OnnxBuilder.Escape(v)}\""))} }}";
            string inputs = string.Join(", ", spec.Inputs.Select(i => $"\"{Escape(i.Name)}\""));
            string outputShape(GraphOutput o) => spec.Nodes[o.Node].Shape.Count == 0 ? "[batch]" : $"[batch, {string.Join(", ", spec.Nodes[o.Node].Shape)}]";
            string outputNames(string quote) => string.Join(", ", spec.Outputs.Select(o => $"{quote}{ModelNames.OnnxOutput(spec.Outputs.Count, o.Name)}{quote} {outputShape(o)}"));
            string outputText = spec.SingleOutput ? $"output {outputNames("'")}" : $"outputs {outputNames("'")}";
            w.Line("/// <summary>");
            w.Line("/// The forward pass in evaluation mode as an ONNX graph: the nodes each op writes, and the parameters and running statistics");
            w.Line($"/// it reads as initializers under their <c>state_dict</c> names. Inputs {Xml(string.Join(", ", spec.Inputs.Select(i => $"'{i.Name}' [batch, {string.Join(", ", i.Shape)}]")))}, {Xml(outputText)}.");
            w.Line("/// <see cref=\"ExportOnnx(string, int)\"/> writes it with the model's current state.");
            w.Line("/// </summary>");
            w.Line($"public static {Interchange}OnnxGraph OnnxGraph {{ get; }} = new {Interchange}OnnxGraph(");
            w.Line("    Architecture,");
            w.Line($"    new {Interchange}OnnxTensorInfo[] {{ {string.Join(", ", spec.Inputs.Select(i => $"new(\"{Escape(i.Name)}\", {shape(i.Shape)}{(i.Tokens ? ", integers: true" : string.Empty)})"))} }},");
            w.Line(spec.SingleOutput
                ? $"    new {Interchange}OnnxTensorInfo(\"{ModelNames.OnnxOutput(1, spec.Outputs[0].Name)}\", {shape(spec.OutputNode.Shape)}),"
                : $"    new {Interchange}OnnxTensorInfo[] {{ {string.Join(", ", spec.Outputs.Select(o => $"new(\"{ModelNames.OnnxOutput(spec.Outputs.Count, o.Name)}\", {shape(spec.Nodes[o.Node].Shape)})"))} }},");
            w.Line($"    new {Interchange}OnnxNode[]");
            w.Line("    {");
            foreach (OnnxBuilder.Node node in onnx.Nodes)
            {
                string attributes = string.Concat(node.Attributes.Select(a => $", {Interchange}OnnxAttribute.{a.Kind}(\"{a.Name}\", {a.Value})"));
                string range = node.MinimumOpset > 0 || node.MaximumOpset < int.MaxValue
                    ? $" {{ {string.Join(", ", new[] { node.MinimumOpset > 0 ? $"MinimumOpset = {Int(node.MinimumOpset)}" : null, node.MaximumOpset < int.MaxValue ? $"MaximumOpset = {Int(node.MaximumOpset)}" : null }.Where(p => p is not null))} }}"
                    : string.Empty;
                w.Line($"        new(\"{node.OpType}\", \"{OnnxBuilder.Escape(node.Name)}\", {names(node.Inputs)}, {names(node.Outputs)}{attributes}){range},");
            }

            w.Line("    },");
            w.Line($"    new {Interchange}OnnxInitializer[]");
            w.Line("    {");
            foreach (OnnxBuilder.Initializer initializer in onnx.Initializers)
            {
                w.Line($"        {initializer.Expression},");
            }

            w.Line("    });");
            w.Line();
            w.Line("/// <summary>");
            w.Line("/// Exports the forward pass in evaluation mode (BatchNorm with its running statistics, Dropout the identity) as an ONNX model that");
            w.Line($"/// ONNX Runtime runs: inputs (floats, or int32 token ids) named as <c>Forward</c>'s parameters ({Xml(inputs.Replace("\"", "'"))}) with a symbolic <c>batch</c> dimension in front of");
            w.Line($"/// their shapes, {Xml(outputText)}; the parameters and running statistics are initializers with their <c>state_dict</c> names.");
            w.Line("/// Written through a temporary file that then replaces <paramref name=\"path\"/>.");
            w.Line("/// </summary>");
            w.Line("/// <param name=\"path\">The .onnx file to create or replace.</param>");
            w.Line("/// <param name=\"opset\">The ONNX opset the file imports, 13 to 21 (default 17; below 17 LayerNorm is written out in elementary nodes).</param>");
            w.Line("/// <exception cref=\"global::System.ArgumentNullException\"><paramref name=\"path\"/> is null.</exception>");
            w.Line("/// <exception cref=\"global::System.ArgumentOutOfRangeException\"><paramref name=\"opset\"/> is not from 13 to 21.</exception>");
            w.Line($"public void ExportOnnx(string path, int opset = {Interchange}OnnxGraphExport.DefaultOpset) => {Interchange}OnnxGraphExport.Save(path, OnnxGraph, _parameters, _buffers, opset);");
            w.Line();
            w.Line("/// <summary>Writes the forward pass to <paramref name=\"stream\"/> as an ONNX model; see <see cref=\"ExportOnnx(string, int)\"/>.</summary>");
            w.Line("/// <param name=\"stream\">A writable stream.</param>");
            w.Line("/// <param name=\"opset\">The ONNX opset the file imports, 13 to 21 (default 17).</param>");
            w.Line("/// <exception cref=\"global::System.ArgumentNullException\"><paramref name=\"stream\"/> is null.</exception>");
            w.Line("/// <exception cref=\"global::System.ArgumentOutOfRangeException\"><paramref name=\"opset\"/> is not from 13 to 21.</exception>");
            w.Line($"public void ExportOnnx(global::System.IO.Stream stream, int opset = {Interchange}OnnxGraphExport.DefaultOpset) => {Interchange}OnnxGraphExport.Save(stream, OnnxGraph, _parameters, _buffers, opset);");
            w.Line();
        }
    }
}
