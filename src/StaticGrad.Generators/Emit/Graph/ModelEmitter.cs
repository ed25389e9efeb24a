using System.Collections.Generic;
using System.Linq;
using StaticGrad.Generators.Graph;
using StaticGrad.Generators.Graph.Ops;
using StaticGrad.Generators.Model;

namespace StaticGrad.Generators.Emit.Graph
{
    /// <summary>
    /// Writes a <c>[Model]</c> class: its state and buffers sized at compile time, one forward and one backward method per
    /// node of the graph (the op's writers fill them), the loss, the training step, optimizers, prediction and the
    /// PyTorch-named safetensors state; and the eager run time's view of the same state. This file holds the order of the
    /// class, the names and the public Forward and Backward; the other parts are ModelEmitter.Routing.cs (which buffer each
    /// backward pass writes), .State.cs (arrays, constructor, Threads), .Passes.cs (RunForward, RunBackward, the node methods),
    /// .Evaluation.cs (Predict), .Training.cs (loss, TrainStep, optimizers) and .Interchange.cs (files, safetensors, ONNX).
    /// </summary>
    internal static partial class ModelEmitter
    {
        public static string HintName(GraphSpec spec) => GeneratedFile.HintName(spec.Type);

        public static string Emit(GraphSpec spec, ModuleSpec module)
        {
            var w = new SourceWriter();
            // With a loss there is a TrainStep, whose backward pass replaces the gradients instead of clearing and adding.
            var code = new GraphCode(spec) { ReplaceGradients = spec.Loss != LossKind.None ? "_replaceGradients" : null };
            Routing routing = Route(code);
            code.EverAccumulating.UnionWith(routing.Accumulated);
            code.EverAccumulating.UnionWith(routing.ToInputAccumulated);
            FindFolds(code, routing);
            FindReplacingNodes(code, routing);
            GeneratedFile.Open(w, spec.Type, spec.ImportedFrom is { } file ? $"FromOnnx(\"{file}\")" : "Model", spec.NullableDirective, "global::StaticGrad.Module" + (InterfaceName(spec) is { } contract ? ", " + contract : string.Empty));
            WriteSummary(w, spec);
            WriteConstants(w, spec);
            WriteFields(w, code, routing);
            WriteConstructor(w, code, routing);
            WriteStateMembers(w, spec);
            WriteForward(w, code);
            WriteBackward(w, code, routing);
            WriteRun(w, code, routing);
            WriteNodes(w, code, routing);
            WriteScores(w, code);
            if (spec.Loss != LossKind.None)
            {
                WriteTraining(w, code);
            }

            WriteOptimizer(w, spec);
            WriteFileAndInterface(w, spec);
            WriteInterchange(w, spec);
            WriteOnnx(w, spec, routing);
            ModuleEmitter.WriteVisit(w, module);
            WriteShared(w, code);
            GeneratedFile.Close(w, spec.Type);
            return w.ToString();
        }

        // ---- text ----

        /// <summary>Scores per position of a classifier: the output's last dimension.</summary>
        private static int Classes(GraphSpec spec) => spec.OutputNode.Shape[spec.OutputNode.Shape.Count - 1];

        /// <summary>Positions per example that each get a label (1, or T for a sequence model's T×classes scores).</summary>
        private static int Positions(GraphSpec spec) => spec.OutputNode.Size / Classes(spec);

        /// <summary><c>batch</c>, or <c>batch * 64</c> where each example has 64 positions.</summary>
        private static string Rows(GraphSpec spec, string examples) => Positions(spec) == 1 ? examples : $"{examples} * {Int(Positions(spec))}";

        /// <summary>How labels are counted in messages.</summary>
        private static string LabelUnit(GraphSpec spec) => Positions(spec) == 1 ? "1 label per example" : $"{Int(Positions(spec))} labels per example, one per position";

        private static string Int(int value) => GraphCode.Int(value);

        /// <summary>The model's element type keyword: <c>float</c>, or <c>double</c> for <c>[Model&lt;double&gt;]</c>.</summary>
        private static string E(GraphSpec spec) => spec.Element.Keyword();

