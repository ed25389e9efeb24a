using StaticGrad.Generators.Helpers;
using StaticGrad.Generators.Model;

namespace StaticGrad.Generators.Graph
{
    /// <summary>
    /// One node of a model's graph: an op applied to earlier nodes' values. Nodes are in topological order (every input
    /// has a smaller id), and a value may feed several nodes (a residual connection, a shared input).
    /// </summary>
    /// <param name="Id">Position in <see cref="GraphSpec.Nodes"/>; the generated buffers are named after it.</param>
    /// <param name="Op">The op's key in <see cref="Ops.OpCatalogue"/> (<c>Conv2d</c>, <c>Add</c>, …).</param>
    /// <param name="Inputs">The ids of the nodes whose values the op reads.</param>
    /// <param name="Shape">The value's shape per example (the batch dimension left out).</param>
    /// <param name="Settings">The op's settings (kernel, stride, …), as its definition reads them.</param>
    /// <param name="Module">The module whose Forward this is (<c>block1.conv1</c>), its index in <see cref="GraphSpec.Modules"/>, or −1.</param>
    /// <param name="Source">The C# expression the node came from, with its line, for the generated comments.</param>
    internal sealed record GraphNode(
        int Id,
        string Op,
        EquatableArray<int> Inputs,
        EquatableArray<int> Shape,
        OpSettings Settings,
        int Module,
        string Source)
    {
        /// <summary>Values per example.</summary>
        public int Size => Shapes.Size(Shape);
    }

    /// <summary>An op's settings: whole numbers, real numbers and one text, in the order its definition gives them.</summary>
    internal readonly record struct OpSettings(EquatableArray<int> Ints, EquatableArray<double> Reals, string Text)
    {
        public static OpSettings None => new(EquatableArray.Empty<int>(), EquatableArray.Empty<double>(), string.Empty);

        public int Int(int index) => Ints[index];

        public double Real(int index) => Reals[index];
    }

    /// <summary>One module object of the model's tree that holds parameters or state (<c>block1.bn1</c>, a BatchNorm2d).</summary>
    /// <param name="Path">PyTorch's dotted name of the module.</param>
    /// <param name="Op">The op its Forward is.</param>
    /// <param name="Settings">What its constructor was given.</param>
    /// <param name="Display">How it was written: <c>Conv2d(4, 4, 3, padding: 1, bias: false)</c>.</param>
    internal sealed record ModuleEntry(string Path, string Op, OpSettings Settings, string Display);

    /// <summary>How a parameter starts, as PyTorch initialises it.</summary>
    internal enum InitKind
    {
        /// <summary>U(−bound, bound) with bound = 1/√fan-in (PyTorch's Linear and Conv2d, weight and bias).</summary>
        UniformFanIn,

        /// <summary>All ones (normalisation weights, running variances).</summary>
        Ones,

        /// <summary>All zeros.</summary>
        Zeros,

        /// <summary>N(0, 1): PyTorch's Embedding weight.</summary>
        Normal,
    }

    /// <summary>A named tensor of the model's state: a parameter, a float buffer, or (with an empty shape) a counter.</summary>
    /// <param name="Name">PyTorch's <c>state_dict</c> name (<c>block1.conv1.weight</c>).</param>
    /// <param name="Shape">Its shape (outermost first).</param>
    /// <param name="Offset">Where it starts in the flat array of its kind.</param>
    /// <param name="IsWeight">Whether weight decay applies (weights, not biases or normalisation parameters).</param>
    /// <param name="Init">How it starts.</param>
    /// <param name="FanIn">The fan-in that <see cref="InitKind.UniformFanIn"/> scales by.</param>
    internal readonly record struct StateTensor(string Name, EquatableArray<int> Shape, int Offset, bool IsWeight, InitKind Init, int FanIn)
    {
        public int Count => Shapes.Size(Shape);
    }

    /// <summary>A model input: its parameter name in <c>Forward</c>, its shape per example, and whether it holds token ids (ints).</summary>
    internal readonly record struct GraphInput(string Name, EquatableArray<int> Shape, int Node, bool Tokens);

    /// <summary>
    /// A value <c>Forward</c> returns: the node, and the name its span parameters take (<c>outputs</c> for a model of one
    /// output; for a tuple, the element's name in camel case, or <c>output1</c>, <c>output2</c>, … where it has none).
    /// </summary>
    internal readonly record struct GraphOutput(string Name, int Node);

