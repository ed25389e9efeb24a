using System;
using System.Diagnostics;

namespace StaticGrad
{
    /// <summary>
    /// Marks a partial class as a reusable module whose <c>Forward</c> is written in ordinary C#, PyTorch-style:
    /// its fields hold child modules (<c>Linear</c>, <c>Conv2d</c>, <c>BatchNorm2d</c>, other <c>[Module]</c> classes, or arrays of them)
    /// and its <c>Forward(Tensor x)</c> combines them with the functions of <c>StaticGrad.Functional</c>.
    /// </summary>
    /// <remarks>
    /// <para>StaticGrad adds a partial part that derives the class from <c>StaticGrad.Module</c> and lists its children in field
    /// declaration order, so <c>NamedParameters()</c> gives PyTorch's <c>state_dict</c> names (<c>conv1.weight</c>, <c>bn1.running_mean</c>, ...).
    /// The class then runs eagerly (each call computes on <c>Tensor</c>s) and can be used inside a <see cref="ModelAttribute"/> class.</para>
    /// <para>A module has no loss and no optimizer of its own; mark the top-level class with <see cref="ModelAttribute"/> to train it.</para>
    /// </remarks>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
    [Conditional("STATICGRAD_KEEP_ATTRIBUTES")]
    public sealed class ModuleAttribute : Attribute
    {
    }

    /// <summary>
    /// Marks a partial class as a trainable model whose <c>Forward</c> is written in C#: a <see cref="ModuleAttribute"/> module
    /// with a loss. Its <c>Forward</c> parameter carries a <see cref="ShapeAttribute"/> giving the per-example input shape.
    /// </summary>
    /// <remarks>
    /// Example: <c>[Model(Loss = Loss.SoftmaxCrossEntropy)] public partial class Net { ... public Tensor Forward([Shape(1, 28, 28)] Tensor x) ... }</c>.
    /// </remarks>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
    [Conditional("STATICGRAD_KEEP_ATTRIBUTES")]
    public sealed class ModelAttribute : Attribute
    {
        /// <summary>The loss that training minimises on the output of <c>Forward</c>; <see cref="StaticGrad.Loss.None"/> by default.</summary>
        public Loss Loss { get; set; } = Loss.None;
    }

    /// <summary>
    /// A <see cref="ModelAttribute"/> model computed in element type <typeparamref name="T"/>: <c>[Model&lt;double&gt;(Loss = ...)]</c>
    /// keeps its parameters, activations and gradients in <see cref="double"/> (PyTorch's <c>model.double()</c>), for
    /// gradient checks and problems that float's 7 digits do not serve. Its generated members take spans of
    /// <typeparamref name="T"/>; the module fields' eager view (<c>NamedParameters()</c>, the class's own <c>Forward(Tensor)</c>)
    /// stays float and reads the model's current values.
    /// </summary>
    /// <typeparam name="T"><see cref="float"/> (the same as <see cref="ModelAttribute"/>) or <see cref="double"/>; anything else is SGR0007.</typeparam>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
    [Conditional("STATICGRAD_KEEP_ATTRIBUTES")]
    public sealed class ModelAttribute<T> : Attribute
    {
        /// <summary>The loss that training minimises on the output of <c>Forward</c>; <see cref="StaticGrad.Loss.None"/> by default.</summary>
        public Loss Loss { get; set; } = Loss.None;
    }

    /// <summary>
    /// The shape of one example of a model input, the batch dimension left out: <c>[Shape(1, 28, 28)]</c> is a
    /// one-channel 28×28 image (a batch is then <c>B×1×28×28</c>, as in PyTorch's NCHW).
    /// </summary>
    [AttributeUsage(AttributeTargets.Parameter, AllowMultiple = false, Inherited = false)]
    [Conditional("STATICGRAD_KEEP_ATTRIBUTES")]
    public sealed class ShapeAttribute : Attribute
    {
        /// <summary>Declares the per-example shape of the parameter.</summary>
        /// <param name="dimensions">The sizes of the dimensions, outermost first, each positive; 1 to 4 of them.</param>
        public ShapeAttribute(params int[] dimensions)
        {
            Dimensions = dimensions;
        }

        /// <summary>The sizes of the per-example dimensions, outermost first (the batch is not included).</summary>
        public int[] Dimensions { get; }
    }

    /// <summary>The loss a <see cref="ModelAttribute"/> model is trained with.</summary>
    public enum Loss
    {
        /// <summary>No loss: the model only computes <c>Forward</c> (inference, or a loss computed by the caller).</summary>
        None = 0,

        /// <summary>
        /// Softmax followed by cross-entropy against integer class labels, averaged over the batch:
        /// <c>L = −(1/B) Σ_b log softmax(z_b)[label_b]</c> (PyTorch's <c>nn.CrossEntropyLoss</c>). The output is one score per class.
        /// </summary>
        SoftmaxCrossEntropy = 1,

        /// <summary>
        /// Mean squared error against target values, averaged over every element of the batch:
        /// <c>L = (1/(B·n)) Σ (y − t)²</c> (PyTorch's <c>nn.MSELoss</c>).
        /// </summary>
        MeanSquaredError = 2,

        /// <summary>
        /// Multiclass SVM (hinge) loss against integer class labels, margin 1, averaged over the batch:
        /// <c>L = (1/B) Σ_b Σ_{j≠y_b} max(0, z_bj − z_by_b + 1)</c> (CS231n; PyTorch's <c>nn.MultiMarginLoss</c> times the class count).
        /// </summary>
        MulticlassSvm = 3,
    }
}
