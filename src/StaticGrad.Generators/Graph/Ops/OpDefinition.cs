using System.Collections.Generic;
using StaticGrad.Generators.Emit;
using StaticGrad.Generators.Emit.Graph;
using StaticGrad.Generators.Helpers;

namespace StaticGrad.Generators.Graph.Ops
{
    /// <summary>
    /// One op of the graph, in one file: how a C# forward pass calls it (a module class, a <c>Functional</c> method, a
    /// <c>Tensor</c> member or operator), how it reads its constant arguments, the state it owns with PyTorch's names and
    /// initialisation, its shape rule with the errors in words, and the writers of its forward and backward passes over
    /// StaticGrad.Runtime's kernels. The front end and the emitters only loop over <see cref="OpCatalogue"/>: adding an op
    /// is a new subclass listed there.
    /// </summary>
    internal abstract class OpDefinition
    {
        /// <summary>The key nodes refer to the op by (<c>Conv2d</c>, <c>Add</c>).</summary>
        public abstract string Key { get; }

        /// <summary>The StaticGrad module class whose <c>Forward</c> is this op (<c>Conv2d</c>), or null.</summary>
        public virtual string? ModuleClass => null;

        /// <summary>The <c>StaticGrad.Functional</c> method that is this op (<c>Relu</c>), or null.</summary>
        public virtual string? Function => null;

        /// <summary>The <c>StaticGrad.Tensor</c> method (<c>Flatten</c>) or operator (<c>op_Addition</c>) that is this op, or null.</summary>
        public virtual string? TensorMember => null;

        /// <summary>How many tensor inputs the op takes; −1 for any number of at least one (Concat).</summary>
        public virtual int Arity => 1;

        /// <summary>Whether the backward pass writes the input's gradient even when nothing needs it (the emitter then gives it scratch).</summary>
        public virtual bool AlwaysWritesInputGradient => false;

        /// <summary>
        /// Whether the backward pass can add the first input's gradient to what other uses of that value already wrote, instead
        /// of overwriting it (<see cref="Emit.Graph.GraphCode.Accumulates"/> says when): a value used twice then needs no scratch
        /// buffer and no separate addition.
        /// </summary>
        public virtual bool AccumulatesInputGradient => false;

        /// <summary>The output shares the input's memory (Flatten, Reshape): no forward code, and the backward copies.</summary>
        public virtual bool IsView => false;

        /// <summary>
        /// For an element-wise activation another op can apply in its own pass (<c>Relu</c>): its name, else null. When this
        /// op's only input is the value of an op that <see cref="FoldsActivation"/> it, and nothing else reads that value, the
        /// emitter folds it in: the producer writes this node's value and reads this node's gradient, and this node's
        /// methods are not written (the graph, its comments and its ONNX nodes keep it).
        /// </summary>
        public virtual string? FoldableActivation => null;

        /// <summary>
        /// Whether this op's writers apply <paramref name="activation"/> to <paramref name="node"/>'s value themselves when <see cref="GraphCode.FoldedActivation"/>
        /// names a node for it: the forward pass writes that node's value, the backward pass reads that node's gradient and
        /// lets it through only where the activation's output says.
        /// </summary>
        public virtual bool FoldsActivation(GraphCode code, GraphNode node, string activation) => false;

        /// <summary>
        /// Whether this op, with an activation folded in (<see cref="FoldsActivation"/>), also computes <paramref name="pool"/>'s
        /// forward pass when that pooling is the activation's only reader: in training it writes the pooled values (and what
        /// their backward needs) without storing the activation's, which the backward passes then do not read. The pooling
        /// node keeps its backward method.
        /// </summary>
        public virtual bool FoldsPool(GraphCode code, GraphNode node, GraphNode pool) => false;

        /// <summary>
        /// Whether this op, with a pooling folded in (<see cref="FoldsPool"/>), also computes <paramref name="producer"/>'s
        /// weight and bias gradients in its training backward pass, when this op alone reads the producer's value and no
        /// backward pass but the one on to the model's input needs the producer's input gradient: the gradient of the
        /// producer's value is then never stored. The producer's backward method then runs only in evaluation; the pass on to
        /// the model's input writes both ops' ToInput methods, which do not fold.
        /// </summary>
        public virtual bool FoldsWeightGradient(GraphCode code, GraphNode node, GraphNode producer) => false;

        /// <summary>
        /// Whether <paramref name="node"/> adds its two operands element-wise, both of its own shape: the end of a residual
        /// connection, which the producer of one operand may compute in its own passes (<see cref="FoldsResidual"/>).
        /// </summary>
        public virtual bool IsPlainAddition(GraphCode code, GraphNode node) => false;

