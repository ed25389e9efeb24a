using System.Collections.Generic;
using System.Linq;
using StaticGrad.Generators.Catalogue;
using StaticGrad.Generators.Emit.Graph;
using StaticGrad.Generators.Model;

namespace StaticGrad.Generators.Emit.Network
{
    /// <summary>
    /// Writes the model class for one <see cref="NetworkSpec"/>: shape constants, parameters and gradients, buffers,
    /// initialisation, Forward/Backward over the layers, prediction, and (through the sibling emitters) the loss,
    /// the optimizers and save/load. Each layer's own forward and backward pass is written by its definition in
    /// <see cref="LayerCatalogue"/> (Catalogue/Layers/LinearLayer.cs, ReLULayer.cs, …).
    /// </summary>
    internal static class NetworkEmitter
    {
        public static string HintName(NetworkSpec spec) => GeneratedFile.HintName(spec.Type);

        public static string Emit(NetworkSpec spec)
        {
            var code = new NetworkCode(spec);
            var w = new SourceWriter();
            GeneratedFile.Open(w, spec.Type, LayerList(spec), spec.NullableDirective, spec.RuntimeKernels ? InterfaceName(code) : null);

            WriteConstantsAndFields(w, code);
            WriteConstructor(w, code);
            WriteParameterAccess(w, code);
            WriteForward(w, code);
            WriteBackward(w, code);
            if (code.Graph is { } graph)
            {
                ModelEmitter.WriteNetworkPasses(w, graph, id => id == 0 ? "the input" : $"layer {id - 1}, {spec.Layers[id - 1].Describe()}");
            }
            else
            {
                foreach (var layer in spec.Layers)
                {
                    LayerDefinition definition = layer.Definition;
                    definition.WriteForward(w, code, layer);
                    definition.WriteBackward(w, code, layer);
                }
            }

            LossEmitter.Write(w, code);
            WritePrediction(w, code);
            OptimizerEmitter.Write(w, code);
            SerializationEmitter.Write(w, code);
            if (spec.RuntimeKernels)
            {
                InterchangeEmitter.Write(w, code);
                WriteInterfaceSizes(w, code);
            }

            WriteVector(w, code, "InputVector", spec.InputSize, "One example's input");
            WriteVector(w, code, "OutputVector", spec.OutputSize, "One example's output");
            WriteHelpers(w, code);
            // The kernel shapes the ops share (GEMM shapes named by layer shape, so layers of one shape share them).
            if (code.Graph is { } lowered)
            {
                ModelEmitter.WriteNetworkShared(w, lowered);
            }

            GeneratedFile.Close(w, spec.Type);
            return w.ToString();
        }

        /// <summary>The shared interface of StaticGrad.Runtime the class implements: by the kind of its loss.</summary>
        private static string InterfaceName(NetworkCode code) =>
            code.Spec.Loss == LossKind.None ? $"global::StaticGrad.INetwork<{code.T}>"
            : LossEmitter.ClassLabels(code) ? $"global::StaticGrad.IClassifier<{code.T}>"
            : $"global::StaticGrad.IRegressor<{code.T}>";

        /// <summary>The sizes as properties of the interface; the class's constants serve code that names the class.</summary>
        private static void WriteInterfaceSizes(SourceWriter w, NetworkCode code)
        {
            string network = $"global::StaticGrad.INetwork<{code.T}>";
            w.Line($"// The constants again, as properties of {network}: generic code reaches them from an instance.");
            w.Line($"int {network}.InputSize => InputSize;");
            w.Line();
            w.Line($"int {network}.OutputSize => OutputSize;");
            w.Line();
            w.Line($"int {network}.ParameterCount => ParameterCount;");
            w.Line();
            w.Line($"string {network}.Architecture => Architecture;");
            w.Line();
            w.Line($"global::StaticGrad.Interchange.NetworkDescription {network}.Description => Description;");
            w.Line();
        }

        private static string LayerList(NetworkSpec spec) =>
            spec.Architecture.Substring(spec.Architecture.IndexOf(':') + 2);

        private static IEnumerable<LayerSpec> Parameterized(NetworkSpec spec) => spec.Layers.Where(l => l.HasParameters);

        private static bool HasDropout(NetworkSpec spec) => spec.Layers.Any(l => l.Definition.DropsInTraining);

