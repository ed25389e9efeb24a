using System;

namespace StaticGrad.Training
{
    /// <summary>
    /// How the learning rate changes from one optimizer update to the next: a pure function of the update's index, so a
    /// schedule holds no state and one instance can serve any number of networks.
    /// </summary>
    /// <remarks>
    /// Steps count updates, not epochs: with PyTorch's epoch-based schedulers, pass the number of updates per epoch times
    /// the epoch-based sizes. A null schedule means a constant rate. Each implementation names the PyTorch scheduler it
    /// reproduces; the rate for step <c>k</c> is the one PyTorch's optimizer holds after <c>k</c> calls to
    /// <c>scheduler.step()</c>.
    /// </remarks>
    public abstract class LearningRateSchedule
    {
        /// <summary>The learning rate for the update with 0-based index <paramref name="step"/> (0 = the first update), given the optimizer's base rate.</summary>
        /// <param name="baseLearningRate">The optimizer's configured rate (PyTorch's <c>base_lr</c>, the <c>lr</c> the optimizer was created with).</param>
        /// <param name="step">The 0-based index of the update, at least 0.</param>
        /// <returns>The rate to use for that update.</returns>
        /// <exception cref="ArgumentOutOfRangeException"><paramref name="step"/> is negative.</exception>
        public abstract double LearningRate(double baseLearningRate, long step);

        /// <summary>Throws unless <paramref name="step"/> is at least 0.</summary>
        private protected static void CheckStep(long step)
        {
            if (step < 0)
            {
                throw new ArgumentOutOfRangeException(nameof(step), step, "step is the 0-based index of an update and cannot be negative.");
            }
        }

        /// <summary>Throws unless <paramref name="value"/> is positive and finite.</summary>
        private protected static void CheckPositive(double value, string name)
        {
            if (!(value > 0) || double.IsInfinity(value))
            {
                throw new ArgumentOutOfRangeException(name, value, $"{name} must be positive and finite.");
            }
        }
    }

    /// <summary>
    /// Multiplies the rate by <c>γ</c> every <c>stepSize</c> updates: <c>rate = base·γ^⌊step/stepSize⌋</c>.
    /// PyTorch: <c>torch.optim.lr_scheduler.StepLR(optimizer, step_size=stepSize, gamma=γ)</c>, stepped once per update.
    /// </summary>
    public sealed class StepDecay : LearningRateSchedule
    {
        /// <summary>Creates the schedule.</summary>
        /// <param name="stepSize">How many updates run at each rate, at least 1 (PyTorch's <c>step_size</c>).</param>
        /// <param name="gamma">The factor γ applied after every <paramref name="stepSize"/> updates, positive and finite (PyTorch's <c>gamma</c>).</param>
        /// <exception cref="ArgumentOutOfRangeException"><paramref name="stepSize"/> is less than 1, or <paramref name="gamma"/> is not positive and finite.</exception>
        public StepDecay(int stepSize, double gamma = 0.1)
        {
            if (stepSize < 1)
            {
                throw new ArgumentOutOfRangeException(nameof(stepSize), stepSize, "stepSize must be at least 1.");
            }

            CheckPositive(gamma, nameof(gamma));
            StepSize = stepSize;
            Gamma = gamma;
        }

        /// <summary>How many updates run at each rate.</summary>
        public int StepSize { get; }

        /// <summary>The factor γ applied after every <see cref="StepSize"/> updates.</summary>
        public double Gamma { get; }

        /// <summary><c>base·γ^⌊step/stepSize⌋</c>.</summary>
        /// <inheritdoc/>
        public override double LearningRate(double baseLearningRate, long step)
        {
            CheckStep(step);
            return baseLearningRate * Math.Pow(Gamma, step / StepSize);
        }
    }

    /// <summary>
    /// Multiplies the rate by <c>γ</c> after every update: <c>rate = base·γ^step</c>.
    /// PyTorch: <c>torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma=γ)</c>, stepped once per update.
    /// </summary>
    /// <remarks>γ above 1 makes the rate grow, as a learning-rate range test wants.</remarks>
    public sealed class ExponentialDecay : LearningRateSchedule
    {
        /// <summary>Creates the schedule.</summary>
        /// <param name="gamma">The factor γ applied after every update, positive and finite (PyTorch's <c>gamma</c>).</param>
        /// <exception cref="ArgumentOutOfRangeException"><paramref name="gamma"/> is not positive and finite.</exception>
        public ExponentialDecay(double gamma)
        {
            CheckPositive(gamma, nameof(gamma));
            Gamma = gamma;
        }

        /// <summary>The factor γ applied after every update.</summary>
        public double Gamma { get; }

        /// <summary><c>base·γ^step</c>.</summary>
        /// <inheritdoc/>
        public override double LearningRate(double baseLearningRate, long step)
        {
            CheckStep(step);
            return baseLearningRate * Math.Pow(Gamma, step);
        }
    }

