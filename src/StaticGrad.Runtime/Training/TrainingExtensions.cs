using System;
using System.Diagnostics;
using System.Numerics;
using System.Runtime.InteropServices;

namespace StaticGrad.Training
{
    /// <summary>What one epoch of training did: its mean loss, size, time and the learning rate it ended with.</summary>
    /// <param name="Epoch">The epoch's number, from 1.</param>
    /// <param name="MeanLoss">The loss averaged over the epoch's examples (each batch's mean loss weighted by its size), before each batch's step.</param>
    /// <param name="Examples">Examples trained on.</param>
    /// <param name="Batches">Training steps taken (including any skipped by the optimizer's non-finite guard).</param>
    /// <param name="Elapsed">Wall time of the epoch.</param>
    /// <param name="LearningRate">The learning rate the next step will use.</param>
    public readonly record struct EpochResult(int Epoch, double MeanLoss, int Examples, int Batches, TimeSpan Elapsed, double LearningRate)
    {
        /// <summary>Examples per second.</summary>
        public double ExamplesPerSecond => Examples / Elapsed.TotalSeconds;
    }

    /// <summary>One epoch of training over a <see cref="MiniBatches{T, TLabel}"/>, for any network, allocating nothing.</summary>
    public static class TrainingExtensions
    {
        /// <summary>
        /// Trains <paramref name="network"/> for one epoch: every batch of <paramref name="batches"/> (which reshuffles)
        /// through <c>TrainStep</c>. Returns the epoch's mean loss and time for progress bars and plots.
        /// </summary>
        /// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
        /// <typeparam name="TLabel"><see cref="int"/>, <see cref="byte"/> or <see cref="ushort"/>.</typeparam>
        /// <param name="network">A network with a label loss and an optimizer.</param>
        /// <param name="batches">The training set.</param>
        /// <returns>What the epoch did.</returns>
        /// <exception cref="NotSupportedException"><typeparamref name="TLabel"/> is not int, byte or ushort.</exception>
        /// <exception cref="ArgumentException">The batches are larger than the network's MaxBatchSize (checked before any step).</exception>
        public static EpochResult TrainEpoch<T, TLabel>(this IClassifier<T> network, MiniBatches<T, TLabel> batches)
            where T : unmanaged, IBinaryFloatingPointIeee754<T>
            where TLabel : unmanaged
        {
            ArgumentNullException.ThrowIfNull(network);
            ArgumentNullException.ThrowIfNull(batches);
            CheckBatchSize(network, batches.BatchSize);
            if (typeof(TLabel) != typeof(int) && typeof(TLabel) != typeof(byte) && typeof(TLabel) != typeof(ushort))
            {
                throw new NotSupportedException($"Class labels are int, byte or ushort, not {typeof(TLabel).Name}.");
            }

            long start = Stopwatch.GetTimestamp();
            double total = 0;
            int examples = 0, steps = 0;
            foreach (MiniBatch<T, TLabel> batch in batches)
            {
                // The branches are resolved when the JIT compiles this method for TLabel: no cost per batch.
                T loss = typeof(TLabel) == typeof(int) ? network.TrainStep(batch.Features, MemoryMarshal.Cast<TLabel, int>(batch.Labels))
                    : typeof(TLabel) == typeof(byte) ? network.TrainStep(batch.Features, MemoryMarshal.Cast<TLabel, byte>(batch.Labels))
                    : network.TrainStep(batch.Features, MemoryMarshal.Cast<TLabel, ushort>(batch.Labels));
                total += double.CreateTruncating(loss) * batch.Count;
                examples += batch.Count;
                steps++;
            }

            return Result(network, batches.Epoch, total, examples, steps, start);
        }

        /// <summary>Trains a regression network for one epoch; see <see cref="TrainEpoch{T, TLabel}(IClassifier{T}, MiniBatches{T, TLabel})"/>.</summary>
        /// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
        /// <param name="network">A network with a target loss and an optimizer.</param>
        /// <param name="batches">The training set, with <c>labelsPerExample</c> = the network's OutputSize.</param>
        /// <returns>What the epoch did.</returns>
        public static EpochResult TrainEpoch<T>(this IRegressor<T> network, MiniBatches<T, T> batches)
            where T : unmanaged, IBinaryFloatingPointIeee754<T>
        {
            ArgumentNullException.ThrowIfNull(network);
            ArgumentNullException.ThrowIfNull(batches);
            CheckBatchSize(network, batches.BatchSize);
            long start = Stopwatch.GetTimestamp();
            double total = 0;
            int examples = 0, steps = 0;
            foreach (MiniBatch<T, T> batch in batches)
            {
                total += double.CreateTruncating(network.TrainStep(batch.Features, batch.Labels)) * batch.Count;
                examples += batch.Count;
                steps++;
            }

            return Result(network, batches.Epoch, total, examples, steps, start);
        }