        private static void WriteConstantsAndFields(SourceWriter w, NetworkCode code)
        {
            NetworkSpec spec = code.Spec;
            string t = code.T;
            w.Line($"/// <summary>Features of one example in: {spec.InputSize}.</summary>");
            w.Line($"public const int InputSize = {spec.InputSize};");
            w.Line();
            w.Line($"/// <summary>Values of one example out (before any loss): {spec.OutputSize}.</summary>");
            w.Line($"public const int OutputSize = {spec.OutputSize};");
            w.Line();
            w.Line($"/// <summary>Weights and biases of all layers: {spec.ParameterCount}.</summary>");
            w.Line($"public const int ParameterCount = {spec.ParameterCount};");
            w.Line();
            w.Line("/// <summary>The architecture in one line; saved files record it and loading checks it.</summary>");
            w.Line($"public const string Architecture = \"{spec.Architecture}\";");
            w.Line();
            w.Line("/// <summary>The batch capacity a network gets when the constructor is not told otherwise.</summary>");
            w.Line("public const int DefaultMaxBatchSize = 64;");
            w.Line();
            w.Line("// Parameters and their gradients, flat: for each layer with weights in order, W (row-major, PyTorch's shape) then b.");
            w.Line($"private readonly {t}[] _parameters = new {t}[ParameterCount];");
            w.Line($"private readonly {t}[] _gradients = new {t}[ParameterCount];");
            w.Line();
            w.Line("// _activations[0] is a copy of the batch given to Forward (TrainStep and Predict read the caller's batch instead);");
            w.Line("// _activations[i + 1] is layer i's output. Backward reads them.");
            w.Line($"private readonly {t}[][] _activations;");
            w.Line();
            w.Line("// Two buffers that Backward passes gradients through, layer by layer.");
            w.Line($"private readonly {t}[][] _gradientScratch;");
            w.Line();
            w.Line("// Rows of the batch the last Forward ran, for Backward; 0 before the first and after a forward pass Backward cannot follow (Predict).");
            w.Line("private int _batch;");
            w.Line();
            if (code.Graph is { } graph)
            {
                ModelEmitter.WriteNetworkFields(w, graph);
            }

            if (HasDropout(spec))
            {
                if (spec.Loss == LossKind.None)
                {
                    w.Line("// Without a loss there is no TrainStep, so Dropout never drops values here (PyTorch's eval()).");
                    w.Line("private readonly bool _training = false;");
                }
                else
                {
                    w.Line("// True while TrainStep runs its forward pass: Dropout drops values only then.");
                    w.Line("private bool _training;");
                }
                w.Line();
                w.Line("// Dropout's random stream (xorshift64*), seeded from the constructor's seed.");
                w.Line("private ulong _dropoutState;");
                w.Line();
            }

            w.Line(spec.RuntimeKernels
                ? $"private global::StaticGrad.Training.Optimizer{code.Q} _optimizer;"
                : $"private OptimizerState{code.Q} _optimizer;");
            w.Line();
            if (spec.RuntimeKernels)
            {
                w.Line("// The threads the matrix products and the optimizer step may use; null for the calling thread only (Threads = 1).");
                w.Line($"private global::StaticGrad.Kernels.WorkerTeam{code.Q} _team;");
                w.Line();
            }
        }

        /// <summary>Whether the value after layer <paramref name="boundary"/> − 1 is a view of the one before it (a lowered Flatten): it shares that array.</summary>
        private static bool IsView(NetworkCode code, int boundary) =>
            boundary > 0 && code.Graph is { } graph && StaticGrad.Generators.Graph.Ops.OpCatalogue.Of(graph.Spec.Nodes[boundary].Op).IsView;