    /// <summary>
    /// An optional linear warm-up from 0, then half a cosine from the base rate down to <c>minLearningRate</c>, which the
    /// rate keeps after <c>totalSteps</c> updates. With <c>w</c> = warmupSteps, <c>T</c> = totalSteps and <c>η_min</c> = minLearningRate:
    /// <list type="bullet">
    /// <item><description><c>step &lt; w</c>: <c>rate = base·step/max(1, w)</c>;</description></item>
    /// <item><description><c>w ≤ step &lt; T</c>: <c>rate = η_min + (base − η_min)·(1 + cos(π·(step − w)/(T − w)))/2</c>;</description></item>
    /// <item><description><c>step ≥ T</c>: <c>rate = η_min</c>.</description></item>
    /// </list>
    /// </summary>
    /// <remarks>
    /// Without warm-up this is PyTorch's <c>torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=T, eta_min=η_min)</c>
    /// in its closed form (<c>_get_closed_form_lr</c>), stepped once per update. With <c>η_min = 0</c> it is Hugging Face's
    /// <c>transformers.get_cosine_schedule_with_warmup(optimizer, num_warmup_steps=w, num_training_steps=T)</c>; the
    /// warm-up starts at 0 (the first update uses rate 0 when <c>w</c> is positive), not at <c>η_min</c>, exactly as there.
    /// Both of those let the rate rise again after <c>T</c>; this schedule stays at <c>η_min</c>.
    /// </remarks>
    public sealed class CosineAnnealing : LearningRateSchedule
    {
        /// <summary>Creates the schedule.</summary>
        /// <param name="totalSteps">T: the update at which the rate reaches <paramref name="minLearningRate"/>, greater than <paramref name="warmupSteps"/> (PyTorch's <c>T_max</c> plus the warm-up).</param>
        /// <param name="minLearningRate">η_min: the rate at the end and after it, at least 0 and finite (PyTorch's <c>eta_min</c>).</param>
        /// <param name="warmupSteps">w: how many updates ramp linearly from 0 up to the base rate, at least 0 (Hugging Face's <c>num_warmup_steps</c>).</param>
        /// <exception cref="ArgumentOutOfRangeException">
        /// <paramref name="warmupSteps"/> is negative, <paramref name="totalSteps"/> is not greater than <paramref name="warmupSteps"/>,
        /// or <paramref name="minLearningRate"/> is negative or not finite.
        /// </exception>
        public CosineAnnealing(long totalSteps, double minLearningRate = 0, long warmupSteps = 0)
        {
            if (warmupSteps < 0)
            {
                throw new ArgumentOutOfRangeException(nameof(warmupSteps), warmupSteps, "warmupSteps must be at least 0.");
            }

            if (totalSteps <= warmupSteps)
            {
                throw new ArgumentOutOfRangeException(nameof(totalSteps), totalSteps, $"totalSteps must be greater than warmupSteps ({warmupSteps}).");
            }

            if (!(minLearningRate >= 0) || double.IsInfinity(minLearningRate))
            {
                throw new ArgumentOutOfRangeException(nameof(minLearningRate), minLearningRate, "minLearningRate must be at least 0 and finite.");
            }

            TotalSteps = totalSteps;
            MinLearningRate = minLearningRate;
            WarmupSteps = warmupSteps;
        }

        /// <summary>T: the update at which the rate reaches <see cref="MinLearningRate"/>.</summary>
        public long TotalSteps { get; }

        /// <summary>η_min: the rate at the end of the schedule and after it.</summary>
        public double MinLearningRate { get; }

        /// <summary>w: how many updates ramp linearly from 0 up to the base rate.</summary>
        public long WarmupSteps { get; }

        /// <inheritdoc/>
        public override double LearningRate(double baseLearningRate, long step)
        {
            CheckStep(step);
            if (step < WarmupSteps)
            {
                return baseLearningRate * ((double)step / Math.Max(1, WarmupSteps));
            }

            if (step >= TotalSteps)
            {
                return MinLearningRate;
            }

            double progress = (double)(step - WarmupSteps) / (TotalSteps - WarmupSteps);
            return MinLearningRate + ((baseLearningRate - MinLearningRate) * (1 + Math.Cos(Math.PI * progress)) / 2);
        }
    }