        /// <summary><c>global::System.MathF</c>, or <c>global::System.Math</c> for a model of double.</summary>
        private static string Math(GraphSpec spec) => spec.Element == ElementKind.Double ? "global::System.Math" : "global::System.MathF";

        private static bool SingleInput(GraphSpec spec) => spec.Inputs.Count == 1;

        /// <summary>One input, of floats (not token ids): the models that get the input gradient and the network interfaces.</summary>
        private static bool OneFloatInput(GraphSpec spec) => SingleInput(spec) && !spec.Inputs[0].Tokens;

        /// <summary>The span parameter of an input in public signatures: <c>inputs</c> for one input, else the Forward parameter's name.</summary>
        private static string InputParameter(GraphSpec spec, int index) => ModelNames.InputParameter(spec.Inputs.Count, spec.Inputs[index].Name);

        /// <summary>The span parameter of an output: <c>outputs</c> for one output, else the tuple element's name.</summary>
        private static string OutputParameter(GraphSpec spec, int index) => spec.Outputs[index].Name;

        /// <summary>The constant of an output's values per example: <c>OutputSize</c>, or <c>ScoresSize</c> for a tuple element <c>Scores</c>.</summary>
        private static string OutputSizeConstant(GraphSpec spec, int index) => ModelNames.OutputSize(spec.Outputs.Count, spec.Outputs[index].Name);

        /// <summary>The span parameter of an output's gradient in Backward: <c>outputGradients</c>, or <c>scoresGradients</c>.</summary>
        private static string OutputGradientParameter(GraphSpec spec, int index) => ModelNames.OutputGradients(spec.Outputs.Count, spec.Outputs[index].Name);

        /// <summary>The output spans of Forward and Predict (<c>Span&lt;float&gt; outputs</c>, or one per tuple element).</summary>
        private static string OutputParameters(GraphSpec spec) =>
            string.Join(", ", Enumerable.Range(0, spec.Outputs.Count).Select(i => $"global::System.Span<{E(spec)}> {OutputParameter(spec, i)}"));

        /// <summary>The gradient spans of Backward, one per output.</summary>
        private static string OutputGradientParameters(GraphSpec spec) =>
            string.Join(", ", Enumerable.Range(0, spec.Outputs.Count).Select(i => $"global::System.ReadOnlySpan<{E(spec)}> {OutputGradientParameter(spec, i)}"));

        /// <summary>The outputs in a doc comment: <c>&lt;paramref name="outputs"/&gt;</c>, or each of them.</summary>
        private static string OutputReferences(GraphSpec spec, System.Func<GraphSpec, int, string> parameter, string conjunction = "or") =>
            string.Join($" {conjunction} ", Enumerable.Range(0, spec.Outputs.Count).Select(i => $"<paramref name=\"{parameter(spec, i).TrimStart('@')}\"/>"));

        private static string InputParameters(GraphSpec spec) =>
            string.Join(", ", Enumerable.Range(0, spec.Inputs.Count).Select(i => $"global::System.ReadOnlySpan<{(spec.Inputs[i].Tokens ? "int" : E(spec))}> {InputParameter(spec, i)}"));

        /// <summary>The number of rows the ops reading a token input index (the smallest Embedding's), or null when none does.</summary>
        private static int? TokenLimit(GraphSpec spec, int index)
        {
            int? limit = null;
            foreach (GraphNode node in spec.Nodes)
            {
                if (node.Inputs.Contains(spec.Inputs[index].Node) && OpCatalogue.Of(node.Op).IndexLimit(node.Settings) is int rows)
                {
                    limit = limit is int known ? System.Math.Min(known, rows) : rows;
                }
            }

            return limit;
        }

