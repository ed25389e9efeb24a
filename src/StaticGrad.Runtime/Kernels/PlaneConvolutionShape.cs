using System;

namespace StaticGrad.Kernels
{
    /// <summary>
    /// The fixed geometry of one stride-1 2-D convolution for <see cref="PlaneConvolution"/>, and the layout of the scratch
    /// memory it works in. Generated Conv2d layers with <c>Stride = 1</c> keep one as a <c>static readonly</c> field, so the JIT
    /// sees every size as a constant.
    /// </summary>
    /// <remarks>
    /// Each input plane is copied into a zero-bordered plane <c>(height + 2·padding) × (width + 2·padding)</c> wide, with room
    /// after it. Output position (r, s) then reads the padded plane at <c>r·paddedWidth + s + ky·paddedWidth + kx</c>, so with
    /// positions numbered <c>p = r·paddedWidth + s</c> every kernel tap is one contiguous run of the padded plane, shifted:
    /// a convolution becomes sums of shifted vectors times scalars, with no im2col buffer. The last <c>kernel − 1</c> columns
    /// of each such "wide" output row are discarded.
    /// </remarks>
    public readonly struct PlaneConvolutionShape : IEquatable<PlaneConvolutionShape>
    {
        /// <summary>Positions computed per step: every wide plane is a multiple of this (a multiple of each vector tile).</summary>
        internal const int Block = 64;

        /// <summary>The input and output planes of a chunk of examples in the weight-gradient pass fit in about this many elements.</summary>
        private const int ChunkElements = 64 * 1024;

        /// <summary>Describes a convolution with stride 1.</summary>
        /// <param name="inChannels">Input channels.</param>
        /// <param name="height">Input height.</param>
        /// <param name="width">Input width.</param>
        /// <param name="outChannels">Output channels.</param>
        /// <param name="kernel">Kernel side.</param>
        /// <param name="padding">Zeros on every side.</param>
        /// <exception cref="ArgumentOutOfRangeException">A size is not positive, the padding is negative, or the kernel is larger than the padded input.</exception>
        public PlaneConvolutionShape(int inChannels, int height, int width, int outChannels, int kernel, int padding)
        {
            Positive(inChannels, nameof(inChannels));
            Positive(height, nameof(height));
            Positive(width, nameof(width));
            Positive(outChannels, nameof(outChannels));
            Positive(kernel, nameof(kernel));
            if (padding < 0)
            {
                throw new ArgumentOutOfRangeException(nameof(padding), padding, "The padding must be 0 or positive.");
            }

            if (kernel > height + (2 * padding) || kernel > width + (2 * padding))
            {
                throw new ArgumentOutOfRangeException(nameof(kernel), kernel, $"A {kernel}×{kernel} kernel does not fit a {height}×{width} input padded by {padding}.");
            }

            InChannels = inChannels;
            Height = height;
            Width = width;
            OutChannels = outChannels;
            Kernel = kernel;
            Padding = padding;

            // Every length below is checked against int.MaxValue once, here, so the kernels can index with int.
            long paddedWidth = width + (2L * padding);
            long outHeight = height + (2L * padding) - kernel + 1;
            long wide = RoundUp(outHeight * paddedWidth);
            long paddedPlane = RoundUp(wide + ((kernel - 1) * (paddedWidth + 1)));
            long gradientWidth = paddedWidth + kernel - 1;
            long gradientWide = RoundUp(height * gradientWidth);
            long gradientPlane = RoundUp(Math.Max(
                (height + (2L * padding) + kernel - 1) * gradientWidth,
                (padding * gradientWidth) + gradientWide + ((kernel - 1) * (gradientWidth + 1))));
            long outRounded = RoundUp4(outChannels), inRounded = RoundUp4(inChannels);
            long taps = (long)inChannels * kernel * kernel;
            long perImage = (inChannels * paddedPlane) + (outRounded * wide);
            long chunk = Math.Clamp(ChunkElements / Math.Max(perImage, 1), 1, 16);
            long forward = (outRounded * taps) + (inChannels * paddedPlane) + (outRounded * wide);
            // The 3×3 weight gradient (PlaneConvolution's channels-last path): one padded example, its output gradient turned
            // channels-last with the channels rounded up to a register tile's (at most 32), ∂Wᵀ and ∂b in the same rounding.
            long outTile = RoundUp(outChannels, MaxOutTile);
            long channelsLast = (inChannels * paddedPlane) + (outHeight * (width + (2L * padding) - kernel + 1) * outTile) + (taps * outTile) + outTile;
            long weightGradient = Math.Max(chunk * perImage, channelsLast);
            long backward = weightGradient + (inRounded * outChannels * kernel * kernel) + (outChannels * gradientPlane) + (inRounded * gradientWide);
            // The channels-last forward pass and input gradient (PlaneConvolution.ChannelsLast.cs): Wᵀ (or the flipped Wᵀ) and a
            // row of start values in whole tiles, the padded (or bordered) planes, and the result channels-last.
            long inTile = RoundUp(inChannels, MaxOutTile);
            long outPositions = outHeight * (width + (2L * padding) - kernel + 1);
            long forwardChannelsLast = (taps * outTile) + outTile + (inChannels * paddedPlane) + (outPositions * outTile);
            long backwardChannelsLast = weightGradient + (outChannels * kernel * kernel * inTile) + inTile + (outChannels * gradientPlane) + ((long)height * width * inTile);
            long scratch = Math.Max(Math.Max(forward, backward), Math.Max(forwardChannelsLast, backwardChannelsLast));
            if (scratch > int.MaxValue || (long)outChannels * outHeight * (width + (2L * padding) - kernel + 1) > int.MaxValue || (long)inChannels * height * width > int.MaxValue)
            {
                throw new ArgumentOutOfRangeException(nameof(inChannels), $"A convolution of {inChannels}×{height}×{width} into {outChannels} channels needs more memory than an array holds.");
            }

            PaddedWidth = (int)paddedWidth;
            WideLength = (int)wide;
            PaddedPlane = (int)paddedPlane;
            GradientWidth = (int)gradientWidth;
            GradientWideLength = (int)gradientWide;
            GradientPlane = (int)gradientPlane;
            ChunkImages = (int)chunk;
            WeightGradientLength = (int)weightGradient;
            ScratchLength = (int)scratch;
        }

        /// <summary>Input channels.</summary>
        public int InChannels { get; }

        /// <summary>Input height.</summary>
        public int Height { get; }

        /// <summary>Input width.</summary>
        public int Width { get; }

        /// <summary>Output channels.</summary>
        public int OutChannels { get; }

        /// <summary>Kernel side.</summary>
        public int Kernel { get; }

        /// <summary>Zeros on every side of the input.</summary>
        public int Padding { get; }

        /// <summary>Output height: <c>height + 2·padding − kernel + 1</c>.</summary>
        public int OutHeight => Height + (2 * Padding) - Kernel + 1;

        /// <summary>Output width: <c>width + 2·padding − kernel + 1</c>.</summary>
        public int OutWidth => Width + (2 * Padding) - Kernel + 1;

        /// <summary>Values per example in: <c>inChannels·height·width</c>.</summary>
        public int InputSize => InChannels * Height * Width;

        /// <summary>Values per example out: <c>outChannels·outHeight·outWidth</c>.</summary>
        public int OutputSize => OutChannels * OutHeight * OutWidth;

        /// <summary>Weights: <c>outChannels·inChannels·kernel·kernel</c>, PyTorch's <c>[out, in, k, k]</c>.</summary>
        public int WeightCount => OutChannels * Taps;

        /// <summary>Elements of scratch one thread of <see cref="PlaneConvolution"/> works in (<see cref="PlaneConvolutionWorkspace{T}"/> holds it).</summary>
        public int ScratchLength { get; }

        /// <summary>Weights per output channel: <c>inChannels·kernel·kernel</c>.</summary>
        internal int Taps => InChannels * Kernel * Kernel;

        /// <summary>Output channels rounded up to the 4 of a register tile (the extra channels have zero weights).</summary>
        internal int OutChannelsRounded => RoundUp4(OutChannels);

        /// <summary>Input channels rounded up to 4 (the input gradient is computed 4 channels at a time).</summary>
        internal int InChannelsRounded => RoundUp4(InChannels);

        /// <summary>Width of a padded input plane: <c>width + 2·padding</c>.</summary>
        internal int PaddedWidth { get; }

        /// <summary>Positions computed per output plane: <c>outHeight·paddedWidth</c>, rounded up to <see cref="Block"/>.</summary>
        internal int WideLength { get; }

        /// <summary>Elements per padded input plane, with room for the reads of the last block.</summary>
        internal int PaddedPlane { get; }

        /// <summary>Row width of the output gradient bordered by <c>kernel − 1</c> zeros: <c>paddedWidth + kernel − 1</c>.</summary>
        internal int GradientWidth { get; }

        /// <summary>Positions computed per input-gradient plane: <c>height·gradientWidth</c>, rounded up.</summary>
        internal int GradientWideLength { get; }

        /// <summary>Elements per bordered output-gradient plane.</summary>
        internal int GradientPlane { get; }

        /// <summary>Examples whose planes the weight-gradient pass keeps together (about 256 KB of floats).</summary>
        internal int ChunkImages { get; }

        /// <summary>Elements at the start of the backward pass's scratch that the weight gradient works in (the input gradient's come after).</summary>
        internal int WeightGradientLength { get; }

        /// <summary>Output channels of the widest register tile of the channels-last weight gradient (2 Vector512 of floats).</summary>
        internal const int MaxOutTile = 32;

        /// <summary>Whether two shapes describe the same convolution.</summary>
        public static bool operator ==(PlaneConvolutionShape left, PlaneConvolutionShape right) => left.Equals(right);

        /// <summary>Whether two shapes describe different convolutions.</summary>
        public static bool operator !=(PlaneConvolutionShape left, PlaneConvolutionShape right) => !left.Equals(right);

        /// <inheritdoc/>
        public bool Equals(PlaneConvolutionShape other) =>
            InChannels == other.InChannels && Height == other.Height && Width == other.Width && OutChannels == other.OutChannels && Kernel == other.Kernel && Padding == other.Padding;

        /// <inheritdoc/>
        public override bool Equals(object? obj) => obj is PlaneConvolutionShape other && Equals(other);

        /// <inheritdoc/>
        public override int GetHashCode() => HashCode.Combine(InChannels, Height, Width, OutChannels, Kernel, Padding);

        /// <summary>Describes the convolution, for error messages.</summary>
        /// <returns>For example <c>Conv2d 16→32, 3×3, padding 1, on 16×14×14</c>.</returns>
        public override string ToString() => $"Conv2d {InChannels}→{OutChannels}, {Kernel}×{Kernel}, padding {Padding}, on {InChannels}×{Height}×{Width}";

        private static long RoundUp(long value) => (value + Block - 1) / Block * Block;

        private static long RoundUp(long value, int multiple) => (value + multiple - 1) / multiple * multiple;

        private static int RoundUp4(int value) => (value + 3) & ~3;

        private static void Positive(int value, string name)
        {
            if (value <= 0)
            {
                throw new ArgumentOutOfRangeException(name, value, $"{name} must be positive.");
            }
        }
    }
}
