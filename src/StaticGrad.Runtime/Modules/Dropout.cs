using System;

namespace StaticGrad
{
    /// <summary>
    /// Dropout, PyTorch's <c>nn.Dropout(p)</c>: in training mode each value is zeroed with probability <c>p</c> and the others are
    /// scaled by 1/(1 − p); in evaluation mode the input is returned unchanged.
    /// </summary>
    /// <remarks>
    /// Each module draws from its own <see cref="Random"/>, seeded when the module is created from the generator that
    /// <see cref="Module.ManualSeed"/> seeds, so a seeded construction drops the same values.
    /// </remarks>
    public sealed class Dropout : Module
    {
        private readonly Random random;

        /// <summary>Creates the layer.</summary>
        /// <param name="p">The probability of zeroing each value, 0 to 1; 0.5 by default.</param>
        public Dropout(double p = 0.5)
        {
            if (!(p >= 0 && p <= 1))
                throw new ArgumentOutOfRangeException(nameof(p), p, "The dropout probability must be between 0 and 1.");
            P = p;
            random = new Random(InitRandom.Next());
        }

        /// <summary>The probability of zeroing each value.</summary>
        public double P { get; }

        /// <summary>Drops values in training mode; the identity in evaluation mode.</summary>
        /// <param name="x">Examples of any shape.</param>
        /// <returns>In training mode a new tensor; in evaluation mode (or when p is 0) <paramref name="x"/> itself.</returns>
        public Tensor Forward(Tensor x)
        {
            ArgumentNullException.ThrowIfNull(x);
            if (!Training || P == 0) return x;
            var y = new Tensor(x.Batch, x.Shape.ToArray());
            float[] input = x.Data, output = y.Data;
            if (P == 1) return y; // everything dropped
            float scale = (float)(1 / (1 - P));
            for (int i = 0; i < input.Length; i++)
                output[i] = random.NextDouble() >= P ? input[i] * scale : 0f;
            return y;
        }

        /// <summary>Describes the layer like PyTorch: <c>Dropout(p=0.5)</c>.</summary>
        /// <returns>The description.</returns>
        public override string ToString() => FormattableString.Invariant($"Dropout(p={P})");

        /// <inheritdoc/>
        protected override void Visit(ModuleVisitor visitor)
        {
        }
    }
}
