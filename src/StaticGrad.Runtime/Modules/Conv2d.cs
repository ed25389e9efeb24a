using System;

namespace StaticGrad
{
    /// <summary>
    /// A 2-D convolution, PyTorch's <c>nn.Conv2d</c> with square kernels and zero padding, on examples of shape C×H×W:
    /// <c>weight</c> <c>[outChannels, inChannels, k, k]</c>, <c>bias</c> <c>[outChannels]</c>, output side <c>(H + 2p − k)/s + 1</c>.
    /// </summary>
    public sealed class Conv2d : Module
    {
        /// <summary>Creates the layer with PyTorch's initialisation: weight and bias uniform in ±1/√(inChannels·k·k) (see <see cref="Module.ManualSeed"/>).</summary>
        /// <param name="inChannels">Channels in: the input's first dimension.</param>
        /// <param name="outChannels">Channels out.</param>
        /// <param name="kernelSize">The side k of the square kernel.</param>
        /// <param name="stride">The step between windows; 1 by default.</param>
        /// <param name="padding">Zeros added on every side; 0 by default.</param>
        /// <param name="bias">Whether to add a learnable bias per output channel; <see langword="true"/> by default.</param>
        public Conv2d(int inChannels, int outChannels, int kernelSize, int stride = 1, int padding = 0, bool bias = true)
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inChannels);
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(outChannels);
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(kernelSize);
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(stride);
            ArgumentOutOfRangeException.ThrowIfNegative(padding);
            InChannels = inChannels;
            OutChannels = outChannels;
            KernelSize = kernelSize;
            Stride = stride;
            Padding = padding;
            Weight = new Parameter(outChannels, inChannels, kernelSize, kernelSize);
            double bound = 1 / Math.Sqrt((double)inChannels * kernelSize * kernelSize);
            Random random = InitRandom;
            Weight.InitUniform(random, bound);
            if (bias)
            {
                Bias = new Parameter(outChannels);
                Bias.InitUniform(random, bound);
            }
        }

        /// <summary>Channels in.</summary>
        public int InChannels { get; }

        /// <summary>Channels out.</summary>
        public int OutChannels { get; }

        /// <summary>The side of the square kernel.</summary>
        public int KernelSize { get; }

        /// <summary>The step between windows.</summary>
        public int Stride { get; }

        /// <summary>Zeros added on every side.</summary>
        public int Padding { get; }

        /// <summary>The weight <c>[outChannels, inChannels, k, k]</c> (PyTorch's <c>weight</c>).</summary>
        public Parameter Weight { get; }

        /// <summary>The bias <c>[outChannels]</c>, or <see langword="null"/> when created with <c>bias: false</c>.</summary>
        public Parameter? Bias { get; }

        /// <summary>Convolves each example.</summary>
        /// <param name="x">Examples of shape <see cref="InChannels"/>×H×W with H + 2·padding and W + 2·padding at least the kernel size.</param>
        /// <returns>A new tensor of shape <see cref="OutChannels"/>×H′×W′, H′ = (H + 2p − k)/s + 1.</returns>
        /// <exception cref="ArgumentException"><paramref name="x"/> is not C×H×W with C = <see cref="InChannels"/>, or is smaller than the kernel.</exception>
        public Tensor Forward(Tensor x)
        {
            ArgumentNullException.ThrowIfNull(x);
            if (x.Rank != 3 || x.Size(0) != InChannels)
                throw new ArgumentException(
                    $"{this} expects examples of shape {InChannels}×H×W, but received {Shapes.Format(x.Shape)}.", nameof(x));
            int h = x.Size(1), w = x.Size(2);
            int k = KernelSize, s = Stride, p = Padding;
            if (h + 2 * p < k || w + 2 * p < k)
                throw new ArgumentException(
                    $"{this} needs examples of at least {Math.Max(1, k - 2 * p)}×{Math.Max(1, k - 2 * p)} pixels, but received {Shapes.Format(x.Shape)}.", nameof(x));
            int outH = (h + 2 * p - k) / s + 1, outW = (w + 2 * p - k) / s + 1;

            var y = new Tensor(x.Batch, OutChannels, outH, outW);
            float[] input = x.Data, output = y.Data;
            ReadOnlySpan<float> weight = Weight.Data;
            ReadOnlySpan<float> bias = Bias is null ? default : Bias.Data;
            for (int n = 0; n < x.Batch; n++)
                for (int o = 0; o < OutChannels; o++)
                    for (int oy = 0; oy < outH; oy++)
                        for (int ox = 0; ox < outW; ox++)
                        {
                            float sum = Bias is null ? 0f : bias[o];
                            for (int c = 0; c < InChannels; c++)
                                for (int ky = 0; ky < k; ky++)
                                {
                                    int iy = oy * s - p + ky;
                                    if (iy < 0 || iy >= h) continue; // zero padding
                                    for (int kx = 0; kx < k; kx++)
                                    {
                                        int ix = ox * s - p + kx;
                                        if (ix < 0 || ix >= w) continue;
                                        sum += input[((n * InChannels + c) * h + iy) * w + ix] * weight[((o * InChannels + c) * k + ky) * k + kx];
                                    }
                                }

                            output[((n * OutChannels + o) * outH + oy) * outW + ox] = sum;
                        }

            return y;
        }

        /// <summary>Describes the layer like PyTorch: <c>Conv2d(1, 32, kernel_size=3, stride=1, padding=1, bias=True)</c>.</summary>
        /// <returns>The description.</returns>
        public override string ToString() =>
            $"Conv2d({InChannels}, {OutChannels}, kernel_size={KernelSize}, stride={Stride}, padding={Padding}, bias={(Bias is null ? "False" : "True")})";

        /// <inheritdoc/>
        protected override void Visit(ModuleVisitor visitor)
        {
            visitor.Parameter("weight", Weight);
            if (Bias is not null) visitor.Parameter("bias", Bias);
        }
    }
}
