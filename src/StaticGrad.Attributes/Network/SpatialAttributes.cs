using System;
using System.Diagnostics;

namespace StaticGrad
{
    /// <summary>
    /// Declares that a network takes images: channels × height × width
    /// per example, in PyTorch's NCHW order (one example per row of a batch span, channel-major). It comes first, before the
    /// layers; the element type is <see cref="float"/> (use <see cref="InputAttribute{T}"/> for <see cref="double"/>).
    /// </summary>
    /// <example><c>[Input(1, 28, 28), Conv2d(1, 16, 3, Padding = 1), ReLU, MaxPool2d(2), Flatten, Linear(16 * 14 * 14, 10), SoftmaxCrossEntropy]</c></example>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
    [Conditional("STATICGRAD_KEEP_ATTRIBUTES")]
    public sealed class InputAttribute : Attribute
    {
        /// <summary>Declares the input shape.</summary>
        /// <param name="channels">Channels (1 for grey, 3 for colour), positive.</param>
        /// <param name="height">Rows of pixels, positive.</param>
        /// <param name="width">Columns of pixels, positive.</param>
        public InputAttribute(int channels, int height, int width)
        {
            Channels = channels;
            Height = height;
            Width = width;
        }

        /// <summary>Channels.</summary>
        public int Channels { get; }

        /// <summary>Rows of pixels.</summary>
        public int Height { get; }

        /// <summary>Columns of pixels.</summary>
        public int Width { get; }
    }

    /// <summary>The input shape of a network in element type <typeparamref name="T"/>; see <see cref="InputAttribute"/>.</summary>
    /// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
    [Conditional("STATICGRAD_KEEP_ATTRIBUTES")]
    public sealed class InputAttribute<T> : Attribute
    {
        /// <summary>Declares the input shape.</summary>
        /// <param name="channels">Channels, positive.</param>
        /// <param name="height">Rows of pixels, positive.</param>
        /// <param name="width">Columns of pixels, positive.</param>
        public InputAttribute(int channels, int height, int width)
        {
            Channels = channels;
            Height = height;
            Width = width;
        }

        /// <summary>Channels.</summary>
        public int Channels { get; }

        /// <summary>Rows of pixels.</summary>
        public int Height { get; }

        /// <summary>Columns of pixels.</summary>
        public int Width { get; }
    }

    /// <summary>
    /// A 2-D convolution, as PyTorch's <c>nn.Conv2d(inChannels, outChannels, kernelSize, stride, padding)</c>: weights
    /// <c>[outChannels, inChannels, kernelSize, kernelSize]</c>, bias <c>[outChannels]</c>, zero padding. The output is
    /// <c>outChannels × ((H + 2·Padding − kernelSize) / Stride + 1) × (same for W)</c>; StaticGrad checks at compile time
    /// that the channels match and the kernel fits (SGR0003, SGR0020).
    /// </summary>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
    [Conditional("STATICGRAD_KEEP_ATTRIBUTES")]
    public sealed class Conv2dAttribute : Attribute
    {
        /// <summary>Declares the convolution.</summary>
        /// <param name="inChannels">Channels in; must equal what the previous layer produces.</param>
        /// <param name="outChannels">Channels out (filters), positive.</param>
        /// <param name="kernelSize">The square kernel's side, positive and at most the padded input.</param>
        public Conv2dAttribute(int inChannels, int outChannels, int kernelSize)
        {
            InChannels = inChannels;
            OutChannels = outChannels;
            KernelSize = kernelSize;
        }

        /// <summary>Channels in.</summary>
        public int InChannels { get; }

        /// <summary>Channels out.</summary>
        public int OutChannels { get; }

        /// <summary>The kernel's side.</summary>
        public int KernelSize { get; }

        /// <summary>The step between kernel positions; 1 by default.</summary>
        public int Stride { get; set; } = 1;

        /// <summary>Zeros added on every side; 0 by default.</summary>
        public int Padding { get; set; }

        /// <summary>Whether the layer adds a bias per output channel; <see langword="true"/> by default.</summary>
        public bool Bias { get; set; } = true;
    }

    /// <summary>Max pooling, as PyTorch's <c>nn.MaxPool2d(kernelSize, stride)</c> (no padding): the largest value of each window, per channel.</summary>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
    [Conditional("STATICGRAD_KEEP_ATTRIBUTES")]
    public sealed class MaxPool2dAttribute : Attribute
    {
        /// <summary>Declares the pooling.</summary>
        /// <param name="kernelSize">The square window's side, positive and at most the input.</param>
        public MaxPool2dAttribute(int kernelSize)
        {
            KernelSize = kernelSize;
        }

        /// <summary>The window's side.</summary>
        public int KernelSize { get; }

        /// <summary>The step between windows; 0 (the default) means <see cref="KernelSize"/>, as in PyTorch.</summary>
        public int Stride { get; set; }
    }

    /// <summary>Average pooling, as PyTorch's <c>nn.AvgPool2d(kernelSize, stride)</c> (no padding): the mean of each window, per channel.</summary>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
    [Conditional("STATICGRAD_KEEP_ATTRIBUTES")]
    public sealed class AvgPool2dAttribute : Attribute
    {
        /// <summary>Declares the pooling.</summary>
        /// <param name="kernelSize">The square window's side, positive and at most the input.</param>
        public AvgPool2dAttribute(int kernelSize)
        {
            KernelSize = kernelSize;
        }

        /// <summary>The window's side.</summary>
        public int KernelSize { get; }

        /// <summary>The step between windows; 0 (the default) means <see cref="KernelSize"/>, as in PyTorch.</summary>
        public int Stride { get; set; }
    }

    /// <summary>
    /// Turns an image (C×H×W) into a vector of C·H·W features for the Linear layers after it, as PyTorch's <c>nn.Flatten()</c>.
    /// The data does not move (a batch is already one example per row); only the shape the next layer sees changes.
    /// </summary>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
    [Conditional("STATICGRAD_KEEP_ATTRIBUTES")]
    public sealed class FlattenAttribute : Attribute
    {
    }

    /// <summary>
    /// Dropout, as PyTorch's <c>nn.Dropout(p)</c>: during <c>TrainStep</c> each value is zeroed with probability
    /// p and the rest scaled by 1/(1 − p); in <c>Forward</c>, <c>Predict</c> and the evaluations it
    /// passes values through. The random stream is seeded by the network's seed, so training is reproducible.
    /// </summary>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
    [Conditional("STATICGRAD_KEEP_ATTRIBUTES")]
    public sealed class DropoutAttribute : Attribute
    {
        /// <summary>Declares the dropout.</summary>
        /// <param name="p">The probability of zeroing a value, in [0, 1).</param>
        public DropoutAttribute(double p)
        {
            P = p;
        }

        /// <summary>The probability of zeroing a value.</summary>
        public double P { get; }
    }
}
