using System;
using System.ComponentModel;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using StaticGrad.Interchange;
using StaticGrad.Kernels;

namespace StaticGrad.Training
{
    /// <summary>
    /// An optimizer you can steer while it trains: the learning rate (and each optimizer's own settings) can change between
    /// steps without losing its state, a <see cref="Schedule"/> can set the rate per step, gradients can be clipped by
    /// their global norm, and a step can be skipped when the loss is not finite. Assign one to a network's
    /// <c>Optimizer</c> property (or call its <c>UseAdam</c>, <c>UseAdamW</c>, <c>UseSgd</c>); <see cref="Sgd"/>,
    /// <see cref="Adam"/> and <see cref="AdamW"/> are the optimizers.
    /// </summary>
    /// <remarks>
    /// <para>Weight decay applies to weight matrices, not to biases. The state (momentum, Adam's moments) is allocated
    /// once, when the optimizer is attached to a network; a step allocates nothing.</para>
    /// <para>An optimizer belongs to one network: attaching it to a second one throws, so two networks never share
    /// moments by accident.</para>
    /// </remarks>
    public abstract class Optimizer
    {
        private double _learningRate;
        private double _weightDecay;
        private double? _maxGradientNorm;
        private object? _owner;
        private NetworkDescription? _layout;
        private Type? _elementType;

        /// <summary>Sets the base learning rate and the weight decay.</summary>
        /// <param name="learningRate">η, positive and finite.</param>
        /// <param name="weightDecay">λ, 0 or positive.</param>
        private protected Optimizer(double learningRate, double weightDecay)
        {
            _learningRate = PositiveRate(learningRate, nameof(learningRate));
            _weightDecay = Decay(weightDecay, nameof(weightDecay));
        }

        /// <summary>
        /// The base learning rate η. Without a <see cref="Schedule"/> every step uses it; with one, the schedule derives
        /// each step's rate from it. Settable at any time; the optimizer keeps its state.
        /// </summary>
        /// <exception cref="ArgumentOutOfRangeException">The value is not positive and finite.</exception>
        public double LearningRate
        {
            get => _learningRate;
            set => _learningRate = PositiveRate(value, nameof(LearningRate));
        }

        /// <summary>Weight decay λ for weight matrices (not biases); what it means depends on the optimizer (L2 in the gradient, or decoupled for <see cref="AdamW"/>).</summary>
        /// <exception cref="ArgumentOutOfRangeException">The value is negative or not finite.</exception>
        public double WeightDecay
        {
            get => _weightDecay;
            set => _weightDecay = Decay(value, nameof(WeightDecay));
        }

        /// <summary>Sets the learning rate of each step from <see cref="LearningRate"/> and the step's index; <see langword="null"/> (the default) keeps it constant.</summary>
        public LearningRateSchedule? Schedule { get; set; }

        /// <summary>
        /// Clipping by global norm (opt-in, off when <see langword="null"/>): before each update, when the L2 norm of all
        /// gradients together exceeds this value, every gradient is scaled by <c>max / (norm + 1e-6)</c>, as PyTorch's
        /// <c>clip_grad_norm_</c> does. <see cref="LastGradientNorm"/> reports the norm before clipping.
        /// </summary>
        /// <exception cref="ArgumentOutOfRangeException">The value is not positive and finite.</exception>
        public double? MaxGradientNorm
        {
            get => _maxGradientNorm;
            set => _maxGradientNorm = value is null || (value > 0 && double.IsFinite(value.Value)) ? value : throw new ArgumentOutOfRangeException(nameof(MaxGradientNorm), value, "MaxGradientNorm must be positive and finite, or null for no clipping.");
        }

        /// <summary>The global L2 norm of the gradients at the last step, before clipping; NaN until a step has run with <see cref="MaxGradientNorm"/> set.</summary>
        public double LastGradientNorm { get; private set; } = double.NaN;

        /// <summary>
        /// Opt-in guard: when set, a training step whose loss is NaN or infinite leaves the parameters and the optimizer's
        /// state as they were (the step is counted in <see cref="SkippedSteps"/>, not in <see cref="Steps"/>).
        /// </summary>
        public bool SkipNonFiniteLoss { get; set; }

        /// <summary>Updates applied so far (Adam's t; a schedule's step index is this count before the update).</summary>
        public long Steps { get; private set; }

        /// <summary>Training steps skipped by <see cref="SkipNonFiniteLoss"/>.</summary>
        public long SkippedSteps { get; private set; }

        /// <summary>The learning rate the next update will use.</summary>
        public double CurrentLearningRate => Schedule?.LearningRate(_learningRate, Steps) ?? _learningRate;

