using System;
using System.Diagnostics;

namespace StaticGrad
{
    /// <summary>
    /// A fully connected layer of a sequential network, in <see cref="float"/>:
    /// <c>y = W·x + b</c> per example, with <c>W[outputs×inputs]</c> and <c>b[outputs]</c>
    /// (the layout of PyTorch's <c>nn.Linear</c>).
    /// </summary>
    /// <remarks>
    /// <para>Layer attributes on one partial class form a network in source order, for example
    /// <c>[Linear(64, 32), ReLU, Linear(32, 10), SoftmaxCrossEntropy]</c>. Each layer's <c>inputs</c> must equal what the
    /// layer before it produces (SGR0003). StaticGrad generates the model class: parameters, gradients, buffers,
    /// Forward, Backward, a training step, optimizers, prediction and save/load.</para>
    /// <para>Use <see cref="LinearAttribute{T}"/> for <see cref="double"/>; all Linear layers of a network use one element type.</para>
    /// </remarks>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
    [Conditional("STATICGRAD_KEEP_ATTRIBUTES")]
    public sealed class LinearAttribute : Attribute
    {
        /// <summary>Declares a layer mapping <paramref name="inputs"/> features to <paramref name="outputs"/>.</summary>
        /// <param name="inputs">Features in. Must be positive and equal the previous layer's output.</param>
        /// <param name="outputs">Features out. Must be positive.</param>
        public LinearAttribute(int inputs, int outputs)
        {
            Inputs = inputs;
            Outputs = outputs;
        }

        /// <summary>Features in.</summary>
        public int Inputs { get; }

        /// <summary>Features out.</summary>
        public int Outputs { get; }

        /// <summary>Whether the layer adds a bias <c>b</c>; <see langword="true"/> by default.</summary>
        public bool Bias { get; set; } = true;
    }

    /// <summary>
    /// A fully connected layer in element type <typeparamref name="T"/> (<see cref="float"/> or <see cref="double"/>):
    /// <c>y = W·x + b</c>. See <see cref="LinearAttribute"/>.
    /// </summary>
    /// <typeparam name="T"><see cref="float"/> or <see cref="double"/>; anything else is SGR0007.</typeparam>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
    [Conditional("STATICGRAD_KEEP_ATTRIBUTES")]
    public sealed class LinearAttribute<T> : Attribute
    {
        /// <summary>Declares a layer mapping <paramref name="inputs"/> features to <paramref name="outputs"/>.</summary>
        /// <param name="inputs">Features in. Must be positive and equal the previous layer's output.</param>
        /// <param name="outputs">Features out. Must be positive.</param>
        public LinearAttribute(int inputs, int outputs)
        {
            Inputs = inputs;
            Outputs = outputs;
        }

        /// <summary>Features in.</summary>
        public int Inputs { get; }

        /// <summary>Features out.</summary>
        public int Outputs { get; }

        /// <summary>Whether the layer adds a bias <c>b</c>; <see langword="true"/> by default.</summary>
        public bool Bias { get; set; } = true;
    }
}