        private static void WriteConstructor(SourceWriter w, NetworkCode code)
        {
            NetworkSpec spec = code.Spec;
            string t = code.T;
            string typeName = spec.Type.Target.Name;
            int bareNameEnd = typeName.IndexOf('<');
            string constructorName = bareNameEnd < 0 ? typeName : typeName.Substring(0, bareNameEnd);
            int maxWidth = Enumerable.Range(0, spec.Layers.Count + 1).Max(code.Width);

            w.Line("/// <summary>");
            w.Line("/// Creates the network: parameters initialised from <paramref name=\"seed\"/> (the same seed gives the same network),");
            w.Line("/// and buffers for batches of up to <paramref name=\"maxBatchSize\"/> examples. No optimizer yet: choose one before training.");
            w.Line("/// </summary>");
            w.Line("/// <remarks>");
            w.Line("/// Initialisation: a layer with weights followed by ReLU gets He-normal weights, <c>W ~ N(0, 2/fan-in)</c>; any other");
            w.Line("/// gets Xavier/Glorot-uniform weights, <c>W ~ U(−a, a)</c> with <c>a = √(6/(fan-in + fan-out))</c> (fan-in = inputs, or in·k·k for Conv2d). Biases start at 0.");
            w.Line("/// This constructor allocates everything the network will use; Forward, Backward and TrainStep allocate nothing.");
            w.Line("/// </remarks>");
            w.Line("/// <param name=\"seed\">Seed of the initialisation.</param>");
            w.Line("/// <param name=\"maxBatchSize\">The most examples one Forward or TrainStep may take: your batch size.</param>");
            if (spec.NullableDirective)
            {
                w.Line("// Members of your own that your constructors set are not set here: your constructors call this one first.");
                w.Line("#pragma warning disable CS8618");
            }

            w.Open($"public {constructorName}(int seed = 0, int maxBatchSize = DefaultMaxBatchSize)");
            w.Line($"if (maxBatchSize < 1 || (long)maxBatchSize * {maxWidth} > 0x7FFFFFC7)");
            w.Line("    throw new global::System.ArgumentOutOfRangeException(nameof(maxBatchSize), maxBatchSize, \"maxBatchSize must be positive and small enough for its buffers to be arrays.\");");
            w.Line("MaxBatchSize = maxBatchSize;");
            w.Line($"_activations = new {t}[][]");
            w.Line("{");
            for (int boundary = 0; boundary <= spec.Layers.Count; boundary++)
            {
                string what = boundary == 0 ? "the input" : $"layer {boundary - 1} ({spec.Layers[boundary - 1].Describe()}) out";
                w.Line(IsView(code, boundary)
                    ? $"    global::System.Array.Empty<{t}>(), // {what}: a view of the values before it, set below"
                    : $"    new {t}[maxBatchSize * {code.Width(boundary)}], // {what}");
            }

            w.Line("};");
            for (int boundary = 1; boundary <= spec.Layers.Count; boundary++)
            {
                if (IsView(code, boundary))
                {
                    w.Line($"_activations[{boundary}] = _activations[{boundary - 1}]; // {spec.Layers[boundary - 1].Describe()} reads the same values with another shape");
                }
            }
            w.Line($"_gradientScratch = new {t}[][] {{ new {t}[maxBatchSize * {maxWidth}], new {t}[maxBatchSize * {maxWidth}] }};");
            if (code.Graph is { } graph)
            {
                ModelEmitter.WriteNetworkAllocation(w, graph);
            }

            if (HasDropout(spec))
            {
                w.Line("_dropoutState = ((ulong)(uint)seed * 0x9E3779B97F4A7C15UL) ^ 0xD1B54A32D192ED03UL; // never 0: xorshift would stay at 0");
            }

            w.Line("InitializeParameters(seed);");
            w.Close();
            if (spec.NullableDirective)
            {
                w.Line("#pragma warning restore CS8618");
            }

            w.Line();

            w.Line("/// <summary>The most examples one Forward may take, fixed at construction.</summary>");
            w.Line("public int MaxBatchSize { get; }");
            w.Line();
            if (spec.RuntimeKernels)
            {
                w.Line("/// <summary>");
                w.Line("/// How many threads Forward, Backward, TrainStep, Step and the evaluation methods may use: 1 (the default) runs everything");
                w.Line("/// on the calling thread; 2 to 64 split each large matrix product (at least 2²⁰ multiply-adds, by rows or by columns),");
                w.Line("/// each stride-1 convolution (by examples) and the optimizer's update (at least 32,768 parameters) between the calling");
                w.Line("/// thread and background workers of this network, started on first use. Smaller layers, the activations, pooling and the");
                w.Line("/// loss stay on the calling thread. Steps allocate nothing either way; a call made while another call of this network is");
                w.Line("/// using the workers runs on its own thread alone.");
                w.Line("/// </summary>");
                ThreadsProperty.Write(w);
            }

            w.Open("private void InitializeParameters(int seed)");
            w.Line("var random = new global::System.Random(seed);");
            foreach (var layer in Parameterized(spec))
            {
                if (layer.HeInit)
                {
                    w.Line($"// Layer {layer.Index}, {layer.Describe()}, followed by ReLU: He-normal, W ~ N(0, 2/{layer.FanIn}).");
                    w.Line($"double std{layer.Index} = global::System.Math.Sqrt(2.0 / {layer.FanIn});");
                    w.Open($"for (int e = 0; e < {layer.WeightCount}; e++)");
                    w.Line("// Box–Muller: a standard normal sample from two uniform ones.");
                    w.Line("double normal = global::System.Math.Sqrt(-2.0 * global::System.Math.Log(1.0 - random.NextDouble())) * global::System.Math.Cos(2.0 * global::System.Math.PI * random.NextDouble());");
                    w.Line($"_parameters[{layer.WeightOffset} + e] = ({t})(std{layer.Index} * normal);");
                    w.Close();
                }
                else
                {
                    w.Line($"// Layer {layer.Index}, {layer.Describe()}: Xavier/Glorot-uniform, W ~ U(−a, a), a = √(6/({layer.FanIn} + {layer.FanOut})).");
                    w.Line($"double limit{layer.Index} = global::System.Math.Sqrt(6.0 / ({layer.FanIn} + {layer.FanOut}));");
                    w.Open($"for (int e = 0; e < {layer.WeightCount}; e++)");
                    w.Line($"_parameters[{layer.WeightOffset} + e] = ({t})(((2.0 * random.NextDouble()) - 1.0) * limit{layer.Index});");
                    w.Close();
                }

                w.Line();
            }

            w.Line("// Biases stay 0.");
            w.Close();
            w.Line();
        }