        /// <summary>
        /// Binds the optimizer to a network's parameters and allocates its state. Generated networks call this when the
        /// optimizer is assigned to their <c>Optimizer</c> property; attaching again to the same owner does nothing.
        /// </summary>
        /// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
        /// <param name="owner">The network object.</param>
        /// <param name="layout">Its parameter layout.</param>
        /// <exception cref="InvalidOperationException">The optimizer already belongs to another network.</exception>
        [EditorBrowsable(EditorBrowsableState.Advanced)]
        public void Attach<T>(object owner, NetworkDescription layout)
            where T : unmanaged, IBinaryFloatingPointIeee754<T>
        {
            ArgumentNullException.ThrowIfNull(owner);
            ArgumentNullException.ThrowIfNull(layout);
            if (_owner is not null)
            {
                if (ReferenceEquals(_owner, owner))
                {
                    return;
                }

                throw new InvalidOperationException($"This {GetType().Name} already belongs to another network ({_layout!.Architecture}); its state (moments, velocity) is that network's. Create a new optimizer for each network.");
            }

            CreateState<T>(layout.ParameterCount);
            _owner = owner;
            _layout = layout;
            _elementType = typeof(T);
        }

        /// <summary>
        /// One update of <paramref name="parameters"/> from <paramref name="gradients"/>: the non-finite-loss guard, clipping,
        /// the scheduled learning rate, then the optimizer's rule on each tensor (weight decay on weights only). Allocates nothing.
        /// </summary>
        /// <typeparam name="T">The network's element type.</typeparam>
        /// <param name="owner">The network the optimizer is attached to.</param>
        /// <param name="parameters">All parameters, updated in place.</param>
        /// <param name="gradients">All gradients; scaled in place when clipping applies.</param>
        /// <param name="loss">The batch's loss, for <see cref="SkipNonFiniteLoss"/>; 0 when there is none.</param>
        /// <returns>Whether the update was applied.</returns>
        /// <exception cref="InvalidOperationException">The optimizer is not attached to <paramref name="owner"/>.</exception>
        [EditorBrowsable(EditorBrowsableState.Advanced)]
        public bool Step<T>(object owner, Span<T> parameters, Span<T> gradients, double loss = 0)
            where T : unmanaged, IBinaryFloatingPointIeee754<T> =>
            Step(owner, parameters, gradients, team: null, loss);

        /// <summary>
        /// One update of <paramref name="parameters"/> from <paramref name="gradients"/>, as
        /// <see cref="Step{T}(object, Span{T}, Span{T}, double)"/>, with the optimizer's rule split across
        /// <paramref name="team"/>'s threads when there are at least 32,768 parameters: each thread updates its share of every
        /// tensor. Every element is computed by the same operations whichever thread takes it, so the result is bitwise the
        /// same as on one thread. Allocates nothing.
        /// </summary>
        /// <typeparam name="T">The network's element type.</typeparam>
        /// <param name="owner">The network the optimizer is attached to.</param>
        /// <param name="parameters">All parameters, updated in place.</param>
        /// <param name="gradients">All gradients; scaled in place when clipping applies.</param>
        /// <param name="team">The network's threads, or null for the calling thread alone.</param>
        /// <param name="loss">The batch's loss, for <see cref="SkipNonFiniteLoss"/>; 0 when there is none.</param>
        /// <returns>Whether the update was applied.</returns>
        /// <exception cref="InvalidOperationException">The optimizer is not attached to <paramref name="owner"/>.</exception>
        [EditorBrowsable(EditorBrowsableState.Advanced)]
        public unsafe bool Step<T>(object owner, Span<T> parameters, Span<T> gradients, WorkerTeam? team, double loss = 0)
            where T : unmanaged, IBinaryFloatingPointIeee754<T>
        {
            if (!ReferenceEquals(owner, _owner) || _elementType != typeof(T))
            {
                throw new InvalidOperationException($"This {GetType().Name} is not attached to this network: assign it to the network's Optimizer property first.");
            }

            NetworkDescription layout = _layout!;
            if (parameters.Length != layout.ParameterCount || gradients.Length != layout.ParameterCount)
            {
                throw new ArgumentException($"parameters and gradients must hold {layout.ParameterCount} elements, but hold {parameters.Length} and {gradients.Length}.", nameof(parameters));
            }

            if (SkipNonFiniteLoss && !double.IsFinite(loss))
            {
                SkippedSteps++;
                return false;
            }

            if (_maxGradientNorm is double maxNorm)
            {
                double norm = Norm(gradients);
                LastGradientNorm = norm;
                double coefficient = maxNorm / (norm + 1e-6);
                if (coefficient < 1)
                {
                    Scale(gradients, T.CreateTruncating(coefficient));
                }
            }

            double learningRate = CurrentLearningRate;
            Steps++;
            if (team is null || parameters.Length < ParallelThreshold)
            {
                UpdateShare(parameters, gradients, layout.TensorArray, learningRate, Steps, 0, 1);
                return true;
            }

            // The spans are pinned while the workers use them through pointers; Run returns only when every part is done.
            fixed (T* p = parameters, g = gradients)
            {
                var job = new UpdateJob<T>(this, p, g, parameters.Length, layout.TensorArray, learningRate, Steps);
                team.Run(ref job);
            }

            return true;
        }

