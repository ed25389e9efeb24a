using System;
using System.Numerics;
using StaticGrad.Optimizers;

namespace StaticGrad.Training
{
    /// <summary>
    /// Adam as PyTorch's <c>torch.optim.Adam</c> computes it: <c>g = ∂L/∂θ + λ·θ</c> (L2 on weights only),
    /// <c>m = β₁m + (1−β₁)g</c>, <c>v = β₂v + (1−β₂)g²</c>, <c>θ −= η·m̂ / (√v̂ + ε)</c> with <c>m̂ = m/(1−β₁ᵗ)</c>, <c>v̂ = v/(1−β₂ᵗ)</c>.
    /// For decoupled weight decay use <see cref="AdamW"/>.
    /// </summary>
    public class Adam : Optimizer
    {
        private double _beta1;
        private double _beta2;
        private double _epsilon;
        private Array? _firstMoment;
        private Array? _secondMoment;

        /// <summary>Creates the optimizer with PyTorch's defaults.</summary>
        /// <param name="learningRate">η, positive (PyTorch's default 1e-3).</param>
        /// <param name="beta1">β₁ in [0, 1).</param>
        /// <param name="beta2">β₂ in [0, 1).</param>
        /// <param name="epsilon">ε, positive.</param>
        /// <param name="weightDecay">λ ≥ 0, L2 added to the gradients of weights.</param>
        /// <exception cref="ArgumentOutOfRangeException">An argument is out of its range; the message says which and why.</exception>
        public Adam(double learningRate = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-8, double weightDecay = 0)
            : base(learningRate, weightDecay)
        {
            _beta1 = UnitInterval(beta1, nameof(beta1));
            _beta2 = UnitInterval(beta2, nameof(beta2));
            _epsilon = PositiveRate(epsilon, nameof(epsilon));
        }

        /// <summary>β₁ in [0, 1); settable between steps (the moments and t are kept, as when PyTorch's param_group['betas'] changes).</summary>
        /// <exception cref="ArgumentOutOfRangeException">The value is outside [0, 1).</exception>
        public double Beta1
        {
            get => _beta1;
            set => _beta1 = UnitInterval(value, nameof(Beta1));
        }

        /// <summary>β₂ in [0, 1); settable between steps.</summary>
        /// <exception cref="ArgumentOutOfRangeException">The value is outside [0, 1).</exception>
        public double Beta2
        {
            get => _beta2;
            set => _beta2 = UnitInterval(value, nameof(Beta2));
        }

        /// <summary>ε, positive; settable between steps.</summary>
        /// <exception cref="ArgumentOutOfRangeException">The value is not positive and finite.</exception>
        public double Epsilon
        {
            get => _epsilon;
            set => _epsilon = PositiveRate(value, nameof(Epsilon));
        }

        private protected override void CreateState<T>(int parameterCount)
        {
            _firstMoment = new T[parameterCount];
            _secondMoment = new T[parameterCount];
        }

        private protected override void Update<T>(Span<T> parameters, Span<T> gradients, int offset, double learningRate, double weightDecay, long step)
        {
            Span<T> m = new Span<T>((T[])_firstMoment!, offset, parameters.Length);
            Span<T> v = new Span<T>((T[])_secondMoment!, offset, parameters.Length);
            if (Decoupled)
            {
                OptimizerSteps.AdamW(parameters, gradients, m, v, T.CreateTruncating(learningRate), T.CreateTruncating(_beta1), T.CreateTruncating(_beta2), T.CreateTruncating(_epsilon), T.CreateTruncating(weightDecay), step, zeroGradients: false);
            }
            else
            {
                OptimizerSteps.Adam(parameters, gradients, m, v, T.CreateTruncating(learningRate), T.CreateTruncating(_beta1), T.CreateTruncating(_beta2), T.CreateTruncating(_epsilon), T.CreateTruncating(weightDecay), step, zeroGradients: false);
            }
        }

        /// <summary>Whether weight decay is decoupled from the gradient (<see cref="AdamW"/>).</summary>
        private protected virtual bool Decoupled => false;
    }

    /// <summary>
    /// AdamW as PyTorch's <c>torch.optim.AdamW</c> computes it: weight decay decoupled from the gradient,
    /// <c>θ ← θ·(1 − η·λ)</c> (weights only), then Adam's update with <c>g = ∂L/∂θ</c>. PyTorch's default λ is 0.01.
    /// </summary>
    public sealed class AdamW : Adam
    {
        /// <summary>Creates the optimizer with PyTorch's defaults.</summary>
        /// <param name="learningRate">η, positive.</param>
        /// <param name="beta1">β₁ in [0, 1).</param>
        /// <param name="beta2">β₂ in [0, 1).</param>
        /// <param name="epsilon">ε, positive.</param>
        /// <param name="weightDecay">λ ≥ 0, decoupled: each step shrinks weights by η·λ of themselves.</param>
        /// <exception cref="ArgumentOutOfRangeException">An argument is out of its range; the message says which and why.</exception>
        public AdamW(double learningRate = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-8, double weightDecay = 1e-2)
            : base(learningRate, beta1, beta2, epsilon, weightDecay)
        {
        }

        private protected override bool Decoupled => true;
    }
}
