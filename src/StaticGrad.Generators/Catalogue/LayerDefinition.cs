using StaticGrad.Generators.Emit;
using StaticGrad.Generators.Emit.Network;
using StaticGrad.Generators.Graph;
using StaticGrad.Generators.Graph.Ops;
using StaticGrad.Generators.Model;
using StaticGrad.Generators.Parsing;

namespace StaticGrad.Generators.Catalogue
{
    /// <summary>
    /// One kind of layer, in one file: its attribute, how the attribute's arguments are checked (with their diagnostics),
    /// how it changes the shape, how it is described, and the writers of its forward and backward passes. The parser and
    /// the network emitter loop over <see cref="LayerCatalogue"/>; adding a layer is a new subclass, its
    /// <see cref="LayerKind"/> and its attribute.
    /// </summary>
    /// <summary>A layer as a node of the model graph: its op and the op's settings.</summary>
    internal readonly record struct LoweredLayer(OpDefinition Op, OpSettings Settings)
    {
        /// <summary>An op without settings (ReLU, Flatten).</summary>
        public static LoweredLayer Plain(OpDefinition op) => new(op, OpSettings.None);

        /// <summary>An op of whole-number settings, in the order its definition reads them.</summary>
        public static LoweredLayer Ints(OpDefinition op, params int[] values) =>
            new(op, new OpSettings(Helpers.EquatableArray.Of(values), Helpers.EquatableArray.Empty<double>(), string.Empty));
    }

    internal abstract class LayerDefinition
    {
        /// <summary>The key specs refer to the definition by (specs stay plain values, so caching holds).</summary>
        public abstract LayerKind Kind { get; }

        /// <summary>The attribute's name without <c>Attribute</c>: <c>Linear</c>, <c>ReLU</c>.</summary>
        public abstract string Name { get; }

        /// <summary>Whether the attribute may carry the element type (<c>Linear&lt;double&gt;</c>).</summary>
        public virtual bool HasGenericForm => false;

        /// <summary>
        /// Reads one attribute of the chain into <paramref name="chain"/>: checks its arguments and that it fits what the
        /// previous layer produces, reports what is wrong where it is, and appends the layer.
        /// </summary>
        /// <returns><see langword="false"/> when the attribute cannot be read at all and the network gets no code.</returns>
        public abstract bool Parse(NetworkChain chain, NetworkEntry entry, int index);

        /// <summary>
        /// The op of the model graph this layer is (Graph/Ops/…) and its settings. Where StaticGrad.Runtime is referenced the
        /// network is lowered onto that graph (<see cref="NetworkLowering"/>) and its passes are the ops' own; the writers below
        /// serve only targets without the runtime (netstandard2.0), for the layers that run there. Null for a definition that
        /// is no layer of its own (<c>Input</c>).
        /// </summary>
        public virtual LoweredLayer? Lower(LayerSpec layer) => null;

        /// <summary>How the layer reads in docs, architecture text and messages: <c>Linear(64, 32)</c>, <c>ReLU</c>.</summary>
        public abstract string Describe(LayerSpec layer);

        /// <summary>
        /// Writes <c>Layer{i}Forward</c>, the layer's output from its input, in plain loops: only for targets without
        /// StaticGrad.Runtime (where <see cref="NeedsRuntime"/> layers are refused), since with it the op of
        /// <see cref="Lower"/> writes the pass.
        /// </summary>
        public virtual void WriteForward(SourceWriter w, NetworkCode code, LayerSpec layer)
        {
        }

        /// <summary>Writes <c>Layer{i}Backward</c>, the gradients of its input (and parameters) from those of its output: as <see cref="WriteForward"/>, without the runtime only.</summary>
        public virtual void WriteBackward(SourceWriter w, NetworkCode code, LayerSpec layer)
        {
        }

        /// <summary>Whether the layer has weights (and perhaps biases) in the network's flat parameters.</summary>
        public virtual bool HasParameters => false;

        /// <summary>How many weights the layer has (0 without parameters); they come first in its slice of the flat parameters.</summary>
        public virtual int WeightCount(LayerSpec layer) => 0;

        /// <summary>How many biases follow the weights (0 without parameters or with <c>Bias = false</c>).</summary>
        public virtual int BiasCount(LayerSpec layer) => 0;

        /// <summary>Inputs that feed one output: what initialisation scales by.</summary>
        public virtual int FanIn(LayerSpec layer) => layer.Inputs;

        /// <summary>Outputs one input feeds.</summary>
        public virtual int FanOut(LayerSpec layer) => layer.Outputs;

        /// <summary>The weights' shape as the docs give it, in PyTorch's order: <c>32×64</c>.</summary>
        public virtual string WeightShapeText(LayerSpec layer) => $"{layer.Outputs}×{layer.Inputs}";

        /// <summary>What the layer produces per example as the docs give it: the image (<c>8×13×13</c>) or the width.</summary>
        public virtual string OutputText(LayerSpec layer) =>
            layer.Out.IsImage ? layer.Out.ToString() : layer.Outputs.ToString(System.Globalization.CultureInfo.InvariantCulture);

        /// <summary>
        /// Element-wise (the activations, Dropout): the width and image pass through, so messages keep explaining the width
        /// as the layer before did and the image trace gets no step.
        /// </summary>
        public virtual bool IsElementwise => false;

        /// <summary>Whether the layer with weights before this one is initialised for it with He's rule (ReLU) instead of Xavier's.</summary>
        public virtual bool WantsHeInitialisation => false;

        /// <summary>Whether the layer drops values in TrainStep (Dropout): the network then keeps a training flag and a random stream.</summary>
        public virtual bool DropsInTraining => false;

        /// <summary>Whether generated code for the layer needs StaticGrad.Runtime (.NET 8+); such layers are SGR0020 without it.</summary>
        public virtual bool NeedsRuntime => false;

        /// <summary>The statement in <c>RunBackward</c> that runs the layer's backward pass from gradient buffer <paramref name="from"/> into <paramref name="to"/>.</summary>
        public virtual string BackwardCall(NetworkCode code, LayerSpec layer, string from, string to) =>
            $"Layer{layer.Index}Backward(batch, {from}, {to}); // {Describe(layer)}";
    }
}