        private static void WriteParameterAccess(SourceWriter w, NetworkCode code)
        {
            NetworkSpec spec = code.Spec;
            w.Line("/// <summary>All parameters, flat: for each layer with weights in order, W (row-major: out×in, or out×in×k×k for Conv2d) then b. Writable.</summary>");
            w.Line($"public {code.Span} Parameters => _parameters;");
            w.Line();
            w.Line("/// <summary>∂L/∂(each parameter), laid out like <see cref=\"Parameters\"/>. Backward adds to it; <see cref=\"ZeroGradients\"/> clears it.</summary>");
            w.Line($"public {code.Span} Gradients => _gradients;");
            w.Line();
            foreach (var layer in Parameterized(spec))
            {
                int i = layer.Index;
                w.Line($"/// <summary>W of layer {i}, {layer.Describe()}: {layer.WeightShapeText}, row-major (PyTorch's <c>{i}.weight</c>).</summary>");
                w.Line($"public {code.Span} Layer{i}Weight => new {code.Span}(_parameters, {layer.WeightOffset}, {layer.WeightCount});");
                w.Line();
                w.Line($"/// <summary>∂L/∂W of layer {i}: {layer.WeightShapeText}, row-major.</summary>");
                w.Line($"public {code.Span} Layer{i}WeightGradient => new {code.Span}(_gradients, {layer.WeightOffset}, {layer.WeightCount});");
                w.Line();
                if (layer.HasBias)
                {
                    w.Line($"/// <summary>b of layer {i}, {layer.Describe()}: {layer.BiasCount} values (PyTorch's <c>{i}.bias</c>).</summary>");
                    w.Line($"public {code.Span} Layer{i}Bias => new {code.Span}(_parameters, {layer.BiasOffset}, {layer.BiasCount});");
                    w.Line();
                    w.Line($"/// <summary>∂L/∂b of layer {i}: {layer.BiasCount} values.</summary>");
                    w.Line($"public {code.Span} Layer{i}BiasGradient => new {code.Span}(_gradients, {layer.BiasOffset}, {layer.BiasCount});");
                    w.Line();
                }
            }

            w.Line("/// <summary>Sets every gradient to 0. Backward accumulates, so call this between batches (TrainStep does).</summary>");
            w.Line("public void ZeroGradients() => global::System.Array.Clear(_gradients, 0, _gradients.Length);");
            w.Line();
        }

        private static void WriteForward(SourceWriter w, NetworkCode code)
        {
            NetworkSpec spec = code.Spec;
            w.Line("/// <summary>Runs the network on a batch, one example per row, and stores each layer's output for Backward.</summary>");
            w.Line($"/// <param name=\"inputs\">[B×{spec.InputSize}] row-major, 1 ≤ B ≤ <see cref=\"MaxBatchSize\"/>.</param>");
            w.Line($"/// <param name=\"outputs\">Receives [B×{spec.OutputSize}] row-major: the last layer's output{(spec.Loss == LossKind.None ? string.Empty : $" (the scores {spec.Loss} is applied to)")}.</param>");
            // The shape trace: what each layer produces, so a reader sees where every size comes from.
            string start = spec.Layers[0].In.IsImage ? $"input {spec.Layers[0].In}" : $"input {spec.InputSize}";
            w.Line("/// <remarks>Layers and the shape each produces: " + start + ", " + string.Join(", ", spec.Layers.Select(l => $"{l.Index}: {l.Describe()} → {l.Definition.OutputText(l)}")) + ". Allocates nothing.</remarks>");
            w.Open($"public void Forward({code.ReadOnlySpan} inputs, {code.Span} outputs)");
            w.Line("int batch = CheckBatch(inputs.Length, nameof(inputs));");
            w.Line($"if (outputs.Length != batch * OutputSize) ThrowLengthMismatch(nameof(outputs), $\"[{{batch}}×{spec.OutputSize}] = {{batch * OutputSize}} elements for a batch of {{batch}}\", outputs.Length);");
            w.Line(code.Graph is { InputSpan: null }
                ? "// The layers read the batch from _activations[0], and Backward needs it after Forward returns."
                : "// Backward needs this batch after Forward returns, so it is copied; TrainStep and Predict read the caller's batch directly.");
            w.Line("inputs.CopyTo(_activations[0]);");
            w.Line($"RunForward(new {code.ReadOnlySpan}(_activations[0], 0, inputs.Length), batch);");
            w.Line("_batch = batch;");
            w.Line($"new {code.ReadOnlySpan}(_activations[{spec.Layers.Count}], 0, batch * OutputSize).CopyTo(outputs);");
            w.Close();
            w.Line();
            w.Line("/// <summary>Runs the network on one example; a vector of the wrong width does not compile.</summary>");
            w.Line("/// <param name=\"input\">The example.</param>");
            w.Line("/// <param name=\"output\">Receives the last layer's output.</param>");
            w.Open("public void Forward(InputVector input, OutputVector output)");
            w.Line("if (input == null) throw new global::System.ArgumentNullException(nameof(input));");
            w.Line("if (output == null) throw new global::System.ArgumentNullException(nameof(output));");
            w.Line("Forward(input.AsReadOnlySpan(), output.AsSpan());");
            w.Close();
            w.Line();
            if (code.Graph is not null)
            {
                return; // RunForward is the graph's (ModelEmitter.Network.cs)
            }

            w.Line("// Callers have checked that inputs holds exactly batch examples, 1 ≤ batch ≤ MaxBatchSize. The first layer reads inputs where");
            w.Line("// they are; the stored activations then belong to this pass, so Backward waits for the next Forward (or the caller's own pass).");
            w.Open($"private void RunForward({code.ReadOnlySpan} inputs, int batch)");
            w.Line("_batch = 0;");
            foreach (var layer in spec.Layers)
            {
                w.Line(layer.Index == 0
                    ? $"Layer0Forward(inputs, batch); // {layer.Describe()}"
                    : $"Layer{layer.Index}Forward(batch); // {layer.Describe()}");
            }

            w.Close();
            w.Line();
        }

