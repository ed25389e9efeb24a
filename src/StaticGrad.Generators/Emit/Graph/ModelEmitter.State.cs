using System.Collections.Generic;
using System.Linq;
using StaticGrad.Generators.Graph;
using StaticGrad.Generators.Graph.Ops;
using StaticGrad.Generators.Model;

namespace StaticGrad.Generators.Emit.Graph
{
    /// <summary>The state: parameter, gradient, buffer and value arrays, the constructor (PyTorch's initialisation, the modules bound to the arrays), Threads.</summary>
    internal static partial class ModelEmitter
    {
        private static void WriteFields(SourceWriter w, GraphCode code, Routing routing)
        {
            GraphSpec spec = code.Spec;
            w.Line($"private readonly {E(spec)}[] _parameters = new {E(spec)}[ParameterCount];");
            w.Line($"private readonly {E(spec)}[] _gradients = new {E(spec)}[ParameterCount];");
            w.Line($"private readonly {E(spec)}[] _buffers = new {E(spec)}[BufferCount];");
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
                if (code.IsFoldedProducer(node.Id))
                {
                    int host = code.Host(node.Id);
                    string writer = host == node.Id ? "its op" : $"Node{host}, into which it is folded,";
                    w.Line(code.FoldedResidual(node) is { } add
                        ? $"// %{node.Id}: {Shapes.Text(node.Shape)}, never stored: {writer} writes the value of %{code.FoldedOutput(node)!.Id}, the sum %{add.Id} (with its activation) folded into it, and reads that one's gradient"
                        : $"// %{node.Id}: {Shapes.Text(node.Shape)}, never stored: {writer} writes the value of %{code.FoldedActivation(node)!.Id}, the activation folded into it, and reads that one's gradient");
                    continue;
                }

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
                    w.Line($"private readonly {E(spec)}[] {string.Join(", ", names)}; // %{node.Id}: {Shapes.Text(node.Shape)}");
                }
            }

            for (int k = 0; k < routing.ScratchCount; k++)
            {
                w.Line($"private readonly {E(spec)}[] _gradientScratch{k}; // an input's gradient before it is added to what other uses gave");
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
            if (code.ReplaceGradients is { } replace && code.ReplacingNodes.Count > 0)
            {
                w.Line($"private bool {replace}; // true during TrainStep's backward pass: the nodes that can write their parameters' gradients instead of adding to them");
            }

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
                if (code.IsFoldedProducer(node.Id))
                {
                    continue;
                }

                if (!op.IsView)
                {
                    w.Line($"_v{node.Id} = new {(op.HoldsIntegers ? "int" : E(spec))}[maxBatchSize * {Int(node.Size)}];");
                }

                if (routing.HasGradient(node))
                {
                    w.Line($"_g{node.Id} = new {E(spec)}[maxBatchSize * {Int(node.Size)}];");
                }
            }

            for (int k = 0; k < routing.ScratchCount; k++)
            {
                w.Line($"_gradientScratch{k} = new {E(spec)}[maxBatchSize * {Int(routing.ScratchSize)}];");
            }

            foreach (GraphNode node in spec.Nodes)
            {
                OpCatalogue.Of(node.Op).WriteAllocation(w, code, node);
            }

            w.Line($"_labels = new int[maxBatchSize * {Int(spec.HasClassLabels ? Positions(spec) : 1)}];");
            w.Line($"_predictions = new int[maxBatchSize * {Int(spec.HasClassLabels ? Positions(spec) : 1)}];");
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
            if (spec.Element == ElementKind.Double)
            {
                w.Line("// Each value is drawn and rounded as the float model of the same seed draws it, then widened: PyTorch's model.double().");
            }

            foreach (StateTensor tensor in spec.Parameters)
            {
                WriteInit(w, spec, "_parameters", tensor);
            }

            foreach (StateTensor tensor in spec.Buffers)
            {
                WriteInit(w, spec, "_buffers", tensor);
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

        /// <summary>
        /// One tensor's initialisation. A <c>[Model&lt;double&gt;]</c> starts from the values the float model of the same seed
        /// starts from (drawn, rounded to float, widened), as PyTorch's <c>model.double()</c> widens a float module's.
        /// </summary>
        private static void WriteInit(SourceWriter w, GraphSpec spec, string array, StateTensor tensor)
        {
            string range = $"new global::System.Span<{E(spec)}>({array}, {Int(tensor.Offset)}, {Int(tensor.Count)})";
            string cast = spec.Element == ElementKind.Double ? "(double)(float)" : "(float)";
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
                    w.Line($"{array}[{Int(tensor.Offset)} + i] = {cast}(global::System.Math.Sqrt(-2 * global::System.Math.Log(1 - random.NextDouble())) * global::System.Math.Cos(2 * global::System.Math.PI * random.NextDouble()));");
                    w.Close();
                    break;
                default:
                    w.Open($"for (int i = 0; i < {Int(tensor.Count)}; i++) // {tensor.Name}: U(±1/√{Int(tensor.FanIn)})");
                    w.Line($"{array}[{Int(tensor.Offset)} + i] = {cast}(((2 * random.NextDouble()) - 1) / global::System.Math.Sqrt({Int(tensor.FanIn)}));");
                    w.Close();
                    break;
            }
        }

        private static void WriteStateMembers(SourceWriter w, GraphSpec spec)
        {
            w.Line("/// <summary>Every parameter, in one flat array in <see cref=\"Description\"/>'s order; writable.</summary>");
            w.Line($"public global::System.Span<{E(spec)}> Parameters => _parameters;");
            w.Line();
            w.Line("/// <summary>The gradient of the loss with respect to each parameter, as the last backward pass left it.</summary>");
            w.Line($"public global::System.Span<{E(spec)}> Gradients => _gradients;");
            w.Line();
            w.Line("/// <summary>The running statistics (BatchNorm's <c>running_mean</c>, <c>running_var</c>), in <see cref=\"State\"/>'s order; writable.</summary>");
            w.Line($"public global::System.Span<{E(spec)}> Buffers => _buffers;");
            w.Line();
            w.Line("/// <summary>Sets every gradient to zero.</summary>");
            w.Line("public void ZeroGradients() => global::System.Array.Clear(_gradients, 0, _gradients.Length);");
            w.Line();
        }
    }
}
