using System;

namespace StaticGrad
{
    /// <summary>
    /// A fully connected layer, PyTorch's <c>nn.Linear</c>: <c>y = x·Wᵀ + b</c> on the last dimension of each example,
    /// with <c>weight</c> <c>[outFeatures, inFeatures]</c> and <c>bias</c> <c>[outFeatures]</c>.
    /// </summary>
    public sealed class Linear : Module
    {
        /// <summary>Creates the layer with PyTorch's initialisation: weight and bias uniform in ±1/√<paramref name="inFeatures"/> (see <see cref="Module.ManualSeed"/>).</summary>
        /// <param name="inFeatures">Features in: the size of the input's last dimension.</param>
        /// <param name="outFeatures">Features out.</param>
        /// <param name="bias">Whether to add a learnable bias; <see langword="true"/> by default.</param>
        public Linear(int inFeatures, int outFeatures, bool bias = true)
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inFeatures);
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(outFeatures);
            InFeatures = inFeatures;
            OutFeatures = outFeatures;
            Weight = new Parameter(outFeatures, inFeatures);
            double bound = 1 / Math.Sqrt(inFeatures);
            Random random = InitRandom;
            Weight.InitUniform(random, bound);
            if (bias)
            {
                Bias = new Parameter(outFeatures);
                Bias.InitUniform(random, bound);
            }
        }

        /// <summary>Features in.</summary>
        public int InFeatures { get; }

        /// <summary>Features out.</summary>
        public int OutFeatures { get; }

        /// <summary>The weight <c>[outFeatures, inFeatures]</c> (PyTorch's <c>weight</c>).</summary>
        public Parameter Weight { get; }

        /// <summary>The bias <c>[outFeatures]</c>, or <see langword="null"/> when created with <c>bias: false</c>.</summary>
        public Parameter? Bias { get; }

        /// <summary>Applies the layer to the last dimension of each example (any rank: <c>…×in → …×out</c>).</summary>
        /// <param name="x">The input; its last dimension must be <see cref="InFeatures"/>.</param>
        /// <returns>A new tensor whose last dimension is <see cref="OutFeatures"/>.</returns>
        /// <exception cref="ArgumentException">The last dimension of <paramref name="x"/> is not <see cref="InFeatures"/>.</exception>
        public Tensor Forward(Tensor x)
        {
            ArgumentNullException.ThrowIfNull(x);
            if (x.Size(-1) != InFeatures)
                throw new ArgumentException(
                    $"{this} expects examples whose last dimension is {InFeatures} (…×{InFeatures}), but received {Shapes.Format(x.Shape)}.", nameof(x));

            int[] outShape = x.Shape.ToArray();
            outShape[^1] = OutFeatures;
            var y = new Tensor(x.Batch, outShape);
            float[] input = x.Data, output = y.Data;
            ReadOnlySpan<float> w = Weight.Data;
            ReadOnlySpan<float> b = Bias is null ? default : Bias.Data;
            int rows = input.Length / InFeatures;
            for (int r = 0; r < rows; r++)
                for (int o = 0; o < OutFeatures; o++)
                {
                    float sum = Bias is null ? 0f : b[o];
                    for (int i = 0; i < InFeatures; i++)
                        sum += input[r * InFeatures + i] * w[o * InFeatures + i];
                    output[r * OutFeatures + o] = sum;
                }

            return y;
        }

        /// <summary>Describes the layer like PyTorch: <c>Linear(in_features=784, out_features=10, bias=True)</c>.</summary>
        /// <returns>The description.</returns>
        public override string ToString() => $"Linear(in_features={InFeatures}, out_features={OutFeatures}, bias={(Bias is null ? "False" : "True")})";

        /// <inheritdoc/>
        protected override void Visit(ModuleVisitor visitor)
        {
            visitor.Parameter("weight", Weight);
            if (Bias is not null) visitor.Parameter("bias", Bias);
        }
    }
}