        private static void WriteBackward(SourceWriter w, NetworkCode code)
        {
            NetworkSpec spec = code.Spec;
            int inputGradientBuffer = spec.Layers.Count % 2;
            w.Line("/// <summary>");
            w.Line("/// Backpropagates <paramref name=\"outputGradients\"/> (∂L/∂outputs of the last Forward) through every layer and adds");
            w.Line("/// ∂L/∂(each parameter) to <see cref=\"Gradients\"/>: per Linear layer <c>dW += dYᵀ·X</c>, <c>db += Σ_b dY[b,:]</c>, <c>dX = dY·W</c> (each layer's own docs give its rule).");
            w.Line("/// </summary>");
            w.Line($"/// <param name=\"outputGradients\">[B×{spec.OutputSize}], B as in the last Forward.</param>");
            w.Line($"public void Backward({code.ReadOnlySpan} outputGradients) => Backward(outputGradients, default);");
            w.Line();
            w.Line("/// <summary>As the overload without <paramref name=\"inputGradients\"/>, and also writes ∂L/∂inputs.</summary>");
            w.Line($"/// <param name=\"outputGradients\">[B×{spec.OutputSize}], B as in the last Forward.</param>");
            w.Line($"/// <param name=\"inputGradients\">Receives [B×{spec.InputSize}]; empty to skip it.</param>");
            w.Line("/// <exception cref=\"global::System.InvalidOperationException\">No Forward ran yet.</exception>");
            w.Open($"public void Backward({code.ReadOnlySpan} outputGradients, {code.Span} inputGradients)");
            w.Line("int batch = _batch;");
            w.Line("if (batch == 0) throw new global::System.InvalidOperationException(\"Backward uses the activations of the last Forward; call Forward first.\");");
            w.Line($"if (outputGradients.Length != batch * OutputSize) ThrowLengthMismatch(nameof(outputGradients), $\"[{{batch}}×{spec.OutputSize}] = {{batch * OutputSize}} elements, the batch of the last Forward\", outputGradients.Length);");
            w.Line($"if (inputGradients.Length != 0 && inputGradients.Length != batch * InputSize) ThrowLengthMismatch(nameof(inputGradients), $\"[{{batch}}×{spec.InputSize}] = {{batch * InputSize}} elements, or empty\", inputGradients.Length);");
            w.Line("outputGradients.CopyTo(_gradientScratch[0]);");
            w.Line($"RunBackward(new {code.ReadOnlySpan}(_activations[0], 0, batch * InputSize), batch, computeInputGradient: inputGradients.Length != 0, accumulateGradients: true);");
            w.Open("if (inputGradients.Length != 0)");
            w.Line($"new {code.ReadOnlySpan}(_gradientScratch[{inputGradientBuffer}], 0, batch * InputSize).CopyTo(inputGradients);");
            w.Close();
            w.Close();
            w.Line();

            if (code.Graph is not null)
            {
                return; // RunBackward is the graph's (ModelEmitter.Network.cs)
            }

            w.Line("// Starts from ∂L/∂(last output) in _gradientScratch[0]; each layer reads one scratch buffer and writes the other.");
            w.Line("// inputs is the batch the forward pass ran on (the first layer's X). accumulateGradients: add to Gradients (Backward)");
            w.Line("// or overwrite them (TrainStep, which then needs no separate pass to clear them).");
            w.Open($"private void RunBackward({code.ReadOnlySpan} inputs, int batch, bool computeInputGradient, bool accumulateGradients)");
            int current = 0;
            for (int l = spec.Layers.Count - 1; l >= 0; l--)
            {
                LayerSpec layer = spec.Layers[l];
                string from = $"_gradientScratch[{current}]", to = $"_gradientScratch[{1 - current}]";
                w.Line(layer.Definition.BackwardCall(code, layer, from, to));
                current = 1 - current;
            }

            w.Close();
            w.Line();
        }