    /// <summary>Everything the emitter needs to write a <c>[Model]</c> class.</summary>
    /// <param name="Type">Where the generated code goes.</param>
    /// <param name="Inputs">The inputs, in <c>Forward</c>'s parameter order.</param>
    /// <param name="Nodes">The graph, in topological order.</param>
    /// <param name="Outputs">The values Forward returns: one, or the elements of the tuple it returns, in order.</param>
    /// <param name="Modules">The module objects that hold state, each once (a module called twice shares its parameters).</param>
    /// <param name="Parameters">The trainable tensors, in the flat parameter array's order.</param>
    /// <param name="Buffers">Float state that is not trained (running statistics).</param>
    /// <param name="Counters">Integer state (<c>num_batches_tracked</c>).</param>
    /// <param name="Loss">The loss in <c>[Model(Loss = …)]</c>.</param>
    /// <param name="HasUserConstructor">Whether the class declares a parameterless constructor the generated one must call.</param>
    /// <param name="NullableDirective">Whether <c>#nullable enable</c> may be written.</param>
    internal sealed record GraphSpec(
        TypeHierarchy Type,
        EquatableArray<GraphInput> Inputs,
        EquatableArray<GraphNode> Nodes,
        EquatableArray<GraphOutput> Outputs,
        EquatableArray<ModuleEntry> Modules,
        EquatableArray<StateTensor> Parameters,
        EquatableArray<StateTensor> Buffers,
        EquatableArray<StateTensor> Counters,
        LossKind Loss,
        bool HasUserConstructor,
        bool NullableDirective)
    {
        public int ParameterCount => Total(Parameters);

        public int BufferCount => Total(Buffers);

        /// <summary>The node of the first (for most models the only) output.</summary>
        public int Output => Outputs[0].Node;

        /// <summary>The first (for most models the only) output's node.</summary>
        public GraphNode OutputNode => Nodes[Output];

        /// <summary>Whether Forward returns one value (the losses, the interfaces and the class predictions need one).</summary>
        public bool SingleOutput => Outputs.Count == 1;

        /// <summary>MulticlassSvm's margin Δ (1 for a <c>[Model]</c>, as <c>Loss.MulticlassSvm</c> documents).</summary>
        public double Margin { get; init; } = 1.0;

        /// <summary>Whether the loss compares the outputs with class labels (softmax cross-entropy or the multiclass SVM loss).</summary>
        public bool HasClassLabels => Loss is LossKind.SoftmaxCrossEntropy or LossKind.MulticlassSvm;

        /// <summary>The element type of the generated state, activations and spans: float, or double for <c>[Model&lt;double&gt;]</c>.</summary>
        public ElementKind Element { get; init; } = ElementKind.Float;

        /// <summary>
        /// For a model imported by <c>[FromOnnx]</c>: the file as the attribute names it, and the state it starts with (the
        /// parameters then the buffers, in their flat arrays' order); null and empty for a model written in C#.
        /// </summary>
        public string? ImportedFrom { get; init; }

        /// <summary>The initial parameters then buffers of an imported model (see <see cref="ImportedFrom"/>).</summary>
        public EquatableArray<float> ImportedState { get; init; } = EquatableArray.Empty<float>();

        private static int Total(EquatableArray<StateTensor> tensors) =>
            tensors.Count == 0 ? 0 : tensors[tensors.Count - 1].Offset + tensors[tensors.Count - 1].Count;
    }

    /// <summary>A <c>[Module]</c> class: what the generated partial needs to list its children for the eager run time.</summary>
    /// <param name="Type">Where the generated code goes.</param>
    /// <param name="Children">Fields holding modules, in declaration order: name and whether it is an array.</param>
    /// <param name="NullableDirective">Whether <c>#nullable enable</c> may be written.</param>
    internal sealed record ModuleSpec(TypeHierarchy Type, EquatableArray<ModuleChild> Children, bool NullableDirective);

    /// <summary>A field of a module class that holds a module or an array of modules, or a <c>Parameter</c> (or an array of them).</summary>
    internal readonly record struct ModuleChild(string Field, bool IsArray, bool IsParameter);
}