        /// <summary>Parameters from which <see cref="Step{T}(object, Span{T}, Span{T}, WorkerTeam, double)"/> splits the update across a team.</summary>
        private const int ParallelThreshold = 1 << 15;

        /// <summary>Share <paramref name="part"/> of <paramref name="parts"/> of every tensor (cut at multiples of 64 elements).</summary>
        private void UpdateShare<T>(Span<T> parameters, Span<T> gradients, ParameterTensor[] tensors, double learningRate, long step, int part, int parts)
            where T : unmanaged, IBinaryFloatingPointIeee754<T>
        {
            foreach (ParameterTensor tensor in tensors) // an array: no enumerator to allocate
            {
                int first = Boundary(tensor.Count, part, parts), end = part + 1 == parts ? tensor.Count : Boundary(tensor.Count, part + 1, parts);
                if (end > first)
                {
                    int offset = tensor.Offset + first;
                    Update(parameters.Slice(offset, end - first), gradients.Slice(offset, end - first), offset, learningRate, tensor.IsWeight ? _weightDecay : 0, step);
                }
            }

            static int Boundary(int count, int part, int parts) => (int)((long)count * part / parts) / 64 * 64;
        }

        /// <summary>One thread's share of an update (see <see cref="UpdateShare{T}"/>), for <see cref="WorkerTeam.Run{TJob}(ref TJob)"/>.</summary>
        private readonly unsafe struct UpdateJob<T> : IPartitionedJob
            where T : unmanaged, IBinaryFloatingPointIeee754<T>
        {
            private readonly Optimizer _optimizer;
            private readonly T* _parameters;
            private readonly T* _gradients;
            private readonly int _length;
            private readonly ParameterTensor[] _tensors;
            private readonly double _learningRate;
            private readonly long _step;

            public UpdateJob(Optimizer optimizer, T* parameters, T* gradients, int length, ParameterTensor[] tensors, double learningRate, long step)
            {
                _optimizer = optimizer;
                _parameters = parameters;
                _gradients = gradients;
                _length = length;
                _tensors = tensors;
                _learningRate = learningRate;
                _step = step;
            }

            public void Run(int part, int parts) =>
                _optimizer.UpdateShare(new Span<T>(_parameters, _length), new Span<T>(_gradients, _length), _tensors, _learningRate, _step, part, parts);
        }

        /// <summary>Allocates the state for <paramref name="parameterCount"/> parameters of type <typeparamref name="T"/>.</summary>
        private protected abstract void CreateState<T>(int parameterCount)
            where T : unmanaged, IBinaryFloatingPointIeee754<T>;

        /// <summary>The optimizer's rule on one tensor, whose state starts at <paramref name="offset"/>.</summary>
        private protected abstract void Update<T>(Span<T> parameters, Span<T> gradients, int offset, double learningRate, double weightDecay, long step)
            where T : unmanaged, IBinaryFloatingPointIeee754<T>;

        /// <summary>√Σg², accumulated in double.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)] // optimised from the first call: no on-stack replacement in the middle of a step
        private static double Norm<T>(Span<T> values)
            where T : unmanaged, IBinaryFloatingPointIeee754<T>
        {
            double total = 0;
            int i = 0;
            if (Vector256.IsHardwareAccelerated)
            {
                // Squares summed in T per 256-element chunk, then in double: fast, and the chunks keep the rounding small.
                for (; i <= values.Length - 256; i += 256)
                {
                    Vector256<T> sum = Vector256<T>.Zero;
                    for (int j = i; j < i + 256; j += Vector256<T>.Count)
                    {
                        Vector256<T> v = Vector256.Create<T>(values.Slice(j, Vector256<T>.Count));
                        sum += v * v;
                    }

                    total += double.CreateTruncating(Vector256.Sum(sum));
                }
            }

            for (; i < values.Length; i++)
            {
                double v = double.CreateTruncating(values[i]);
                total += v * v;
            }

            return Math.Sqrt(total);
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)] // optimised from the first call: no on-stack replacement in the middle of a step
        private static void Scale<T>(Span<T> values, T factor)
            where T : unmanaged, IBinaryFloatingPointIeee754<T>
        {
            for (int i = 0; i < values.Length; i++)
            {
                values[i] *= factor;
            }
        }

        /// <summary>Checks that a hyper-parameter is positive and finite.</summary>
        private protected static double PositiveRate(double value, string name) =>
            value > 0 && double.IsFinite(value) ? value : throw new ArgumentOutOfRangeException(name, value, $"{name} must be positive and finite.");

        private static double Decay(double value, string name) =>
            value >= 0 && double.IsFinite(value) ? value : throw new ArgumentOutOfRangeException(name, value, $"{name} must be 0 or positive, and finite.");

        /// <summary>Checks that a hyper-parameter lies in [0, 1).</summary>
        private protected static double UnitInterval(double value, string name) =>
            value >= 0 && value < 1 ? value : throw new ArgumentOutOfRangeException(name, value, $"{name} must be at least 0 and less than 1.");
    }
}