        /// <summary>
        /// Whether this op's writers, when <see cref="GraphCode.FoldedResidual"/> gives <paramref name="add"/> (a
        /// <see cref="IsPlainAddition"/> node whose other operand was computed before <paramref name="node"/>, and the only
        /// reader of <paramref name="node"/>'s value), write the sum (or the addition's folded activation) instead of their own
        /// value, and in backward read its gradient and write the other operand's gradient too. The emitter checks that the
        /// routing allows it; the results must be the same to the bit.
        /// </summary>
        public virtual bool FoldsResidual(GraphCode code, GraphNode node, GraphNode add) => false;

        /// <summary>A model input: the caller fills its value; nothing computes it and no gradient flows into it.</summary>
        public virtual bool IsInput => false;

        /// <summary>Whether the backward writer honours <see cref="GraphCode.ReplaceGradientsOf"/> (writes its parameters' gradients instead of adding when that flag is true).</summary>
        public virtual bool ReplacesParameterGradients => false;

        /// <summary>
        /// Whether the writers read their inputs' values only through <see cref="GraphCode.ValueSpan"/>,
        /// <see cref="GraphCode.ValueRef"/> and <see cref="GraphCode.ValueSlice"/>, never as an array: an input may then be the
        /// caller's span (<see cref="GraphCode.InputSpan"/>), and a lowered network's first layer reads the batch in place.
        /// </summary>
        public virtual bool ReadsInputsAsSpans => false;

        /// <summary>The value holds ints (token ids), not floats: only ops that index by it read it, and it has no gradient.</summary>
        public virtual bool HoldsIntegers => false;

        /// <summary>
        /// For an op that reads an int input as indices (Embedding): how many rows they index, so the generated code checks
        /// every id against it before anything runs; null for other ops.
        /// </summary>
        public virtual int? IndexLimit(OpSettings settings) => null;

        /// <summary>
        /// For a module whose <c>Forward</c> returns a C# tuple (GRU's output sequence and final states): the parts of the
        /// node's value it returns, each a range of rows of dimension 0, nested as the tuple is. Null: Forward returns the value.
        /// </summary>
        public virtual OutputParts? Parts(OpSettings settings, EquatableArray<int> shape) => null;

        /// <summary>
        /// Reads the op's constant arguments (a module's constructor arguments, or a function's arguments besides its
        /// tensors). Reports what is wrong through <paramref name="arguments"/>.
        /// </summary>
        public virtual OpSettings ReadSettings(IOpArguments arguments) => OpSettings.None;

        /// <summary>The state of a module of this op: parameters, float buffers and counters, named as in PyTorch.</summary>
        public virtual IEnumerable<StateDeclaration> State(OpSettings settings)
        {
            yield break;
        }

        /// <summary>
        /// The shape of the output from the inputs' shapes (per example), or null after reporting through
        /// <paramref name="errors"/> why they do not fit.
        /// </summary>
        public abstract EquatableArray<int>? InferShape(OpSettings settings, IReadOnlyList<EquatableArray<int>> inputs, IShapeErrors errors);

        /// <summary>How the op reads in messages and comments: <c>Conv2d(4, 4, 3, padding: 1)</c>, <c>Relu</c>.</summary>
        public virtual string Describe(OpSettings settings) => Key;

        /// <summary>The formula of the forward pass, for the generated comments (<c>y = max(x, 0)</c>).</summary>
        public abstract string Formula { get; }

        /// <summary>The formula of the backward pass, for the generated comments.</summary>
        public abstract string BackwardFormula { get; }

        /// <summary>What nodes of the same shape share (kernel shape structs), once per file: <paramref name="written"/> remembers names.</summary>
        public virtual void WriteShared(SourceWriter w, GraphCode code, GraphNode node, HashSet<string> written)
        {
        }

        /// <summary>Fields the op's node needs (scratch, recorded indices), named <c>_node{id}…</c>.</summary>
        public virtual void WriteFields(SourceWriter w, GraphCode code, GraphNode node)
        {
        }

        /// <summary>Constructor statements allocating those fields (<c>maxBatchSize</c> is in scope).</summary>
        public virtual void WriteAllocation(SourceWriter w, GraphCode code, GraphNode node)
        {
        }

        /// <summary>The body of <c>Node{id}Forward(int batch)</c>; <c>_training</c> says which mode.</summary>
        public abstract void WriteForward(SourceWriter w, GraphCode code, GraphNode node);