        /// <summary>Checks every id of the token inputs against the table it indexes, before anything runs.</summary>
        private static void WriteTokenChecks(SourceWriter w, GraphSpec spec, string count)
        {
            for (int i = 0; i < spec.Inputs.Count; i++)
            {
                if (spec.Inputs[i].Tokens && TokenLimit(spec, i) is int limit)
                {
                    string name = InputParameter(spec, i);
                    w.Line($"int bad{i} = global::StaticGrad.Kernels.Lookup.FindOutOfRange({name}.Slice(0, {count} * {SizeConstant(spec, i)}), {Int(limit)});");
                    w.Open($"if (bad{i} >= 0)");
                    w.Line($"throw new global::System.ArgumentOutOfRangeException(nameof({name}), {name}[bad{i}], $\"{name}[{{bad{i}}}] is {{{name}[bad{i}]}}, outside 0 to {Int(limit - 1)} (the rows of the embedding that reads it).\");");
                    w.Close();
                }
            }
        }

        private static string InputArguments(GraphSpec spec, string? slice = null) =>
            string.Join(", ", Enumerable.Range(0, spec.Inputs.Count).Select(i => slice is null ? InputParameter(spec, i) : $"{InputParameter(spec, i)}.Slice({slice} * {SizeConstant(spec, i)}, batch * {SizeConstant(spec, i)})"));

        private static string SizeConstant(GraphSpec spec, int index) => ModelNames.InputSize(spec.Inputs.Count, spec.Inputs[index].Name);

        private static string Architecture(GraphSpec spec)
        {
            var parts = new List<string>();
            foreach (GraphNode node in spec.Nodes)
            {
                OpDefinition op = OpCatalogue.Of(node.Op);
                string text = node.Module >= 0 ? $"{spec.Modules[node.Module].Path}: {spec.Modules[node.Module].Display}" : op.IsInput ? $"{node.Settings.Text}: {op.Key}({string.Join(", ", node.Shape)})" : op.Describe(node.Settings);
                string inputs = node.Inputs.Count == 0 ? string.Empty : $"({string.Join(", ", node.Inputs.Select(i => "%" + Int(i)))})";
                parts.Add($"%{node.Id} = {text}{inputs}");
            }

            string outputs = spec.SingleOutput ? $"output %{spec.Output}" : $"outputs {string.Join(", ", spec.Outputs.Select(o => $"{o.Name.TrimStart('@')} %{o.Node}"))}";
            return $"{E(spec)} graph: {string.Join("; ", parts)}; {outputs}{(spec.Loss != LossKind.None ? $"; loss {spec.Loss}" : string.Empty)}";
        }

        private static string Escape(string text) => text.Replace("\\", "\\\\").Replace("\"", "\\\"");

        private static string Xml(string text) => text.Replace("&", "&amp;").Replace("<", "&lt;").Replace(">", "&gt;");

        /// <summary>
        /// The method that counts the examples the input spans hold and checks them (every span whole examples, all the same
        /// count, token ids in range): <c>CheckInputs</c> gives a batch (1 to MaxBatchSize examples, as Forward takes),
        /// <c>CountExamples</c> any number (as Predict takes, 0 included).
        /// </summary>
        private static void WriteInputCount(SourceWriter w, GraphSpec spec, string method, string count)
        {
            bool batch = count == "batch";
            w.Open($"private int {method}({InputParameters(spec)})");
            w.Line($"int {count} = {InputParameter(spec, 0)}.Length / {SizeConstant(spec, 0)};");
            for (int i = 0; i < spec.Inputs.Count; i++)
            {
                string name = InputParameter(spec, i), size = SizeConstant(spec, i);
                w.Open(batch
                    ? $"if ({name}.Length == 0 || {name}.Length % {size} != 0 || {name}.Length / {size} != batch || batch > MaxBatchSize)"
                    : $"if ({name}.Length != count * {size})");
                w.Line($"throw new global::System.ArgumentException($\"{name} must hold {(batch ? "1 to {MaxBatchSize} " : string.Empty)}whole examples of {{{size}}} values ({Shapes.Text(spec.Inputs[i].Shape)}){(i > 0 ? $", as many as {InputParameter(spec, 0)} ({{{count}}})" : string.Empty)}, but its length is {{{name}.Length}}.\", nameof({name}));");
                w.Close();
            }

            WriteTokenChecks(w, spec, count);
            w.Line($"return {count};");
            w.Close();
        }