        private static void WritePrediction(SourceWriter w, NetworkCode code)
        {
            NetworkSpec spec = code.Spec;
            string last = $"_activations[{spec.Layers.Count}]";
            w.Line("/// <summary>The index of the largest output for one example (the predicted class). Replaces the stored activations.</summary>");
            w.Line($"/// <param name=\"input\">{spec.InputSize} features.</param>");
            w.Open($"public int Predict({code.ReadOnlySpan} input)");
            w.Line("if (input.Length != InputSize) ThrowLengthMismatch(nameof(input), $\"{InputSize} features (one example)\", input.Length);");
            w.Line("RunForward(input, 1);");
            w.Line($"return ArgMax(new {code.ReadOnlySpan}({last}, 0, OutputSize));");
            w.Close();
            w.Line();
            w.Line("/// <summary>The predicted class of one example; a vector of the wrong width does not compile.</summary>");
            w.Line("/// <param name=\"input\">The example.</param>");
            w.Open("public int Predict(InputVector input)");
            w.Line("if (input == null) throw new global::System.ArgumentNullException(nameof(input));");
            w.Line("return Predict(input.AsReadOnlySpan());");
            w.Close();
            w.Line();
            w.Line("/// <summary>The predicted class of every example, in batches of <see cref=\"MaxBatchSize\"/>. Replaces the stored activations.</summary>");
            w.Line($"/// <param name=\"inputs\">[count×{spec.InputSize}] row-major.</param>");
            w.Line("/// <param name=\"predictions\">Receives one class per example.</param>");
            w.Open($"public void Predict({code.ReadOnlySpan} inputs, global::System.Span<int> predictions)");
            w.Line("int count = inputs.Length / InputSize;");
            w.Line("if (inputs.Length != count * InputSize) ThrowLengthMismatch(nameof(inputs), $\"whole examples of {InputSize} features\", inputs.Length);");
            w.Line("if (predictions.Length != count) ThrowLengthMismatch(nameof(predictions), $\"{count} predictions, one per example\", predictions.Length);");
            w.Open("for (int start = 0; start < count; start += MaxBatchSize)");
            w.Line("int batch = global::System.Math.Min(MaxBatchSize, count - start);");
            w.Line("RunForward(inputs.Slice(start * InputSize, batch * InputSize), batch);");
            w.Open("for (int b = 0; b < batch; b++)");
            w.Line($"predictions[start + b] = ArgMax(new {code.ReadOnlySpan}({last}, b * OutputSize, OutputSize));");
            w.Close();
            w.Close();
            w.Close();
            w.Line();
            WriteOutputsOfAnyCount(w, code, "Predict", "outputs", probabilities: null);
            LossDefinition? loss = spec.Loss == LossKind.None ? null : LayerCatalogue.Of(spec.Loss);
            if (loss != null && loss.HasProbabilities)
            {
                WriteOutputsOfAnyCount(w, code, "PredictProbabilities", "probabilities", loss);
            }

            w.Line("/// <summary>The fraction of examples whose predicted class equals the label. Allocates nothing; replaces the stored activations.</summary>");
            w.Line($"/// <param name=\"inputs\">[count×{spec.InputSize}] row-major.</param>");
            w.Line("/// <param name=\"labels\">One class per example.</param>");
            LossEmitter.OpenWithLabels(w, code, "double", "Accuracy", $"{code.ReadOnlySpan} inputs, ", string.Empty, "inputs, ", string.Empty, $"{LossEmitter.Cref(code.ReadOnlySpan)}, {{0}}", classLabels: true);
            w.Line("int count = labels.Length;");
            w.Line("if (count == 0) ThrowLengthMismatch(nameof(labels), \"at least one label\", 0);");
            w.Line("if (inputs.Length != count * InputSize) ThrowLengthMismatch(nameof(inputs), $\"[{count}×{InputSize}] = {count * InputSize} elements for {count} labels\", inputs.Length);");
            w.Line("CheckLabels(labels);");
            w.Line("int correct = 0;");
            w.Open("for (int start = 0; start < count; start += MaxBatchSize)");
            w.Line("int batch = global::System.Math.Min(MaxBatchSize, count - start);");
            w.Line("RunForward(inputs.Slice(start * InputSize, batch * InputSize), batch);");
            w.Open("for (int b = 0; b < batch; b++)");
            w.Line($"if (ArgMax(new {code.ReadOnlySpan}({last}, b * OutputSize, OutputSize)) == labels[start + b]) correct++;");
            w.Close();
            w.Close();
            w.Line();
            w.Line("return (double)correct / count;");
            w.Close();
            w.Line();
        }

