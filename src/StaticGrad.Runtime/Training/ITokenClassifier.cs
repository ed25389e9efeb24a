using System;
using StaticGrad.Training;

namespace StaticGrad
{
    /// <summary>
    /// A model written as C# whose one input is token ids (<c>[Shape(n)] Tokens</c>) and whose loss compares its scores with
    /// class labels (<c>Loss.SoftmaxCrossEntropy</c> or <c>Loss.MulticlassSvm</c>): one label per example, or one per
    /// position when the scores are positions × classes (a language model). Generated models of that form implement it, so
    /// one routine — <see cref="TrainingExtensions.TrainEpoch{T, TLabel}(ITokenClassifier{T}, MiniBatches{int, TLabel})"/> with
    /// a <c>MiniBatches&lt;int, int&gt;</c> of token windows — trains any of them.
    /// </summary>
    /// <typeparam name="T">The model's element type: <see cref="float"/> or <see cref="double"/>.</typeparam>
    public interface ITokenClassifier<T>
        where T : unmanaged
    {
        /// <summary>Token ids of one example.</summary>
        int InputSize { get; }

        /// <summary>Scores of one example (classes, or positions × classes).</summary>
        int OutputSize { get; }

        /// <summary>Labels of one example: 1, or the positions when each position has a label.</summary>
        int LabelsPerExample { get; }

        /// <summary>Trained values of all modules.</summary>
        int ParameterCount { get; }

        /// <summary>The graph in one line; saved files record it.</summary>
        string Architecture { get; }

        /// <summary>The largest batch Forward and TrainStep take (the constructor's <c>maxBatchSize</c>).</summary>
        int MaxBatchSize { get; }

        /// <summary>Threads the large pieces of the work may use (1 by default).</summary>
        int Threads { get; set; }

        /// <summary>All parameters, flat.</summary>
        Span<T> Parameters { get; }

        /// <summary>All gradients, in the order of <see cref="Parameters"/>.</summary>
        Span<T> Gradients { get; }

        /// <summary>The optimizer TrainStep and Step use; <see langword="null"/> until one is chosen.</summary>
        Optimizer? Optimizer { get; set; }

        /// <summary>A batch of token ids [B×InputSize] → scores [B×OutputSize] in evaluation mode, kept for Backward.</summary>
        /// <param name="inputs">The token ids, row-major.</param>
        /// <param name="outputs">Receives the scores.</param>
        void Forward(ReadOnlySpan<int> inputs, Span<T> outputs);

        /// <summary>Adds ∂L/∂θ of the last forward pass to <see cref="Gradients"/>.</summary>
        /// <param name="outputGradients">∂L/∂scores of that batch.</param>
        void Backward(ReadOnlySpan<T> outputGradients);

        /// <summary>Sets every gradient to 0.</summary>
        void ZeroGradients();

        /// <summary>One update of the parameters from <see cref="Gradients"/> with <see cref="Optimizer"/>.</summary>
        void Step();

        /// <summary>One training step on a batch; returns its mean loss before the step.</summary>
        /// <param name="inputs">Token ids [B×InputSize].</param>
        /// <param name="labels">[B×LabelsPerExample] class labels.</param>
        /// <returns>The mean loss.</returns>
        T TrainStep(ReadOnlySpan<int> inputs, ReadOnlySpan<int> labels);

        /// <inheritdoc cref="TrainStep(ReadOnlySpan{int}, ReadOnlySpan{int})"/>
        T TrainStep(ReadOnlySpan<int> inputs, ReadOnlySpan<byte> labels);

        /// <inheritdoc cref="TrainStep(ReadOnlySpan{int}, ReadOnlySpan{int})"/>
        T TrainStep(ReadOnlySpan<int> inputs, ReadOnlySpan<ushort> labels);

        /// <summary>The mean loss over any number of examples in evaluation mode.</summary>
        /// <param name="inputs">Token ids [count×InputSize].</param>
        /// <param name="labels">[count×LabelsPerExample] class labels.</param>
        /// <returns>The mean loss.</returns>
        double EvaluateLoss(ReadOnlySpan<int> inputs, ReadOnlySpan<int> labels);

        /// <summary>The fraction of labels predicted (examples, or positions).</summary>
        /// <param name="inputs">Token ids [count×InputSize].</param>
        /// <param name="labels">[count×LabelsPerExample] class labels.</param>
        /// <returns>The accuracy in [0, 1].</returns>
        double Accuracy(ReadOnlySpan<int> inputs, ReadOnlySpan<int> labels);

        /// <summary>The predicted class of each example (or position).</summary>
        /// <param name="inputs">Token ids [count×InputSize].</param>
        /// <param name="predictions">Receives [count×LabelsPerExample] classes.</param>
        void Predict(ReadOnlySpan<int> inputs, Span<int> predictions);

        /// <summary>The scores of any number of examples, in chunks of <see cref="MaxBatchSize"/>.</summary>
        /// <param name="inputs">Token ids [count×InputSize].</param>
        /// <param name="outputs">Receives [count×OutputSize].</param>
        void Predict(ReadOnlySpan<int> inputs, Span<T> outputs);

        /// <summary>Saves the model's whole state in StaticGrad's model format.</summary>
        /// <param name="path">The file.</param>
        void Save(string path);

        /// <summary>Loads a state saved by <see cref="Save(string)"/>.</summary>
        /// <param name="path">The file.</param>
        void Load(string path);

        /// <summary>Saves the state as safetensors with PyTorch's <c>state_dict</c> names.</summary>
        /// <param name="path">The file.</param>
        void SaveSafetensors(string path);

        /// <summary>Loads a PyTorch <c>state_dict</c> saved as safetensors.</summary>
        /// <param name="path">The file.</param>
        /// <param name="allowConversion">Accept the other floating-point width.</param>
        void LoadSafetensors(string path, bool allowConversion = false);
    }
}
