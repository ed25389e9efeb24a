using StaticGrad.Generators.Emit;
using StaticGrad.Generators.Emit.Network;
using StaticGrad.Generators.Model;
using StaticGrad.Generators.Parsing;

namespace StaticGrad.Generators.Catalogue
{
    /// <summary>
    /// One loss, in one file: its attribute and settings, what it compares the outputs with (class labels or target
    /// values), the smallest output it makes sense on, its formula for the docs, and the writer of its value and gradient.
    /// <see cref="LossEmitter"/> writes what every loss shares (ComputeLoss, TrainStep, EvaluateLoss) around it.
    /// </summary>
    internal abstract class LossDefinition
    {
        /// <summary>The key specs refer to the loss by.</summary>
        public abstract LossKind Kind { get; }

        /// <summary>The attribute's name without <c>Attribute</c>.</summary>
        public abstract string Name { get; }

        /// <summary>Whether the loss compares outputs with class labels (int, byte, ushort) rather than with target values.</summary>
        public virtual bool TakesLabels => true;

        /// <summary>The fewest outputs the loss makes sense on (SGR0012 below that); 0 for any.</summary>
        public virtual int MinimumWidth => 2;

        /// <summary>Reads the attribute's settings, reporting bad ones on their argument; returns the margin (the only setting so far).</summary>
        public virtual double ParseMargin(NetworkChain chain, NetworkEntry entry) => 1.0;

        /// <summary>How the loss reads in the architecture text.</summary>
        public virtual string Describe(NetworkSpec spec) => Name;

        /// <summary>The loss and its gradient as formulas, for the docs of ComputeLoss.</summary>
        public abstract string Formula(NetworkCode code);

        /// <summary>Whether the loss defines class probabilities of the outputs (softmax for cross-entropy): the network then gets <c>PredictProbabilities</c>.</summary>
        public virtual bool HasProbabilities => false;

        /// <summary>How the probabilities come from the outputs, in words for the docs ("the softmax").</summary>
        public virtual string ProbabilitiesText => string.Empty;

        /// <summary>Turns the outputs in <c>row</c> (a <c>Span</c> of one example's outputs) into probabilities in place; only when <see cref="HasProbabilities"/>.</summary>
        public virtual void WriteProbabilities(SourceWriter w, NetworkCode code)
        {
        }

        /// <summary>
        /// The body of <c>RunLoss</c> after <c>bool withGradient</c> and <c>double total = 0;</c>: adds each example's loss to
        /// <c>total</c>, writes ∂L/∂outputs into <c>outputGradients</c> when <c>withGradient</c>, and ends with the return of the mean.
        /// </summary>
        public abstract void WriteLoss(SourceWriter w, NetworkCode code);
    }
}
