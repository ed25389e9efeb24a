using System;
using System.Numerics;
using StaticGrad.Optimizers;

namespace StaticGrad.Training
{
    /// <summary>
    /// Stochastic gradient descent as PyTorch's <c>torch.optim.SGD</c> computes it: <c>g = ∂L/∂θ + λ·θ</c> (weights only),
    /// <c>v = μ·v + g</c>, <c>θ −= η·v</c>; plain <c>θ −= η·g</c> when μ = 0.
    /// </summary>
    public sealed class Sgd : Optimizer
    {
        private double _momentum;
        private Array? _velocity;

        /// <summary>Creates the optimizer.</summary>
        /// <param name="learningRate">η, positive.</param>
        /// <param name="momentum">μ in [0, 1); 0 (the default) for plain SGD.</param>
        /// <param name="weightDecay">λ ≥ 0, L2 on weights (not biases), the same as adding (λ/2)‖W‖² to the loss.</param>
        /// <exception cref="ArgumentOutOfRangeException">An argument is out of its range; the message says which and why.</exception>
        public Sgd(double learningRate, double momentum = 0, double weightDecay = 0)
            : base(learningRate, weightDecay)
        {
            _momentum = UnitInterval(momentum, nameof(momentum));
        }

        /// <summary>μ in [0, 1). Settable between steps; the velocity is kept (it exists from the start, so momentum can be switched on later).</summary>
        /// <exception cref="ArgumentOutOfRangeException">The value is outside [0, 1).</exception>
        public double Momentum
        {
            get => _momentum;
            set => _momentum = UnitInterval(value, nameof(Momentum));
        }

        private protected override void CreateState<T>(int parameterCount) => _velocity = new T[parameterCount];

        private protected override void Update<T>(Span<T> parameters, Span<T> gradients, int offset, double learningRate, double weightDecay, long step)
        {
            if (_momentum == 0)
            {
                OptimizerSteps.Sgd(parameters, gradients, T.CreateTruncating(learningRate), T.CreateTruncating(weightDecay), zeroGradients: false);
                return;
            }

            Span<T> velocity = new Span<T>((T[])_velocity!, offset, parameters.Length);
            OptimizerSteps.SgdMomentum(parameters, gradients, velocity, T.CreateTruncating(learningRate), T.CreateTruncating(_momentum), T.CreateTruncating(weightDecay), zeroGradients: false);
        }
    }
}