    /// <summary>
    /// The one-cycle policy: the rate rises along half a cosine from <c>maxLearningRate/divFactor</c> to
    /// <c>maxLearningRate</c> over the first <c>percentStart</c> of <c>totalSteps</c> updates, then falls along half a cosine
    /// to <c>maxLearningRate/divFactor/finalDivFactor</c> at update <c>totalSteps − 1</c>. It ignores the optimizer's base rate.
    /// </summary>
    /// <remarks>
    /// <para>
    /// PyTorch 1.13: <c>torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr, total_steps, pct_start, anneal_strategy='cos',
    /// div_factor, final_div_factor, three_phase=False, cycle_momentum=False)</c>, computed as PyTorch computes it. Only the
    /// rate cycles: momentum (or Adam's β₁) is left as configured, as with <c>cycle_momentum=False</c>.
    /// </para>
    /// <para>
    /// With <c>initial = max/divFactor</c> and <c>min = initial/finalDivFactor</c>, phase 1 ends at step
    /// <c>e₁ = percentStart·totalSteps − 1</c> (not necessarily whole) and goes from <c>initial</c> to <c>max</c>; phase 2
    /// starts at <c>e₁</c>, ends at <c>e₂ = totalSteps − 1</c> and goes from <c>max</c> to <c>min</c>. A step belongs to the
    /// first phase whose end it does not pass (else to the last), and with that phase's start <c>s</c>, end <c>e</c> and
    /// rates <c>a → b</c>: <c>pct = (step − s)/(e − s)</c>, <c>rate = b + (a − b)/2·(cos(π·pct) + 1)</c>.
    /// </para>
    /// <para>
    /// Two differences, both where PyTorch has no usable answer: a step that falls on a phase of zero length (where PyTorch
    /// divides by zero) gets that phase's end rate, and steps from <c>totalSteps</c> on keep the rate of step
    /// <c>totalSteps − 1</c> (PyTorch raises after <c>totalSteps</c>), which is <c>min</c> unless <c>percentStart</c> is 1.
    /// </para>
    /// </remarks>
    public sealed class OneCycle : LearningRateSchedule
    {
        private readonly double initialLearningRate;
        private readonly double finalLearningRate;
        private readonly double phaseOneEnd;
        private readonly double phaseTwoEnd;

        /// <summary>Creates the schedule.</summary>
        /// <param name="maxLearningRate">The peak rate, positive and finite (PyTorch's <c>max_lr</c>).</param>
        /// <param name="totalSteps">The number of updates in the cycle, at least 1 (PyTorch's <c>total_steps</c>).</param>
        /// <param name="percentStart">The fraction of the cycle spent rising, from 0 to 1 (PyTorch's <c>pct_start</c>).</param>
        /// <param name="divFactor">The initial rate is <c>maxLearningRate/divFactor</c>; positive and finite (PyTorch's <c>div_factor</c>).</param>
        /// <param name="finalDivFactor">The final rate is the initial rate divided by this; positive and finite (PyTorch's <c>final_div_factor</c>).</param>
        /// <exception cref="ArgumentOutOfRangeException">An argument is outside the range given for it.</exception>
        public OneCycle(double maxLearningRate, long totalSteps, double percentStart = 0.3, double divFactor = 25, double finalDivFactor = 1e4)
        {
            CheckPositive(maxLearningRate, nameof(maxLearningRate));
            if (totalSteps < 1)
            {
                throw new ArgumentOutOfRangeException(nameof(totalSteps), totalSteps, "totalSteps must be at least 1.");
            }

            if (!(percentStart >= 0 && percentStart <= 1))
            {
                throw new ArgumentOutOfRangeException(nameof(percentStart), percentStart, "percentStart must be between 0 and 1.");
            }

            CheckPositive(divFactor, nameof(divFactor));
            CheckPositive(finalDivFactor, nameof(finalDivFactor));
            MaxLearningRate = maxLearningRate;
            TotalSteps = totalSteps;
            PercentStart = percentStart;
            DivFactor = divFactor;
            FinalDivFactor = finalDivFactor;
            initialLearningRate = maxLearningRate / divFactor;
            finalLearningRate = initialLearningRate / finalDivFactor;
            phaseOneEnd = (percentStart * totalSteps) - 1;
            phaseTwoEnd = totalSteps - 1;
        }

        /// <summary>The peak rate.</summary>
        public double MaxLearningRate { get; }

        /// <summary>The number of updates in the cycle.</summary>
        public long TotalSteps { get; }

        /// <summary>The fraction of the cycle spent rising.</summary>
        public double PercentStart { get; }

        /// <summary>The initial rate is <see cref="MaxLearningRate"/> divided by this.</summary>
        public double DivFactor { get; }

        /// <summary>The final rate is the initial rate divided by this.</summary>
        public double FinalDivFactor { get; }

        /// <summary>The rate for <paramref name="step"/>; <paramref name="baseLearningRate"/> is ignored.</summary>
        /// <inheritdoc/>
        public override double LearningRate(double baseLearningRate, long step)
        {
            CheckStep(step);
            double at = Math.Min(step, TotalSteps - 1);
            return at <= phaseOneEnd
                ? Anneal(initialLearningRate, MaxLearningRate, 0, phaseOneEnd, at)
                : Anneal(MaxLearningRate, finalLearningRate, phaseOneEnd, phaseTwoEnd, at);
        }

        /// <summary>PyTorch's <c>_annealing_cos</c> at <c>pct = (step − start)/(end − start)</c>; a phase of zero length gives its end rate.</summary>
        private static double Anneal(double startRate, double endRate, double startStep, double endStep, double step)
        {
            double pct = endStep == startStep ? 1 : (step - startStep) / (endStep - startStep);
            double cosOut = Math.Cos(Math.PI * pct) + 1;
            return endRate + ((startRate - endRate) / 2.0 * cosOut);
        }
    }
}