        /// <summary>
        /// <c>Predict(inputs, outputs)</c>, the outputs of any number of examples (Forward is limited to <c>MaxBatchSize</c>
        /// rows), or with <paramref name="probabilities"/> <c>PredictProbabilities</c>, the loss's probabilities of them: the
        /// rows run in chunks of <c>MaxBatchSize</c>, each chunk's outputs copied to the caller's span (and turned into
        /// probabilities there, in place).
        /// </summary>
        private static void WriteOutputsOfAnyCount(SourceWriter w, NetworkCode code, string name, string parameter, LossDefinition? probabilities)
        {
            NetworkSpec spec = code.Spec;
            string last = $"_activations[{spec.Layers.Count}]";
            if (probabilities == null)
            {
                w.Line($"/// <summary>The outputs of any number of examples: what <see cref=\"Forward({LossEmitter.Cref(code.ReadOnlySpan)}, {LossEmitter.Cref(code.Span)})\"/> writes{(spec.Loss == LossKind.None ? string.Empty : $" (the scores {spec.Loss} is applied to)")},");
                w.Line("/// without its limit of <see cref=\"MaxBatchSize\"/> rows: the examples run in chunks of <see cref=\"MaxBatchSize\"/>, read where they are.");
                w.Line("/// Allocates nothing; replaces the stored activations, so Backward needs a new Forward.</summary>");
            }
            else
            {
                w.Line($"/// <summary>The probabilities of the classes for any number of examples: {probabilities.ProbabilitiesText} of the outputs");
                w.Line($"/// <see cref=\"Predict({LossEmitter.Cref(code.ReadOnlySpan)}, {LossEmitter.Cref(code.Span)})\"/> writes, in chunks of <see cref=\"MaxBatchSize\"/> examples; each row sums to 1.");
                w.Line("/// Allocates nothing; replaces the stored activations, so Backward needs a new Forward.</summary>");
            }

            w.Line($"/// <param name=\"inputs\">[count×{spec.InputSize}] row-major, any count (0 writes nothing).</param>");
            w.Line($"/// <param name=\"{parameter}\">Receives [count×{spec.OutputSize}] row-major{(probabilities == null ? string.Empty : ", one probability per class")}.</param>");
            w.Line($"/// <exception cref=\"global::System.ArgumentException\"><paramref name=\"inputs\"/> is not whole rows of {spec.InputSize}, or <paramref name=\"{parameter}\"/> does not hold {spec.OutputSize} values per example; nothing is written.</exception>");
            w.Open($"public void {name}({code.ReadOnlySpan} inputs, {code.Span} {parameter})");
            w.Line("int count = inputs.Length / InputSize;");
            w.Line("if (inputs.Length != count * InputSize) ThrowLengthMismatch(nameof(inputs), $\"whole examples of {InputSize} features, [count×{InputSize}] row-major\", inputs.Length);");
            w.Line($"if ({parameter}.Length != count * OutputSize) ThrowLengthMismatch(nameof({parameter}), $\"[{{count}}×{{OutputSize}}] = {{count * OutputSize}} elements for {{count}} examples\", {parameter}.Length);");
            w.Open("for (int start = 0; start < count; start += MaxBatchSize)");
            w.Line("int batch = global::System.Math.Min(MaxBatchSize, count - start);");
            w.Line("RunForward(inputs.Slice(start * InputSize, batch * InputSize), batch);");
            w.Line($"{code.Span} chunk = {parameter}.Slice(start * OutputSize, batch * OutputSize);");
            w.Line($"new {code.ReadOnlySpan}({last}, 0, batch * OutputSize).CopyTo(chunk);");
            if (probabilities != null)
            {
                w.Open("for (int b = 0; b < batch; b++)");
                w.Line($"{code.Span} row = chunk.Slice(b * OutputSize, OutputSize);");
                probabilities.WriteProbabilities(w, code);
                w.Close();
            }

            w.Close();
            w.Close();
            w.Line();
        }