        /// <summary>
        /// Trains a model of token inputs for one epoch: every batch of <paramref name="batches"/> (token windows and their
        /// labels, <c>labelsPerExample</c> = the model's <see cref="ITokenClassifier{T}.LabelsPerExample"/>) through
        /// <c>TrainStep</c>. The mean loss weights each batch by its examples.
        /// </summary>
        /// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
        /// <typeparam name="TLabel"><see cref="int"/>, <see cref="byte"/> or <see cref="ushort"/>.</typeparam>
        /// <param name="model">A model with a class-label loss and an optimizer.</param>
        /// <param name="batches">The training set: token ids and labels.</param>
        /// <returns>What the epoch did.</returns>
        /// <exception cref="NotSupportedException"><typeparamref name="TLabel"/> is not int, byte or ushort.</exception>
        /// <exception cref="ArgumentException">The batches are larger than the model's MaxBatchSize, or their examples hold another number of tokens or labels (checked before any step).</exception>
        public static EpochResult TrainEpoch<T, TLabel>(this ITokenClassifier<T> model, MiniBatches<int, TLabel> batches)
            where T : unmanaged, IBinaryFloatingPointIeee754<T>
            where TLabel : unmanaged
        {
            ArgumentNullException.ThrowIfNull(model);
            ArgumentNullException.ThrowIfNull(batches);
            if (batches.BatchSize > model.MaxBatchSize)
            {
                throw new ArgumentException($"The batches hold up to {batches.BatchSize} examples, but the model was constructed with maxBatchSize: {model.MaxBatchSize}; construct it with maxBatchSize: {batches.BatchSize} (or more).", nameof(batches));
            }

            if (typeof(TLabel) != typeof(int) && typeof(TLabel) != typeof(byte) && typeof(TLabel) != typeof(ushort))
            {
                throw new NotSupportedException($"Class labels are int, byte or ushort, not {typeof(TLabel).Name}.");
            }

            long start = Stopwatch.GetTimestamp();
            double total = 0;
            int examples = 0, steps = 0;
            foreach (MiniBatch<int, TLabel> batch in batches)
            {
                if (batch.Features.Length != batch.Count * model.InputSize || batch.Labels.Length != batch.Count * model.LabelsPerExample)
                {
                    throw new ArgumentException($"A batch of {batch.Count} examples holds {batch.Features.Length} token ids and {batch.Labels.Length} labels, but the model takes {model.InputSize} ids and {model.LabelsPerExample} labels per example: construct the MiniBatches with featuresPerExample: {model.InputSize} and labelsPerExample: {model.LabelsPerExample}.", nameof(batches));
                }

                T loss = typeof(TLabel) == typeof(int) ? model.TrainStep(batch.Features, MemoryMarshal.Cast<TLabel, int>(batch.Labels))
                    : typeof(TLabel) == typeof(byte) ? model.TrainStep(batch.Features, MemoryMarshal.Cast<TLabel, byte>(batch.Labels))
                    : model.TrainStep(batch.Features, MemoryMarshal.Cast<TLabel, ushort>(batch.Labels));
                total += double.CreateTruncating(loss) * batch.Count;
                examples += batch.Count;
                steps++;
            }

            return new(batches.Epoch, examples == 0 ? double.NaN : total / examples, examples, steps, Stopwatch.GetElapsedTime(start), model.Optimizer?.CurrentLearningRate ?? double.NaN);
        }

        /// <summary>Refuses, before the first step, batches larger than the network takes.</summary>
        private static void CheckBatchSize<T>(INetwork<T> network, int batchSize)
            where T : unmanaged
        {
            if (batchSize > network.MaxBatchSize)
            {
                throw new ArgumentException($"The batches hold up to {batchSize} examples, but the network was constructed with maxBatchSize: {network.MaxBatchSize}; construct it with maxBatchSize: {batchSize} (or more).", "batches");
            }
        }

        private static EpochResult Result<T>(INetwork<T> network, int epoch, double total, int examples, int steps, long start)
            where T : unmanaged =>
            new(epoch, examples == 0 ? double.NaN : total / examples, examples, steps, Stopwatch.GetElapsedTime(start), network.Optimizer?.CurrentLearningRate ?? double.NaN);
    }
}
