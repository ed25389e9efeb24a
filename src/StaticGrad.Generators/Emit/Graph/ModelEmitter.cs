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
    /// PyTorch-named safetensors state; and the eager run time's view of the same state.
    /// </summary>
    internal static class ModelEmitter
    {
        public static string HintName(GraphSpec spec) => GeneratedFile.HintName(spec.Type);

        public static string Emit(GraphSpec spec, ModuleSpec module)
        {
            var w = new SourceWriter();
            var code = new GraphCode(spec);
            Routing routing = Route(spec);
            code.EverAccumulating.UnionWith(routing.Accumulated);
            code.EverAccumulating.UnionWith(routing.ToInputAccumulated);
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

            WriteOptimizer(w);
            WriteFileAndInterface(w, spec);
            WriteInterchange(w, spec);
            WriteOnnx(w, spec, routing);
            ModuleEmitter.WriteVisit(w, module);
            WriteShared(w, code);
            GeneratedFile.Close(w, spec.Type);
            return w.ToString();
        }

        // ---- gradient routing: which buffer each node's backward writes each input's gradient to ----

        private sealed class Routing
        {
            public HashSet<int> Live { get; } = new();

            /// <summary>Per node, per input: the buffer to overwrite (null: not needed), and whether to add it to the input's gradient afterwards.</summary>
            public Dictionary<int, (string? Target, bool Add)[]> Targets { get; } = new();

            public int ScratchCount { get; set; }

            /// <summary>Values per example of the largest gradient that goes through scratch.</summary>
            public int ScratchSize { get; set; }

            /// <summary>The float input whose gradient Backward(outputGradients, inputGradients) computes; null without one.</summary>
            public int? InputNode { get; set; }

            /// <summary>The (node, input) pairs whose backward adds to the input's gradient buffer (the value's later uses, for ops that can).</summary>
            public HashSet<(int Node, int Input)> Accumulated { get; } = new();

            /// <summary>The same, in the pass that also computes the input's gradient.</summary>
            public HashSet<(int Node, int Input)> ToInputAccumulated { get; set; } = new();

            /// <summary>The targets of the pass that also computes the input's gradient.</summary>
            public Dictionary<int, (string? Target, bool Add)[]>? ToInputTargets { get; set; }

            /// <summary>Whether <paramref name="node"/> gets a gradient buffer (<c>_g</c>): a live value that is not an input, or the input whose gradient is wanted.</summary>
            public bool HasGradient(GraphNode node) => Live.Contains(node.Id) && (!OpCatalogue.Of(node.Op).IsInput || node.Id == InputNode);
        }

        /// <summary>
        /// The routing of the backward pass; for a model of one float input, also the routing of the pass that computes the
        /// input's gradient (<c>Backward(outputGradients, inputGradients)</c>): the same, except that the nodes which read
        /// the input write its gradient too, in variants of their own.
        /// </summary>
        private static Routing Route(GraphSpec spec)
        {
            Routing routing = Route(spec, gradientInput: null);
            if (OneFloatInput(spec) && routing.Live.Contains(spec.Inputs[0].Node))
            {
                Routing toInput = Route(spec, spec.Inputs[0].Node);
                routing.InputNode = spec.Inputs[0].Node;
                routing.ToInputTargets = toInput.Targets;
                routing.ToInputAccumulated = toInput.Accumulated;
                routing.ScratchCount = System.Math.Max(routing.ScratchCount, toInput.ScratchCount);
                routing.ScratchSize = System.Math.Max(routing.ScratchSize, toInput.ScratchSize);
            }

            return routing;
        }

        /// <summary>Whether a node's backward writes different buffers when the input's gradient is wanted (it then gets a variant).</summary>
        private static bool DiffersToInput(Routing routing, int id) =>
            routing.ToInputTargets is { } other && other.TryGetValue(id, out var theirs)
            && (!routing.Targets.TryGetValue(id, out var ours) || !ours.SequenceEqual(theirs)
                || Enumerable.Range(0, theirs.Length).Any(k => routing.Accumulated.Contains((id, k)) != routing.ToInputAccumulated.Contains((id, k))));

        private static Routing Route(GraphSpec spec, int? gradientInput)
        {
            var routing = new Routing();
            var pending = new Stack<int>();
            foreach (GraphOutput output in spec.Outputs)
            {
                pending.Push(output.Node);
            }

            while (pending.Count > 0)
            {
                int id = pending.Pop();
                if (routing.Live.Add(id))
                {
                    foreach (int input in spec.Nodes[id].Inputs)
                    {
                        pending.Push(input);
                    }
                }
            }

            // Backward copies each output's gradient from the caller first: a use of an output inside the graph (another
            // output computed from it) then adds to that.
            var written = new HashSet<int>(spec.Outputs.Select(o => o.Node));
            for (int id = spec.Nodes.Count - 1; id >= 0; id--)
            {
                GraphNode node = spec.Nodes[id];
                OpDefinition op = OpCatalogue.Of(node.Op);
                if (!routing.Live.Contains(id) || op.IsInput)
                {
                    continue;
                }

                var targets = new (string?, bool)[node.Inputs.Count];
                for (int k = 0; k < node.Inputs.Count; k++)
                {
                    int input = node.Inputs[k];
                    bool trained = !OpCatalogue.Of(spec.Nodes[input].Op).IsInput || input == gradientInput;
                    if (!trained && !op.AlwaysWritesInputGradient)
                    {
                        targets[k] = (null, false);
                    }
                    else if (trained && written.Add(input))
                    {
                        targets[k] = ($"_g{input}", false);
                    }
                    else if (trained && k == 0 && op.AccumulatesInputGradient)
                    {
                        // A later use (earlier in the backward order) already wrote the gradient: add to it in place.
                        targets[k] = ($"_g{input}", false);
                        routing.Accumulated.Add((id, k));
                    }
                    else
                    {
                        targets[k] = ($"_gradientScratch{k}", trained);
                        routing.ScratchCount = System.Math.Max(routing.ScratchCount, k + 1);
                        routing.ScratchSize = System.Math.Max(routing.ScratchSize, spec.Nodes[input].Size);
                    }
                }

                routing.Targets[id] = targets;
            }

            return routing;
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
            string.Join(", ", Enumerable.Range(0, spec.Outputs.Count).Select(i => $"global::System.Span<float> {OutputParameter(spec, i)}"));

        /// <summary>The gradient spans of Backward, one per output.</summary>
        private static string OutputGradientParameters(GraphSpec spec) =>
            string.Join(", ", Enumerable.Range(0, spec.Outputs.Count).Select(i => $"global::System.ReadOnlySpan<float> {OutputGradientParameter(spec, i)}"));

        /// <summary>The outputs in a doc comment: <c>&lt;paramref name="outputs"/&gt;</c>, or each of them.</summary>
        private static string OutputReferences(GraphSpec spec, System.Func<GraphSpec, int, string> parameter) =>
            string.Join(" and ", Enumerable.Range(0, spec.Outputs.Count).Select(i => $"<paramref name=\"{parameter(spec, i).TrimStart('@')}\"/>"));

        private static string InputParameters(GraphSpec spec) =>
            string.Join(", ", Enumerable.Range(0, spec.Inputs.Count).Select(i => $"global::System.ReadOnlySpan<{(spec.Inputs[i].Tokens ? "int" : "float")}> {InputParameter(spec, i)}"));

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
            return $"float graph: {string.Join("; ", parts)}; {outputs}{(spec.Loss != LossKind.None ? $"; loss {spec.Loss}" : string.Empty)}";
        }

        private static string Escape(string text) => text.Replace("\\", "\\\\").Replace("\"", "\\\"");

        private static string Xml(string text) => text.Replace("&", "&amp;").Replace("<", "&lt;").Replace(">", "&gt;");

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

        private static void WriteFields(SourceWriter w, GraphCode code, Routing routing)
        {
            GraphSpec spec = code.Spec;
            w.Line("private readonly float[] _parameters = new float[ParameterCount];");
            w.Line("private readonly float[] _gradients = new float[ParameterCount];");
            w.Line("private readonly float[] _buffers = new float[BufferCount];");
            w.Line($"private readonly long[] _counters = new long[{Int(spec.Counters.Count)}];");
            w.Line();
            w.Line("// Each value's batch (_v) and the gradient of the loss with respect to it (_g), [maxBatchSize × values per example].");
            foreach (GraphNode node in spec.Nodes)
            {
                OpDefinition op = OpCatalogue.Of(node.Op);
                if (op.HoldsIntegers)
                {
                    w.Line($"private readonly int[] _v{node.Id}; // %{node.Id}: {Shapes.Text(node.Shape)} ids");
                    continue;
                }

                var names = new List<string>();
                if (!op.IsView)
                {
                    names.Add($"_v{node.Id}");
                }

                if (routing.HasGradient(node))
                {
                    names.Add($"_g{node.Id}");
                }

                if (names.Count > 0)
                {
                    w.Line($"private readonly float[] {string.Join(", ", names)}; // %{node.Id}: {Shapes.Text(node.Shape)}");
                }
            }

            for (int k = 0; k < routing.ScratchCount; k++)
            {
                w.Line($"private readonly float[] _gradientScratch{k}; // an input's gradient before it is added to what other uses gave");
            }

            w.Line();
            foreach (GraphNode node in spec.Nodes)
            {
                OpCatalogue.Of(node.Op).WriteFields(w, code, node);
            }

            w.Line("private readonly int[] _labels; // labels widened from bytes");
            w.Line("private readonly int[] _predictions; // the classes of one batch, for Accuracy");
            // Only BatchNorm and Dropout read the mode; without them it is written and never read (CS0414 in the user's build).
            w.Line("#pragma warning disable CS0414");
            w.Line("private bool _training; // the mode of the last forward pass: batch statistics and dropout (TrainStep) or not (Forward)");
            w.Line("#pragma warning restore CS0414");
            w.Line("private ulong _dropoutState;");
            w.Line("private global::StaticGrad.Training.Optimizer? _optimizer;");
            w.Line("private global::StaticGrad.Kernels.WorkerTeam? _team; // the threads the large products and the optimizer may use; null for the calling thread only");
            w.Line();
        }

        private static void WriteConstructor(SourceWriter w, GraphCode code, Routing routing)
        {
            GraphSpec spec = code.Spec;
            w.Line("/// <summary>");
            w.Line(spec.ImportedFrom is { } imported
                ? $"/// Creates the model with the parameters and running statistics of '{Xml(imported)}' (read at compile time), and every buffer sized for batches of up to <paramref name=\"maxBatchSize\"/> examples."
                : $"/// Creates the model with its parameters initialised as PyTorch initialises the same modules (from <paramref name=\"seed\"/>), its running");
            w.Line(spec.ImportedFrom is null ? "/// statistics at their starting values, and every buffer sized for batches of up to <paramref name=\"maxBatchSize\"/> examples." : "/// (The seed only seeds dropout.)");
            w.Line("/// The modules of the class (its fields) then read and write this state, so the eager <c>Forward(Tensor)</c> runs on the same weights.");
            w.Line("/// </summary>");
            w.Line("/// <param name=\"seed\">Seeds the initialisation and dropout.</param>");
            w.Line("/// <param name=\"maxBatchSize\">The largest batch Forward and TrainStep take.</param>");
            w.Line("/// <exception cref=\"global::System.ArgumentOutOfRangeException\"><paramref name=\"maxBatchSize\"/> is not positive.</exception>");
            w.Open($"public {spec.Type.Target.Name}(int seed = 0, int maxBatchSize = DefaultMaxBatchSize){(spec.HasUserConstructor ? " : this()" : string.Empty)}");
            w.Open("if (maxBatchSize <= 0)");
            w.Line("throw new global::System.ArgumentOutOfRangeException(nameof(maxBatchSize), maxBatchSize, \"The batch size must be positive.\");");
            w.Close();
            w.Line();
            w.Line("MaxBatchSize = maxBatchSize;");
            foreach (GraphNode node in spec.Nodes)
            {
                OpDefinition op = OpCatalogue.Of(node.Op);
                if (!op.IsView)
                {
                    w.Line($"_v{node.Id} = new {(op.HoldsIntegers ? "int" : "float")}[maxBatchSize * {Int(node.Size)}];");
                }

                if (routing.HasGradient(node))
                {
                    w.Line($"_g{node.Id} = new float[maxBatchSize * {Int(node.Size)}];");
                }
            }

            for (int k = 0; k < routing.ScratchCount; k++)
            {
                w.Line($"_gradientScratch{k} = new float[maxBatchSize * {Int(routing.ScratchSize)}];");
            }

            foreach (GraphNode node in spec.Nodes)
            {
                OpCatalogue.Of(node.Op).WriteAllocation(w, code, node);
            }

            w.Line($"_labels = new int[maxBatchSize * {Int(spec.Loss == LossKind.SoftmaxCrossEntropy ? Positions(spec) : 1)}];");
            w.Line($"_predictions = new int[maxBatchSize * {Int(spec.Loss == LossKind.SoftmaxCrossEntropy ? Positions(spec) : 1)}];");
            w.Line("_dropoutState = 0x9E3779B97F4A7C15UL ^ (ulong)(uint)seed;");
            w.Line("InitializeState(seed);");
            if (spec.ImportedFrom is not null)
            {
                w.Line("LoadImportedState(); // the ONNX file's weights (ImportedStateEmitter)");
            }

            w.Line("BindModules();");
            w.Close();
            w.Line();
            w.Line("/// <summary>The largest batch Forward and TrainStep take.</summary>");
            w.Line("public int MaxBatchSize { get; }");
            w.Line();
            WriteThreads(w);

            w.Line("/// <summary>PyTorch's default initialisation: U(−1/√fan-in, 1/√fan-in) for Linear and Conv2d weights and biases, N(0, 1) for embeddings, ones and zeros for normalisation.</summary>");
            w.Open("private void InitializeState(int seed)");
            w.Line("var random = new global::System.Random(seed);");
            foreach (StateTensor tensor in spec.Parameters)
            {
                WriteInit(w, "_parameters", tensor);
            }

            foreach (StateTensor tensor in spec.Buffers)
            {
                WriteInit(w, "_buffers", tensor);
            }

            w.Close();
            w.Line();
            w.Line("/// <summary>Points every module's parameters, buffers and counters (the eager run time's view) at this model's arrays.</summary>");
            w.Open("private void BindModules()");
            w.Open("foreach (global::System.Collections.Generic.KeyValuePair<string, global::StaticGrad.Parameter> pair in NamedParameters())");
            w.Line("pair.Value.Bind(_parameters, ParameterOffset(pair.Key));");
            w.Close();
            w.Line();
            w.Open("foreach (global::System.Collections.Generic.KeyValuePair<string, global::StaticGrad.Parameter> pair in NamedBuffers())");
            w.Line("pair.Value.Bind(_buffers, BufferOffset(pair.Key));");
            w.Close();
            w.Line();
            w.Open("foreach (global::System.Collections.Generic.KeyValuePair<string, global::StaticGrad.Counter> pair in NamedCounters())");
            w.Line("pair.Value.Bind(_counters, CounterIndex(pair.Key));");
            w.Close();
            w.Close();
            w.Line();
            WriteNameSwitch(w, "ParameterOffset", spec.Parameters);
            WriteNameSwitch(w, "BufferOffset", spec.Buffers);
            WriteNameSwitch(w, "CounterIndex", spec.Counters);
        }

        private static void WriteThreads(SourceWriter w)
        {
            w.Line("/// <summary>");
            w.Line("/// How many threads Forward, TrainStep, Backward, Step and the evaluation methods may use: 1 (the default) runs everything on");
            w.Line("/// the calling thread; 2 to 64 split the large pieces of the work between the calling thread and background workers of this");
            w.Line("/// model, started on first use: Linear and convolution products of at least 2²⁰ multiply-adds (by rows or by columns), stride-1");
            w.Line("/// convolutions (by examples), attention (by example and head), GELU (by elements), LayerNorm (by rows) and the optimizer's");
            w.Line("/// update. Forward gives the same bits on any number of threads; the gradients summed over a split (LayerNorm's γ and β, a");
            w.Line("/// convolution's weights) are summed per share and then in share order, so a given number of threads always gives the same");
            w.Line("/// result and another number may differ in the last bits. Steps allocate nothing on the calling thread; a call made while another call of this");
            w.Line("/// model is using the workers runs on its own thread alone.");
            w.Line("/// </summary>");
            ThreadsProperty.Write(w);
        }

        private static void WriteNameSwitch(SourceWriter w, string method, Helpers.EquatableArray<StateTensor> tensors)
        {
            w.Open($"private static int {method}(string name) => name switch");
            foreach (StateTensor tensor in tensors)
            {
                w.Line($"\"{Escape(tensor.Name)}\" => {Int(tensor.Offset)},");
            }

            w.Line($"_ => throw new global::System.InvalidOperationException($\"The module tree has '{{name}}', which the generated model does not: rebuild the project.\"),");
            w.Close(";");
            w.Line();
        }

        private static void WriteInit(SourceWriter w, string array, StateTensor tensor)
        {
            string range = $"new global::System.Span<float>({array}, {Int(tensor.Offset)}, {Int(tensor.Count)})";
            switch (tensor.Init)
            {
                case InitKind.Ones:
                    w.Line($"{range}.Fill(1f); // {tensor.Name}");
                    break;
                case InitKind.Zeros:
                    w.Line($"{range}.Clear(); // {tensor.Name}");
                    break;
                case InitKind.Normal:
                    w.Open($"for (int i = 0; i < {Int(tensor.Count)}; i++) // {tensor.Name}: N(0, 1), Box–Muller");
                    w.Line($"{array}[{Int(tensor.Offset)} + i] = (float)(global::System.Math.Sqrt(-2 * global::System.Math.Log(1 - random.NextDouble())) * global::System.Math.Cos(2 * global::System.Math.PI * random.NextDouble()));");
                    w.Close();
                    break;
                default:
                    w.Open($"for (int i = 0; i < {Int(tensor.Count)}; i++) // {tensor.Name}: U(±1/√{Int(tensor.FanIn)})");
                    w.Line($"{array}[{Int(tensor.Offset)} + i] = (float)(((2 * random.NextDouble()) - 1) / global::System.Math.Sqrt({Int(tensor.FanIn)}));");
                    w.Close();
                    break;
            }
        }

        private static void WriteStateMembers(SourceWriter w, GraphSpec spec)
        {
            w.Line("/// <summary>Every parameter, in one flat array in <see cref=\"Description\"/>'s order; writable.</summary>");
            w.Line("public global::System.Span<float> Parameters => _parameters;");
            w.Line();
            w.Line("/// <summary>The gradient of the loss with respect to each parameter, as the last backward pass left it.</summary>");
            w.Line("public global::System.Span<float> Gradients => _gradients;");
            w.Line();
            w.Line("/// <summary>The running statistics (BatchNorm's <c>running_mean</c>, <c>running_var</c>), in <see cref=\"State\"/>'s order; writable.</summary>");
            w.Line("public global::System.Span<float> Buffers => _buffers;");
            w.Line();
            w.Line("/// <summary>Sets every gradient to zero.</summary>");
            w.Line("public void ZeroGradients() => global::System.Array.Clear(_gradients, 0, _gradients.Length);");
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

            w.Open($"private int CheckInputs({InputParameters(spec)})");
            w.Line($"int batch = {InputParameter(spec, 0)}.Length / {SizeConstant(spec, 0)};");
            for (int i = 0; i < spec.Inputs.Count; i++)
            {
                string name = InputParameter(spec, i), size = SizeConstant(spec, i);
                w.Open($"if ({name}.Length == 0 || {name}.Length % {size} != 0 || {name}.Length / {size} != batch || batch > MaxBatchSize)");
                w.Line($"throw new global::System.ArgumentException($\"{name} must hold 1 to {{MaxBatchSize}} whole examples of {{{size}}} values ({Shapes.Text(spec.Inputs[i].Shape)}){(i > 0 ? $", as many as {InputParameter(spec, 0)} ({{batch}})" : string.Empty)}, but its length is {{{name}.Length}}.\", nameof({name}));");
                w.Close();
            }

            WriteTokenChecks(w, spec, "batch");
            w.Line("return batch;");
            w.Close();
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
            string gradients = OutputReferences(spec, OutputGradientParameter);
            string gradientTypes = string.Join(", ", Enumerable.Range(0, spec.Outputs.Count).Select(_ => "global::System.ReadOnlySpan{float}"));
            w.Line("/// <summary>");
            w.Line("/// The backward pass of the last forward pass (Forward, ForwardTraining or TrainStep's, in the mode it ran in): adds the gradient of the loss");
            w.Line("/// with respect to every parameter to <see cref=\"Gradients\"/>, as PyTorch's <c>backward()</c> adds to <c>.grad</c>, from");
            w.Line(spec.SingleOutput
                ? "/// <paramref name=\"outputGradients\"/>, the gradient with respect to the outputs. Allocates nothing."
                : $"/// {gradients}, the gradients with respect to each output (as <c>torch.autograd.backward</c> of both outputs; zeros for an output the loss does not use). Allocates nothing.");
            w.Line("/// </summary>");
            w.Line("/// <exception cref=\"global::System.InvalidOperationException\">No forward pass ran yet.</exception>");
            w.Line($"/// <exception cref=\"global::System.ArgumentException\">{gradients} does not match the last batch.</exception>");
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
            w.Open($"public void Backward({OutputGradientParameters(spec)}, global::System.Span<float> inputGradients)");
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
                w.Line($"new global::System.ReadOnlySpan<float>(_g{input}, 0, _batch * InputSize).CopyTo(inputGradients);");
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
            w.Line("throw new global::System.InvalidOperationException(\"Backward needs a forward pass first: call Forward or TrainStep.\");");
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

        private static void WriteRun(SourceWriter w, GraphCode code, Routing routing)
        {
            GraphSpec spec = code.Spec;
            w.Open("private void RunForward(int batch)");
            foreach (GraphNode node in spec.Nodes)
            {
                if (!OpCatalogue.Of(node.Op).IsInput && !OpCatalogue.Of(node.Op).IsView)
                {
                    w.Line($"Node{node.Id}Forward(batch); // %{node.Id} = {Describe(spec, node)}");
                }
            }

            w.Close();
            w.Line();
            w.Line($"/// <summary>From the {(spec.SingleOutput ? "output's gradient" : "outputs' gradients")} back to every parameter's, in reverse order; a value used twice gets the sum of what its uses give.</summary>");
            w.Open("private void RunBackward(int batch)");
            WriteBackwardCalls(w, spec, routing.Targets, toInput: null);
            w.Close();
            w.Line();
            if (routing.ToInputTargets is { } toInputTargets)
            {
                w.Line("/// <summary>As RunBackward, and on to the gradient of the input (_g of the input node).</summary>");
                w.Open("private void RunBackwardToInput(int batch)");
                WriteBackwardCalls(w, spec, toInputTargets, routing);
                w.Close();
                w.Line();
            }
        }

        private static void WriteBackwardCalls(SourceWriter w, GraphSpec spec, Dictionary<int, (string? Target, bool Add)[]> all, Routing? toInput)
        {
            for (int id = spec.Nodes.Count - 1; id >= 0; id--)
            {
                GraphNode node = spec.Nodes[id];
                if (!all.TryGetValue(id, out (string? Target, bool Add)[]? targets))
                {
                    continue;
                }

                w.Line($"Node{id}Backward{(toInput is not null && DiffersToInput(toInput, id) ? "ToInput" : string.Empty)}(batch); // %{id} = {Describe(spec, node)}");
                for (int k = 0; k < targets.Length; k++)
                {
                    if (targets[k].Add)
                    {
                        int input = node.Inputs[k];
                        w.Line($"global::StaticGrad.Kernels.Broadcast.Accumulate(new global::System.ReadOnlySpan<float>({targets[k].Target}, 0, batch * {Int(spec.Nodes[input].Size)}), new global::System.Span<float>(_g{input}, 0, batch * {Int(spec.Nodes[input].Size)})); // %{input} is used again");
                    }
                }
            }
        }

        private static string Describe(GraphSpec spec, GraphNode node) =>
            node.Module >= 0 ? $"{spec.Modules[node.Module].Path}.Forward(%{string.Join(", %", node.Inputs)})" : $"{OpCatalogue.Of(node.Op).Describe(node.Settings)}(%{string.Join(", %", node.Inputs)})";

        private static void WriteNodes(SourceWriter w, GraphCode code, Routing routing)
        {
            GraphSpec spec = code.Spec;
            foreach (GraphNode node in spec.Nodes)
            {
                OpDefinition op = OpCatalogue.Of(node.Op);
                if (op.IsInput || op.IsView && !routing.Targets.ContainsKey(node.Id))
                {
                    continue;
                }

                string what = node.Module >= 0 ? code.ModuleText(node) : op.Describe(node.Settings);
                string inputs = string.Join(", ", node.Inputs.Select(i => $"%{i} [{Shapes.Text(spec.Nodes[i].Shape)}]"));
                if (!op.IsView)
                {
                    w.Line($"/// <summary>%{node.Id} = {Xml(what)} of {inputs} → [{Shapes.Text(node.Shape)}]: <c>{Xml(op.Formula)}</c>.</summary>");
                    w.Line($"/// <remarks>From {Xml(node.Source)}</remarks>");
                    w.Open($"private void Node{node.Id}Forward(int batch)");
                    op.WriteForward(w, code, node);
                    w.Close();
                    w.Line();
                }

                if (routing.Targets.TryGetValue(node.Id, out (string? Target, bool Add)[]? targets))
                {
                    w.Line($"/// <summary>Backward of %{node.Id} ({Xml(what)}): <c>{Xml(op.BackwardFormula)}</c>.</summary>");
                    w.Open($"private void Node{node.Id}Backward(int batch)");
                    code.Accumulating = routing.Accumulated;
                    op.WriteBackward(w, code, node, targets.Select(t => t.Target).ToArray());
                    w.Close();
                    w.Line();
                }

                if (DiffersToInput(routing, node.Id))
                {
                    w.Line($"/// <summary>Backward of %{node.Id} ({Xml(what)}) that also writes the gradient of the model's input (for Backward(outputGradients, inputGradients)).</summary>");
                    w.Open($"private void Node{node.Id}BackwardToInput(int batch)");
                    code.Accumulating = routing.ToInputAccumulated;
                    op.WriteBackward(w, code, node, routing.ToInputTargets![node.Id].Select(t => t.Target).ToArray());
                    w.Close();
                    w.Line();
                }
            }
        }

        /// <summary>Predict(inputs, outputs) for any number of examples, and the class probabilities of a softmax classifier.</summary>
        private static void WriteScores(SourceWriter w, GraphCode code)
        {
            GraphSpec spec = code.Spec;
            bool classifier = spec.Loss == LossKind.SoftmaxCrossEntropy;
            int classes = Classes(spec);
            foreach (bool probabilities in classifier ? new[] { false, true } : new[] { false })
            {
                if (!probabilities && !spec.SingleOutput)
                {
                    WritePredictOutputs(w, code);
                    continue;
                }

                string name = probabilities ? "probabilities" : "outputs";
                w.Line(probabilities
                    ? $"/// <summary>The probabilities of the classes for any number of examples: the softmax, <c>exp(z_j − max z) / Σ_k exp(z_k − max z)</c>, of the scores, each row{(Positions(spec) > 1 ? " (a position)" : string.Empty)} summing to 1."
                    : "/// <summary>The outputs of any number of examples in evaluation mode, as Forward computes them (Forward takes at most <see cref=\"MaxBatchSize\"/>).");
                w.Line("/// Runs in chunks of <see cref=\"MaxBatchSize\"/> examples; allocates nothing; replaces the stored values, so Backward needs a new forward pass.</summary>");
                w.Line($"/// <exception cref=\"global::System.ArgumentException\">An input is not whole examples, the inputs disagree on their count, or <paramref name=\"{name}\"/> does not hold <see cref=\"OutputSize\"/> values per example; nothing is written.</exception>");
                w.Open($"public void {(probabilities ? "PredictProbabilities" : "Predict")}({InputParameters(spec)}, global::System.Span<float> {name})");
                w.Line($"int count = CountExamples({InputArguments(spec)});");
                w.Line($"CheckLength({name}.Length, count * OutputSize, nameof({name}), \"OutputSize\");");
                w.Open("for (int start = 0; start < count; start += MaxBatchSize)");
                w.Line("int batch = global::System.Math.Min(MaxBatchSize, count - start);");
                w.Line($"ForwardChunk({InputArguments(spec)}, start, batch);");
                w.Line($"global::System.Span<float> chunk = {name}.Slice(start * OutputSize, batch * OutputSize);");
                w.Line($"{code.ValueSpan(spec.Output)}.CopyTo(chunk);");
                if (probabilities)
                {
                    w.Open($"for (int b = 0; b < {Rows(spec, "batch")}; b++)");
                    w.Line($"global::System.Span<float> row = chunk.Slice(b * {classes}, {classes});");
                    w.Line("float max = row[0]; // softmax(z) = softmax(z − max z): no exponential overflows");
                    w.Open($"for (int j = 1; j < {classes}; j++)");
                    w.Line("max = global::System.MathF.Max(max, row[j]);");
                    w.Close();
                    w.Line("double sum = 0;");
                    w.Open($"for (int j = 0; j < {classes}; j++)");
                    w.Line("row[j] = global::System.MathF.Exp(row[j] - max);");
                    w.Line("sum += row[j];");
                    w.Close();
                    w.Line("float inverse = (float)(1 / sum);");
                    w.Open($"for (int j = 0; j < {classes}; j++)");
                    w.Line("row[j] *= inverse;");
                    w.Close();
                    w.Close();
                }

                w.Close();
                w.Close();
                w.Line();
            }

            WriteCountExamples(w, spec);
        }

        /// <summary>Predict of a model with several outputs: each output span gets its values for every example.</summary>
        private static void WritePredictOutputs(SourceWriter w, GraphCode code)
        {
            GraphSpec spec = code.Spec;
            w.Line("/// <summary>The outputs of any number of examples in evaluation mode, as Forward computes them (Forward takes at most <see cref=\"MaxBatchSize\"/>).");
            w.Line("/// Runs in chunks of <see cref=\"MaxBatchSize\"/> examples; allocates nothing; replaces the stored values, so Backward needs a new forward pass.</summary>");
            w.Line($"/// <exception cref=\"global::System.ArgumentException\">An input is not whole examples, the inputs disagree on their count, or {OutputReferences(spec, OutputParameter)} does not hold its size's values per example; nothing is written.</exception>");
            w.Open($"public void Predict({InputParameters(spec)}, {OutputParameters(spec)})");
            w.Line($"int count = CountExamples({InputArguments(spec)});");
            for (int i = 0; i < spec.Outputs.Count; i++)
            {
                w.Line($"CheckLength({OutputParameter(spec, i)}.Length, count * {OutputSizeConstant(spec, i)}, nameof({OutputParameter(spec, i)}), \"{OutputSizeConstant(spec, i)}\");");
            }

            w.Open("for (int start = 0; start < count; start += MaxBatchSize)");
            w.Line("int batch = global::System.Math.Min(MaxBatchSize, count - start);");
            w.Line($"ForwardChunk({InputArguments(spec)}, start, batch);");
            for (int i = 0; i < spec.Outputs.Count; i++)
            {
                string size = OutputSizeConstant(spec, i);
                w.Line($"{code.ValueSpan(spec.Outputs[i].Node)}.CopyTo({OutputParameter(spec, i)}.Slice(start * {size}, batch * {size}));");
            }

            w.Close();
            w.Close();
            w.Line();
        }

        /// <summary>CountExamples and ForwardChunk, which Predict and the evaluations run on.</summary>
        private static void WriteCountExamples(SourceWriter w, GraphSpec spec)
        {
            w.Line("/// <summary>How many whole examples the inputs hold (any number, 0 included); throws when they are not whole or disagree.</summary>");
            w.Open($"private int CountExamples({InputParameters(spec)})");
            w.Line($"int count = {InputParameter(spec, 0)}.Length / {SizeConstant(spec, 0)};");
            for (int i = 0; i < spec.Inputs.Count; i++)
            {
                string input = InputParameter(spec, i), size = SizeConstant(spec, i);
                w.Open($"if ({input}.Length != count * {size})");
                w.Line($"throw new global::System.ArgumentException($\"{input} must hold whole examples of {{{size}}} values ({Shapes.Text(spec.Inputs[i].Shape)}){(i > 0 ? $", as many as {InputParameter(spec, 0)} ({{count}})" : string.Empty)}, but its length is {{{input}.Length}}.\", nameof({input}));");
                w.Close();
            }

            WriteTokenChecks(w, spec, "count");
            w.Line("return count;");
            w.Close();
            w.Line();
            w.Line("/// <summary>Evaluation mode's forward pass over examples <paramref name=\"start\"/> to start + batch of inputs already counted.</summary>");
            w.Open($"private void ForwardChunk({InputParameters(spec)}, int start, int batch)");
            w.Line("_training = false;");
            w.Line($"CopyInputs({InputArguments(spec, "start")}, batch);");
            w.Line("RunForward(batch);");
            w.Close();
            w.Line();
        }

        private static void WriteTraining(SourceWriter w, GraphCode code)
        {
            GraphSpec spec = code.Spec;
            bool classifier = spec.Loss == LossKind.SoftmaxCrossEntropy;
            string output = code.ValueSpan(spec.Output), gradient = $"new global::System.Span<float>({code.Gradient(spec.Output)}, 0, batch * OutputSize)";
            int classes = Classes(spec);
            string rows = Rows(spec, "batch"), unit = LabelUnit(spec);
            if (classifier)
            {
                w.Line("/// <summary>");
                w.Line("/// One training step on a batch, as PyTorch's <c>model.train()</c>, <c>loss = F.cross_entropy(model(x), labels)</c>,");
                w.Line("/// <c>optimizer.zero_grad()</c>, <c>loss.backward()</c>, <c>optimizer.step()</c>: batch statistics (running ones updated) and dropout.");
                w.Line("/// Returns the batch's mean loss before the update. Allocates nothing.");
                w.Line("/// </summary>");
                w.Line($"/// <exception cref=\"global::System.ArgumentException\">A length does not fit, or a label is outside 0 to {classes - 1}.</exception>");
                w.Line("/// <exception cref=\"global::System.InvalidOperationException\">No optimizer was chosen.</exception>");
                w.Line($"public float TrainStep({InputParameters(spec)}, global::System.ReadOnlySpan<int> labels) => TrainStepCore({InputArguments(spec)}, labels);");
                w.Line();
                w.Line("/// <summary>One training step with labels stored as bytes (as Fashion-MNIST's are); see the <c>int</c> overload.</summary>");
                w.Line($"public float TrainStep({InputParameters(spec)}, global::System.ReadOnlySpan<byte> labels) => TrainStepCore({InputArguments(spec)}, Widen(labels));");
                w.Line();
                w.Line("/// <summary>One training step with labels stored as 16-bit values; see the <c>int</c> overload.</summary>");
                w.Line($"public float TrainStep({InputParameters(spec)}, global::System.ReadOnlySpan<ushort> labels) => TrainStepCore({InputArguments(spec)}, Widen(labels));");
                w.Line();
                w.Open($"private float TrainStepCore({InputParameters(spec)}, global::System.ReadOnlySpan<int> labels)");
            }
            else
            {
                w.Line("/// <summary>");
                w.Line("/// One training step on a batch, as PyTorch's <c>model.train()</c>, <c>loss = F.mse_loss(model(x), targets)</c>, <c>zero_grad()</c>,");
                w.Line("/// <c>backward()</c>, <c>step()</c>. Returns the batch's mean loss before the update. Allocates nothing.");
                w.Line("/// </summary>");
                w.Line("/// <exception cref=\"global::System.ArgumentException\">A length does not fit.</exception>");
                w.Line("/// <exception cref=\"global::System.InvalidOperationException\">No optimizer was chosen.</exception>");
                w.Open($"public float TrainStep({InputParameters(spec)}, global::System.ReadOnlySpan<float> targets)");
            }

            w.Line($"int batch = CheckInputs({InputArguments(spec)});");
            w.Line($"CheckLength({(classifier ? "labels" : "targets")}.Length, {(classifier ? rows : "batch * OutputSize")}, nameof({(classifier ? "labels" : "targets")}), \"{(classifier ? unit : "OutputSize")}\");");
            w.Line("global::StaticGrad.Training.Optimizer optimizer = RequireOptimizer();");
            if (classifier)
            {
                w.Line("// Labels are checked before the forward pass, which would update the running statistics.");
                w.Open($"for (int i = 0; i < {rows}; i++)");
                w.Open($"if ((uint)labels[i] >= {classes})");
                w.Line($"throw new global::System.ArgumentOutOfRangeException(nameof(labels), labels[i], $\"labels[{{i}}] is {{labels[i]}}, outside 0 to {classes - 1} (one class per score).\");");
                w.Close();
                w.Close();
            }

            w.Line("_training = true;");
            w.Line($"CopyInputs({InputArguments(spec)}, batch);");
            w.Line("RunForward(batch);");
            w.Line(classifier
                ? $"double loss = global::StaticGrad.Kernels.Losses.SoftmaxCrossEntropy({output}, labels, {rows}, {classes}, {gradient});"
                : $"double loss = global::StaticGrad.Kernels.Losses.MeanSquaredError({output}, targets.Slice(0, batch * OutputSize), batch, OutputSize, {gradient});");
            w.Line("ZeroGradients();");
            w.Line("RunBackward(batch);");
            w.Line("optimizer.Step<float>(this, _parameters, _gradients, _team, loss);");
            w.Line("return (float)loss;");
            w.Close();
            w.Line();
            if (classifier)
            {
                foreach (string label in new[] { "byte", "ushort" })
                {
                    w.Open($"private global::System.ReadOnlySpan<int> Widen(global::System.ReadOnlySpan<{label}> labels)");
                    w.Open("if (labels.Length > _labels.Length)");
                    w.Line($"throw new global::System.ArgumentException($\"labels must hold at most {{{Rows(spec, "MaxBatchSize")}}} labels, but it has {{labels.Length}}.\", nameof(labels));");
                    w.Close();
                    w.Open("for (int i = 0; i < labels.Length; i++)");
                    w.Line("_labels[i] = labels[i];");
                    w.Close();
                    w.Line("return new global::System.ReadOnlySpan<int>(_labels, 0, labels.Length);");
                    w.Close();
                    w.Line();
                }
            }

            // Evaluation over any number of examples, in batches of MaxBatchSize.
            foreach (string label in classifier ? new[] { "int", "byte", "ushort" } : new[] { "float" })
            {
                string target = classifier ? $"global::System.ReadOnlySpan<{label}> labels" : "global::System.ReadOnlySpan<float> targets";
                w.Line(label is "int" or "float"
                    ? $"/// <summary>The mean loss over any number of examples in evaluation mode (batches of <see cref=\"MaxBatchSize\"/>); changes no state. Allocates nothing.</summary>"
                    : $"/// <summary>The mean loss with labels stored as {(label == "byte" ? "bytes" : "16-bit values")}; see the <c>int</c> overload.</summary>");
                w.Open($"public double EvaluateLoss({InputParameters(spec)}, {target})");
                w.Line($"int count = CountExamples({InputArguments(spec)});");
                w.Line($"CheckLength({(classifier ? "labels" : "targets")}.Length, {(classifier ? Rows(spec, "count") : "count * OutputSize")}, nameof({(classifier ? "labels" : "targets")}), \"{(classifier ? unit : "OutputSize")}\");");
                w.Line("double total = 0;");
                w.Open("for (int start = 0; start < count; start += MaxBatchSize)");
                w.Line("int batch = global::System.Math.Min(MaxBatchSize, count - start);");
                w.Line($"ForwardChunk({InputArguments(spec)}, start, batch);");
                string chunk = label == "int" ? $"labels.Slice({Rows(spec, "start")}, {rows})" : $"Widen(labels.Slice({Rows(spec, "start")}, {rows}))";
                w.Line(classifier
                    ? $"total += batch * global::StaticGrad.Kernels.Losses.SoftmaxCrossEntropy({output}, {chunk}, {rows}, {classes}, default);"
                    : $"total += batch * global::StaticGrad.Kernels.Losses.MeanSquaredError({output}, targets.Slice(start * OutputSize, batch * OutputSize), batch, OutputSize, default);");
                w.Close();
                w.Line();
                w.Line("return count == 0 ? 0 : total / count;");
                w.Close();
                w.Line();
            }

            WriteComputeLoss(w, spec);
            if (!classifier && !ImplementsInterface(spec))
            {
                return;
            }

            string each = Positions(spec) == 1 ? "each example" : "each position of each example";
            w.Line($"/// <summary>The class with the highest score for {each} (any number of examples, in batches of <see cref=\"MaxBatchSize\"/>), in evaluation mode. Allocates nothing.</summary>");
            w.Open($"public void Predict({InputParameters(spec)}, global::System.Span<int> predictions)");
            w.Line($"int count = CountExamples({InputArguments(spec)});");
            w.Line($"CheckLength(predictions.Length, {Rows(spec, "count")}, nameof(predictions), \"{(Positions(spec) == 1 ? "1 prediction per example" : $"{Int(Positions(spec))} predictions per example, one per position")}\");");
            w.Open("for (int start = 0; start < count; start += MaxBatchSize)");
            w.Line("int batch = global::System.Math.Min(MaxBatchSize, count - start);");
            w.Line($"ForwardChunk({InputArguments(spec)}, start, batch);");
            w.Line($"ArgMax({code.ValueSpan(spec.Output)}, predictions.Slice({Rows(spec, "start")}, {rows}));");
            w.Close();
            w.Close();
            w.Line();
            w.Line("/// <summary>The index of the highest score in each row of classes (the first of equal ones).</summary>");
            w.Open("private static void ArgMax(global::System.ReadOnlySpan<float> scores, global::System.Span<int> classes)");
            w.Open("for (int r = 0; r < classes.Length; r++)");
            w.Line($"global::System.ReadOnlySpan<float> row = scores.Slice(r * {classes}, {classes});");
            w.Line("int best = 0;");
            w.Open($"for (int c = 1; c < {classes}; c++)");
            w.Open("if (row[c] > row[best])");
            w.Line("best = c;");
            w.Close();
            w.Close();
            w.Line("classes[r] = best;");
            w.Close();
            w.Close();
            w.Line();
            if (Positions(spec) == 1)
            {
                w.Line("/// <summary>The class with the highest score for one example.</summary>");
                w.Open($"public int Predict({InputParameters(spec)})");
                w.Line("global::System.Span<int> prediction = stackalloc int[1];");
                w.Line($"Predict({InputArguments(spec)}, prediction);");
                w.Line("return prediction[0];");
                w.Close();
                w.Line();
            }

            foreach (string label in new[] { "int", "byte", "ushort" })
            {
                w.Line(label == "int"
                    ? $"/// <summary>The fraction of {(Positions(spec) == 1 ? "examples" : "positions")} whose predicted class is their label (evaluation mode, batches of <see cref=\"MaxBatchSize\"/>). Allocates nothing.</summary>"
                    : $"/// <summary>Accuracy with labels stored as {(label == "byte" ? "bytes (as Fashion-MNIST's are)" : "16-bit values")}.</summary>");
                w.Open($"public double Accuracy({InputParameters(spec)}, global::System.ReadOnlySpan<{label}> labels)");
                w.Line($"int count = CountExamples({InputArguments(spec)});");
                w.Line($"CheckLength(labels.Length, {Rows(spec, "count")}, nameof(labels), \"{unit}\");");
                w.Line("long correct = 0;");
                w.Line("global::System.Span<int> predictions = _predictions;");
                w.Open("for (int start = 0; start < count; start += MaxBatchSize)");
                w.Line("int batch = global::System.Math.Min(MaxBatchSize, count - start);");
                w.Line($"ForwardChunk({InputArguments(spec)}, start, batch);");
                w.Line($"ArgMax({code.ValueSpan(spec.Output)}, predictions.Slice(0, {rows}));");
                w.Open($"for (int r = 0; r < {rows}; r++)");
                w.Line($"correct += predictions[r] == labels[{Rows(spec, "start")} + r] ? 1 : 0;");
                w.Close();
                w.Close();
                w.Line();
                w.Line($"return count == 0 ? 0 : (double)correct / {(Positions(spec) == 1 ? "count" : $"({Rows(spec, "count")})")};");
                w.Close();
                w.Line();
            }
        }

        /// <summary>
        /// Whether the model implements <c>IClassifier&lt;float&gt;</c> (a softmax classifier) or <c>IRegressor&lt;float&gt;</c>
        /// (mean squared error), as the attribute networks do: one float input and one label or target row per example.
        /// </summary>
        private static bool ImplementsInterface(GraphSpec spec) =>
            OneFloatInput(spec) && spec.Loss != LossKind.None && Positions(spec) == 1;

        private static string? InterfaceName(GraphSpec spec) =>
            !ImplementsInterface(spec) ? null
            : spec.Loss == LossKind.SoftmaxCrossEntropy ? "global::StaticGrad.IClassifier<float>" : "global::StaticGrad.IRegressor<float>";

        /// <summary>ComputeLoss(outputs, labels or targets, outputGradients): the loss of outputs computed elsewhere, and its gradient.</summary>
        private static void WriteComputeLoss(SourceWriter w, GraphSpec spec)
        {
            bool classifier = spec.Loss == LossKind.SoftmaxCrossEntropy;
            int classes = Classes(spec);
            string target = classifier ? "labels" : "targets";
            w.Line("/// <summary>");
            w.Line(classifier
                ? "/// The mean softmax cross-entropy of scores computed elsewhere (by Forward, or another model) against their labels, as"
                : "/// The mean squared error of outputs computed elsewhere (by Forward, or another model) against their targets, as");
            w.Line($"/// TrainStep computes it; writes its gradient with respect to the {(classifier ? "scores" : "outputs")} unless <paramref name=\"outputGradients\"/> is empty (then pass it to Backward).");
            w.Line("/// Changes no state. Allocates nothing.");
            w.Line("/// </summary>");
            w.Line($"/// <exception cref=\"global::System.ArgumentException\">A length does not fit{(classifier ? $", or a label is outside 0 to {classes - 1}" : string.Empty)}.</exception>");
            w.Open($"public float ComputeLoss(global::System.ReadOnlySpan<float> outputs, global::System.ReadOnlySpan<{(classifier ? "int" : "float")}> {target}, global::System.Span<float> outputGradients)");
            w.Open("if (outputs.Length == 0 || outputs.Length % OutputSize != 0)");
            w.Line("throw new global::System.ArgumentException($\"outputs must hold whole examples of {OutputSize} values, but its length is {outputs.Length}.\", nameof(outputs));");
            w.Close();
            w.Line();
            w.Line("int batch = outputs.Length / OutputSize;");
            w.Line(classifier
                ? $"CheckLength(labels.Length, {Rows(spec, "batch")}, nameof(labels), \"{LabelUnit(spec)}\");"
                : "CheckLength(targets.Length, outputs.Length, nameof(targets), \"OutputSize\");");
            w.Open("if (!outputGradients.IsEmpty)");
            w.Line("CheckLength(outputGradients.Length, outputs.Length, nameof(outputGradients), \"OutputSize\");");
            w.Close();
            w.Line();
            if (classifier)
            {
                w.Open("for (int i = 0; i < labels.Length; i++)");
                w.Open($"if ((uint)labels[i] >= {classes})");
                w.Line($"throw new global::System.ArgumentOutOfRangeException(nameof(labels), labels[i], $\"labels[{{i}}] is {{labels[i]}}, outside 0 to {classes - 1} (one class per score).\");");
                w.Close();
                w.Close();
                w.Line();
                w.Line($"return (float)global::StaticGrad.Kernels.Losses.SoftmaxCrossEntropy(outputs, labels, {Rows(spec, "batch")}, {classes}, outputGradients);");
            }
            else
            {
                w.Line("return (float)global::StaticGrad.Kernels.Losses.MeanSquaredError(outputs, targets, batch, OutputSize, outputGradients);");
            }

            w.Close();
            w.Line();
        }

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

            string network = "global::StaticGrad.INetwork<float>";
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
            w.Line("/// <summary>A float model exports float tensors; the opset stays the default.</summary>");
            w.Open("private static int CheckOnnxElementType(global::StaticGrad.Interchange.ElementType elementType)");
            w.Open("if (elementType != global::StaticGrad.Interchange.ElementType.Float)");
            w.Line("throw new global::System.ArgumentException($\"A [Model] exports its float tensors as FLOAT; {elementType} is not available (an attribute network of double can export DOUBLE).\", nameof(elementType));");
            w.Close();
            w.Line();
            w.Line("return global::StaticGrad.Interchange.OnnxGraphExport.DefaultOpset;");
            w.Close();
            w.Line();
        }

        private static void WriteOptimizer(SourceWriter w)
        {
            w.Lines("""
                /// <summary>The optimizer TrainStep and Step use; setting it binds it to this model (an optimizer serves one model).</summary>
                public global::StaticGrad.Training.Optimizer? Optimizer
                {
                    get => _optimizer;
                    set
                    {
                        value?.Attach<float>(this, Description);
                        _optimizer = value;
                    }
                }

                /// <summary>Stochastic gradient descent, as <c>torch.optim.SGD(lr, momentum, weight_decay)</c> (weight decay on weights only).</summary>
                public void UseSgd(double learningRate, double momentum = 0, double weightDecay = 0) => Optimizer = new global::StaticGrad.Training.Sgd(learningRate, momentum, weightDecay);

                /// <summary>Adam, as <c>torch.optim.Adam</c>.</summary>
                public void UseAdam(double learningRate = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-8, double weightDecay = 0) => Optimizer = new global::StaticGrad.Training.Adam(learningRate, beta1, beta2, epsilon, weightDecay);

                /// <summary>AdamW (decoupled weight decay), as <c>torch.optim.AdamW</c>.</summary>
                public void UseAdamW(double learningRate = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-8, double weightDecay = 1e-2) => Optimizer = new global::StaticGrad.Training.AdamW(learningRate, beta1, beta2, epsilon, weightDecay);

                /// <summary>One update of the parameters from <see cref="Gradients"/> by the chosen optimizer.</summary>
                /// <exception cref="global::System.InvalidOperationException">No optimizer was chosen.</exception>
                public void Step() => RequireOptimizer().Step<float>(this, _parameters, _gradients, _team);

                private global::StaticGrad.Training.Optimizer RequireOptimizer() => _optimizer ?? throw new global::System.InvalidOperationException("No optimizer chosen: call UseAdam(...), UseSgd(...) or UseAdamW(...), or set Optimizer, before TrainStep or Step. StaticGrad does not pick one for you.");

                """);
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

        private static void WriteShared(SourceWriter w, GraphCode code)
        {
            var written = new HashSet<string>();
            foreach (GraphNode node in code.Spec.Nodes)
            {
                OpCatalogue.Of(node.Op).WriteShared(w, code, node, written);
            }
        }
    }
}