        private static void WriteVector(SourceWriter w, NetworkCode code, string name, int length, string what)
        {
            string t = code.T;
            w.Line($"/// <summary>{what}: {length} values of {t}, on the heap. Its own type, so a vector of another width does not compile.</summary>");
            if (code.Spec.RuntimeKernels)
            {
                // The storage, indexer and spans live once in StaticGrad.Runtime; this type only fixes the width.
                w.Open($"public sealed class {name} : global::StaticGrad.Typed.FixedVector<{t}>");
                w.Line($"/// <summary>Values: {length}.</summary>");
                w.Line($"public const int Length = {length};");
                w.Line();
                w.Line("/// <summary>Creates a vector of zeros.</summary>");
                w.Line($"public {name}() : base(Length) {{ }}");
                w.Line();
                w.Line("/// <summary>Creates a vector holding a copy of <paramref name=\"values\"/>.</summary>");
                w.Line($"/// <param name=\"values\">{length} values.</param>");
                w.Line($"/// <exception cref=\"global::System.ArgumentException\"><paramref name=\"values\"/> does not hold {length} values.</exception>");
                w.Line($"public {name}({code.ReadOnlySpan} values) : base(Length, values) {{ }}");
                w.Close();
                w.Line();
                return;
            }

            w.Open($"public sealed class {name}");
            w.Line($"/// <summary>Values: {length}.</summary>");
            w.Line($"public const int Length = {length};");
            w.Line();
            w.Line($"private readonly {t}[] _elements;");
            w.Line();
            w.Line("/// <summary>Creates a vector of zeros.</summary>");
            w.Open($"public {name}()");
            w.Line($"_elements = new {t}[Length];");
            w.Close();
            w.Line();
            w.Line("/// <summary>Creates a vector holding a copy of <paramref name=\"values\"/>.</summary>");
            w.Line($"/// <param name=\"values\">{length} values.</param>");
            w.Open($"public {name}({code.ReadOnlySpan} values)");
            w.Line($"if (values.Length != Length) ThrowLengthMismatch(nameof(values), \"{length} values\", values.Length);");
            w.Line("_elements = values.ToArray();");
            w.Close();
            w.Line();
            w.Line("/// <summary>The value at <paramref name=\"index\"/>, by reference.</summary>");
            w.Line("/// <param name=\"index\">Zero-based, less than <see cref=\"Length\"/>.</param>");
            w.Line($"public ref {t} this[int index] => ref _elements[index];");
            w.Line();
            w.Line("/// <summary>The values, writable.</summary>");
            w.Line($"public {code.Span} AsSpan() => _elements;");
            w.Line();
            w.Line("/// <summary>The values, read-only.</summary>");
            w.Line($"public {code.ReadOnlySpan} AsReadOnlySpan() => _elements;");
            w.Close();
            w.Line();
        }

        /// <summary>The helpers every network has; only ArgMax's element type depends on the network.</summary>
        private static void WriteHelpers(SourceWriter w, NetworkCode code) => w.Lines($$"""
            private int CheckBatch(int length, string parameterName)
            {
                int batch = length / InputSize;
                if (batch == 0 || length != batch * InputSize) ThrowLengthMismatch(parameterName, $"a [B×{InputSize}] batch, row-major, with 1 ≤ B ≤ {MaxBatchSize}", length);
                if (batch > MaxBatchSize) ThrowLengthMismatch(parameterName, $"at most {MaxBatchSize} examples, that is ≤ {MaxBatchSize * InputSize} elements (to take batches of {batch}, construct the network with maxBatchSize: {batch} or more)", length);
                return batch;
            }

            /// <summary>Class labels as the caller stores them (int, byte or ushort), read in place: the public overloads wrap their span, one body reads it.</summary>
            private readonly ref struct LabelSpan
            {
                private readonly global::System.ReadOnlySpan<byte> _bytes;
                private readonly int _size;

                public LabelSpan(global::System.ReadOnlySpan<byte> bytes, int size) { _bytes = bytes; _size = size; }

                public int Length => _bytes.Length / _size;

                public int this[int index] => _size == 4
                    ? global::System.Runtime.InteropServices.MemoryMarshal.Read<int>(_bytes.Slice(index * 4))
                    : _size == 1 ? _bytes[index] : global::System.Runtime.InteropServices.MemoryMarshal.Read<ushort>(_bytes.Slice(index * 2));

                public LabelSpan Slice(int start, int length) => new LabelSpan(_bytes.Slice(start * _size, length * _size), _size);
            }

            private static LabelSpan Labels(global::System.ReadOnlySpan<int> labels) => new LabelSpan(global::System.Runtime.InteropServices.MemoryMarshal.AsBytes(labels), 4);

            private static LabelSpan Labels(global::System.ReadOnlySpan<byte> labels) => new LabelSpan(labels, 1);

            private static LabelSpan Labels(global::System.ReadOnlySpan<ushort> labels) => new LabelSpan(global::System.Runtime.InteropServices.MemoryMarshal.AsBytes(labels), 2);

            // Every label is checked before anything runs, so a bad one changes nothing.
            private static void CheckLabels(LabelSpan labels)
            {
                for (int b = 0; b < labels.Length; b++)
                {
                    if ((uint)labels[b] >= OutputSize)
                    {
                        throw new global::System.ArgumentOutOfRangeException(nameof(labels), labels[b], $"labels[{b}] must be a class in [0, {OutputSize}).");
                    }
                }
            }

            private static int ArgMax({{code.ReadOnlySpan}} values)
            {
                int best = 0;
                for (int j = 1; j < values.Length; j++)
                {
                    if (values[j] > values[best]) best = j;
                }

                return best;
            }

            // Throwing lives in its own method so the methods that check stay small.
            private static void ThrowLengthMismatch(string parameterName, string expected, int actual)
            {
                throw new global::System.ArgumentException($"{parameterName} must hold {expected}, but has length {actual}.", parameterName);
            }
            """);
    }
}