        private static void WriteSummary(SourceWriter w, GraphSpec spec)
        {
            w.Line($"// The graph StaticGrad {(spec.ImportedFrom is { } file ? $"imported from '{file}'" : $"read from {spec.Type.Target.Name}.Forward")}, one line per value (shapes per example, the batch left out):");
            foreach (GraphNode node in spec.Nodes)
            {
                OpDefinition op = OpCatalogue.Of(node.Op);
                string what = node.Module >= 0 ? $"{spec.Modules[node.Module].Path}, {spec.Modules[node.Module].Display}" : op.IsInput ? $"input '{node.Settings.Text}'{(op.HoldsIntegers ? " (token ids)" : string.Empty)}" : op.Describe(node.Settings);
                string inputs = node.Inputs.Count == 0 ? string.Empty : $" of %{string.Join(", %", node.Inputs)}";
                w.Line($"//   %{node.Id,-3} {Shapes.Text(node.Shape),-12} {what}{inputs}{(node.Inputs.Count == 0 ? string.Empty : "   ← " + node.Source)}");
            }

            w.Line(spec.SingleOutput
                ? $"// Forward returns %{spec.Output}."
                : $"// Forward returns ({string.Join(", ", spec.Outputs.Select(o => $"{o.Name.TrimStart('@')}: %{o.Node}"))}).");
            w.Line();
        }

        private static void WriteConstants(SourceWriter w, GraphSpec spec)
        {
            for (int i = 0; i < spec.Inputs.Count; i++)
            {
                GraphInput input = spec.Inputs[i];
                w.Line($"/// <summary>Values per example of the input '{input.Name}' ({Shapes.Text(input.Shape)}, row-major).</summary>");
                w.Line($"public const int {SizeConstant(spec, i)} = {Int(Shapes.Size(input.Shape))};");
                w.Line();
            }

            for (int i = 0; i < spec.Outputs.Count; i++)
            {
                GraphNode output = spec.Nodes[spec.Outputs[i].Node];
                w.Line(spec.SingleOutput
                    ? $"/// <summary>Values per example out of Forward ({Shapes.Text(output.Shape)}).</summary>"
                    : $"/// <summary>Values per example of the output '{OutputParameter(spec, i).TrimStart('@')}' of Forward ({Shapes.Text(output.Shape)}).</summary>");
                w.Line($"public const int {OutputSizeConstant(spec, i)} = {Int(output.Size)};");
                w.Line();
            }

            w.Line("/// <summary>Trainable values: every parameter tensor, in one flat array (see <see cref=\"Description\"/> for the names).</summary>");
            w.Line($"public const int ParameterCount = {Int(spec.ParameterCount)};");
            w.Line();
            w.Line("/// <summary>Values of state that is not trained (running statistics).</summary>");
            w.Line($"public const int BufferCount = {Int(spec.BufferCount)};");
            w.Line();
            w.Line("/// <summary>The graph as one line: each value, its op and its inputs. Saved files record it.</summary>");
            w.Line($"public const string Architecture = \"{Escape(Architecture(spec))}\";");
            w.Line();
            w.Line("/// <summary>The batch size the constructor sizes buffers for when none is given.</summary>");
            w.Line("public const int DefaultMaxBatchSize = 64;");
            w.Line();
        }

