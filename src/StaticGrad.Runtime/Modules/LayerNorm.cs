using System;

namespace StaticGrad
{
    /// <summary>
    /// Layer normalisation over the last dimension, PyTorch's <c>nn.LayerNorm(normalizedShape)</c> with one normalised dimension:
    /// each row is shifted to mean 0 and scaled to variance 1 (the biased variance), then scaled by <c>weight</c> and shifted by <c>bias</c>.
    /// The same in training and evaluation mode.
    /// </summary>
    public sealed class LayerNorm : Module
    {
        /// <summary>Creates the layer: weight ones, bias zeros.</summary>
        /// <param name="normalizedShape">The size of the last dimension.</param>
        /// <param name="eps">Added to the variance before its square root; 1e−5 by default.</param>
        public LayerNorm(int normalizedShape, double eps = 1e-5)
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(normalizedShape);
            if (!(eps >= 0) || double.IsInfinity(eps))
                throw new ArgumentOutOfRangeException(nameof(eps), eps, "eps must be a finite number ≥ 0.");
            NormalizedShape = normalizedShape;
            Eps = eps;
            Weight = new Parameter(normalizedShape);
            Weight.Data.Fill(1f);
            Bias = new Parameter(normalizedShape);
        }

        /// <summary>The size of the normalised (last) dimension.</summary>
        public int NormalizedShape { get; }

        /// <summary>Added to the variance before its square root.</summary>
        public double Eps { get; }

        /// <summary>The scale <c>[normalizedShape]</c> (PyTorch's <c>weight</c>).</summary>
        public Parameter Weight { get; }

        /// <summary>The shift <c>[normalizedShape]</c> (PyTorch's <c>bias</c>).</summary>
        public Parameter Bias { get; }

        /// <summary>Normalises each row of the last dimension.</summary>
        /// <param name="x">Examples of any rank whose last dimension is <see cref="NormalizedShape"/>.</param>
        /// <returns>A new tensor of the same shape.</returns>
        /// <exception cref="ArgumentException">The last dimension of <paramref name="x"/> is not <see cref="NormalizedShape"/>.</exception>
        public Tensor Forward(Tensor x)
        {
            ArgumentNullException.ThrowIfNull(x);
            int d = NormalizedShape;
            if (x.Size(-1) != d)
                throw new ArgumentException(
                    $"{this} expects examples whose last dimension is {d} (…×{d}), but received {Shapes.Format(x.Shape)}.", nameof(x));
            var y = new Tensor(x.Batch, x.Shape.ToArray());
            float[] input = x.Data, output = y.Data;
            ReadOnlySpan<float> gamma = Weight.Data, beta = Bias.Data;
            int rows = input.Length / d;
            for (int r = 0; r < rows; r++)
            {
                double sum = 0;
                for (int i = 0; i < d; i++) sum += input[r * d + i];
                double mean = sum / d;
                double squares = 0;
                for (int i = 0; i < d; i++)
                {
                    double diff = input[r * d + i] - mean;
                    squares += diff * diff;
                }

                double inverse = 1 / Math.Sqrt(squares / d + Eps);
                for (int i = 0; i < d; i++)
                    output[r * d + i] = (float)((input[r * d + i] - mean) * inverse * gamma[i] + beta[i]);
            }

            return y;
        }

        /// <summary>Describes the layer like PyTorch: <c>LayerNorm((64,), eps=1E-05)</c>.</summary>
        /// <returns>The description.</returns>
        public override string ToString() => FormattableString.Invariant($"LayerNorm(({NormalizedShape},), eps={Eps})");

        /// <inheritdoc/>
        protected override void Visit(ModuleVisitor visitor)
        {
            visitor.Parameter("weight", Weight);
            visitor.Parameter("bias", Bias);
        }
    }
}