        /// <summary>
        /// The body of <c>Node{id}Backward(int batch)</c>: from the output's gradient <see cref="GraphCode.Gradient"/>, add to
        /// the parameter gradients and overwrite the input gradients where <paramref name="inputGradients"/> names a buffer
        /// (null: not needed).
        /// </summary>
        public abstract void WriteBackward(SourceWriter w, GraphCode code, GraphNode node, IReadOnlyList<string?> inputGradients);

        /// <summary>
        /// The op in evaluation mode as ONNX nodes (for the model's <c>OnnxGraph</c> and <c>ExportOnnx</c>): reads
        /// <see cref="OnnxBuilder.Input"/>, writes <see cref="OnnxBuilder.Output"/>, with the batch as ONNX's dimension 0 in
        /// front of the shapes per example. State tensors and constants become initializers through the builder.
        /// </summary>
        public abstract void WriteOnnx(OnnxBuilder onnx, GraphNode node);

        /// <summary>
        /// The ONNX operator types (default domain) that <c>[FromOnnx]</c> lowers into this op, each claimed by one op only
        /// (<see cref="OpCatalogue.ForOnnx"/>); the op's <see cref="ImportOnnx"/> then reads the node.
        /// </summary>
        public virtual IEnumerable<string> OnnxImports => System.Array.Empty<string>();

        /// <summary>
        /// Lowers the ONNX node <see cref="IOnnxImport.Node"/> (of a type in <see cref="OnnxImports"/>) into graph nodes through
        /// <paramref name="import"/>: reads its inputs, constants and attributes, adds nodes with their settings and state, and
        /// names what it cannot import through <see cref="IOnnxImport.Unsupported"/>. The reverse of <see cref="WriteOnnx"/>.
        /// </summary>
        public virtual void ImportOnnx(IOnnxImport import)
        {
        }
    }

    /// <summary>What a module's tuple-returning <c>Forward</c> gives: a range of rows of its value, or a tuple of parts.</summary>
    internal sealed class OutputParts
    {
        private OutputParts(int start, int length, IReadOnlyList<OutputParts>? items)
        {
            Start = start;
            Length = length;
            Items = items;
        }

        /// <summary>The first row of a leaf part.</summary>
        public int Start { get; }

        /// <summary>How many rows a leaf part has.</summary>
        public int Length { get; }

        /// <summary>The elements of a tuple part; null for a leaf.</summary>
        public IReadOnlyList<OutputParts>? Items { get; }

        public static OutputParts Rows(int start, int length) => new(start, length, null);

        public static OutputParts Tuple(params OutputParts[] items) => new(0, 0, items);
    }

    /// <summary>A tensor a module owns.</summary>
    internal enum StateKind
    {
        Parameter,
        Buffer,
        Counter,
    }

    /// <summary>One tensor of a module's state: its name under the module (<c>weight</c>), shape, kind and initialisation.</summary>
    internal readonly record struct StateDeclaration(string Name, StateKind Kind, EquatableArray<int> Shape, InitKind Init, int FanIn, bool IsWeight);

    /// <summary>The constant arguments of a module construction or a function call, by parameter name.</summary>
    internal interface IOpArguments
    {
        /// <summary>A constant <c>int</c> argument; reports and returns 0 when it is not one.</summary>
        int Int(string name);

        /// <summary>A constant real argument (<c>double</c> or <c>float</c>, or an int).</summary>
        double Real(string name);

        /// <summary>A constant <c>bool</c> argument.</summary>
        bool Bool(string name);

        /// <summary>A constant string argument.</summary>
        string Text(string name);

        /// <summary>Constant ints given as a <c>params int[]</c> argument or an array of constants.</summary>
        int[] Ints(string name);

        /// <summary>Reports an error on element <paramref name="element"/> of an argument read by <see cref="Ints"/>.</summary>
        void Error(string name, int element, string message);

        /// <summary>Reports an error on the argument <paramref name="name"/> (on the whole call when it was left to its default).</summary>
        void Error(string name, string message);
    }

    /// <summary>Where a shape error goes: the call or operator expression that gave the op its inputs.</summary>
    internal interface IShapeErrors
    {
        void Error(string message);

        /// <summary>
        /// An error that one number repairs: the module's constructor argument <paramref name="argument"/> should be
        /// <paramref name="expected"/> (a code fix offers it where the argument is written).
        /// </summary>
        void Error(string message, string argument, int expected);
    }
}