        private static void WriteForward(SourceWriter w, GraphCode code)
        {
            GraphSpec spec = code.Spec;
            string receive = spec.SingleOutput
                ? "<paramref name=\"outputs\"/> receives <see cref=\"OutputSize\"/> values per example."
                : $"{string.Join(", ", Enumerable.Range(0, spec.Outputs.Count).Select(i => $"<paramref name=\"{OutputParameter(spec, i).TrimStart('@')}\"/> receives <see cref=\"{OutputSizeConstant(spec, i)}\"/>"))} values per example.";
            foreach (bool training in new[] { false, true })
            {
                w.Line("/// <summary>");
                if (training)
                {
                    w.Line("/// The forward pass on a batch in training mode, as PyTorch's <c>model.train()</c> then <c>model(x)</c>: BatchNorm normalises with the");
                    w.Line("/// batch's statistics and folds them into its running ones, Dropout drops (its own seeded masks). The pass to train from with a");
                    w.Line("/// loss of your own: compute the loss and its gradient from the outputs, then <c>ZeroGradients</c>, <c>Backward</c> and <c>Step</c>.");
                    w.Line($"/// Each input span holds whole examples, row-major, one after another; {receive} Allocates nothing.");
                }
                else
                {
                    w.Line("/// The forward pass on a batch in evaluation mode (running statistics, no dropout), as PyTorch's <c>model.eval()</c>: each");
                    w.Line($"/// input span holds whole examples, row-major, one after another; {receive}");
                    w.Line("/// Allocates nothing. <see cref=\"ForwardTraining\"/> is the same pass in training mode.");
                }

                w.Line("/// </summary>");
                w.Line($"/// <exception cref=\"global::System.ArgumentException\">A length is not a whole number of examples, the inputs disagree on the batch, the batch is larger than <see cref=\"MaxBatchSize\"/>, or {OutputReferences(spec, OutputParameter)} does not fit.</exception>");
                w.Open($"public void {(training ? "ForwardTraining" : "Forward")}({InputParameters(spec)}, {OutputParameters(spec)})");
                w.Line("int batch = CheckInputs(" + InputArguments(spec) + ");");
                for (int i = 0; i < spec.Outputs.Count; i++)
                {
                    w.Line($"CheckLength({OutputParameter(spec, i)}.Length, batch * {OutputSizeConstant(spec, i)}, nameof({OutputParameter(spec, i)}), \"{OutputSizeConstant(spec, i)}\");");
                }

                w.Line($"_training = {(training ? "true" : "false")};");
                w.Line($"CopyInputs({InputArguments(spec)}, batch);");
                w.Line("RunForward(batch);");
                for (int i = 0; i < spec.Outputs.Count; i++)
                {
                    w.Line($"{code.ValueSpan(spec.Outputs[i].Node)}.CopyTo({OutputParameter(spec, i)});");
                }

                w.Close();
                w.Line();
            }

            WriteInputCount(w, spec, "CheckInputs", "batch");
            w.Line();
            w.Open("private static void CheckLength(int length, int expected, string parameterName, string unit)");
            w.Open("if (length != expected)");
            w.Line("throw new global::System.ArgumentException($\"{parameterName} must have length {expected} (the batch × {unit}), but it has {length}.\", parameterName);");
            w.Close();
            w.Close();
            w.Line();
            w.Open($"private void CopyInputs({InputParameters(spec)}, int batch)");
            for (int i = 0; i < spec.Inputs.Count; i++)
            {
                w.Line($"{InputParameter(spec, i)}.Slice(0, batch * {SizeConstant(spec, i)}).CopyTo(_v{spec.Inputs[i].Node});");
            }

            w.Line("_batch = batch;");
            w.Close();
            w.Line();
            w.Line("private int _batch;");
            w.Line();
        }

        private static void WriteBackward(SourceWriter w, GraphCode code, Routing routing)
        {
            GraphSpec spec = code.Spec;
            string gradients = OutputReferences(spec, OutputGradientParameter, "and"), anyGradient = OutputReferences(spec, OutputGradientParameter);
            string gradientTypes = string.Join(", ", Enumerable.Range(0, spec.Outputs.Count).Select(_ => $"global::System.ReadOnlySpan{{{E(spec)}}}"));
            w.Line("/// <summary>");
            w.Line("/// The backward pass of the last forward pass (Forward, ForwardTraining or TrainStep's, in the mode it ran in): adds the gradient of the loss");
            w.Line("/// with respect to every parameter to <see cref=\"Gradients\"/>, as PyTorch's <c>backward()</c> adds to <c>.grad</c>, from");
            w.Line(spec.SingleOutput
                ? "/// <paramref name=\"outputGradients\"/>, the gradient with respect to the outputs. Allocates nothing."
                : $"/// {gradients}, the gradients with respect to each output (as <c>torch.autograd.backward</c> of every output; zeros for an output the loss does not use). Allocates nothing.");
            w.Line("/// </summary>");
            w.Line("/// <exception cref=\"global::System.InvalidOperationException\">No forward pass ran yet.</exception>");
            w.Line($"/// <exception cref=\"global::System.ArgumentException\">{anyGradient} does not match the last batch.</exception>");
            w.Open($"public void Backward({OutputGradientParameters(spec)})");
            WriteBackwardChecks(w, spec);
            WriteOutputGradientCopies(w, code);
            w.Line("RunBackward(_batch);");
            w.Close();
            w.Line();
            if (!OneFloatInput(spec))
            {
                return;
            }

            w.Line("/// <summary>");
            w.Line($"/// As <see cref=\"Backward({gradientTypes})\"/>, and writes the gradient of the loss with respect to the last");
            w.Line("/// forward pass's inputs to <paramref name=\"inputGradients\"/> (PyTorch's <c>x.grad</c> of an input with <c>requires_grad</c>): for");
            w.Line("/// saliency maps, adversarial examples, or a model that feeds this one. Parameter gradients are added as by the other overload.");
            w.Line("/// The layers that read the input compute its gradient only in this overload; an empty <paramref name=\"inputGradients\"/> skips it. Allocates nothing.");
            w.Line("/// </summary>");
            w.Line("/// <exception cref=\"global::System.InvalidOperationException\">No forward pass ran yet.</exception>");
            w.Line($"/// <exception cref=\"global::System.ArgumentException\">A span does not match the last batch ({string.Join(", ", Enumerable.Range(0, spec.Outputs.Count).Select(i => $"<see cref=\"{OutputSizeConstant(spec, i)}\"/>"))} or <see cref=\"InputSize\"/> values per example).</exception>");
            w.Open($"public void Backward({OutputGradientParameters(spec)}, global::System.Span<{E(spec)}> inputGradients)");
            WriteBackwardChecks(w, spec);
            w.Open("if (!inputGradients.IsEmpty)");
            w.Line("CheckLength(inputGradients.Length, _batch * InputSize, nameof(inputGradients), \"InputSize\");");
            w.Close();
            w.Line();
            WriteOutputGradientCopies(w, code);
            w.Open("if (inputGradients.IsEmpty)");
            w.Line("RunBackward(_batch);");
            w.Line("return;");
            w.Close();
            w.Line();
            if (routing.InputNode is int input)
            {
                w.Line("RunBackwardToInput(_batch);");
                w.Line($"new global::System.ReadOnlySpan<{E(spec)}>(_g{input}, 0, _batch * InputSize).CopyTo(inputGradients);");
            }
            else
            {
                w.Line("RunBackward(_batch);");
                w.Line("inputGradients.Clear(); // the outputs do not depend on the input");
            }

            w.Close();
            w.Line();
        }

        /// <summary>Backward's checks: a forward pass ran, and each output gradient holds the last batch.</summary>
        private static void WriteBackwardChecks(SourceWriter w, GraphSpec spec)
        {
            w.Open("if (_batch == 0)");
            w.Line($"throw new global::System.InvalidOperationException(\"Backward needs a forward pass first: call Forward{(spec.Loss == LossKind.None ? " or ForwardTraining" : ", ForwardTraining or TrainStep")}.\");");
            w.Close();
            w.Line();
            for (int i = 0; i < spec.Outputs.Count; i++)
            {
                string name = OutputGradientParameter(spec, i), size = OutputSizeConstant(spec, i);
                w.Line($"CheckLength({name}.Length, _batch * {size}, nameof({name}), \"{size}\");");
            }
        }

        /// <summary>Copies the caller's gradient of each output into that output's gradient buffer, where the backward pass starts.</summary>
        private static void WriteOutputGradientCopies(SourceWriter w, GraphCode code)
        {
            for (int i = 0; i < code.Spec.Outputs.Count; i++)
            {
                w.Line($"{OutputGradientParameter(code.Spec, i)}.CopyTo({code.Gradient(code.Spec.Outputs[i].Node)});");
            }
        }
    }
}
