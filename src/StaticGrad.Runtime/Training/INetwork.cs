using System;
using System.IO;
using StaticGrad.Interchange;
using StaticGrad.Training;

namespace StaticGrad
{
    /// <summary>
    /// What every generated network offers, so one training or evaluation routine serves every architecture. Generated
    /// networks (.NET 8+ targets) implement <see cref="IClassifier{T}"/> (SoftmaxCrossEntropy, MulticlassSvm),
    /// <see cref="IRegressor{T}"/> (MeanSquaredError) or this interface (no loss).
    /// </summary>
    /// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
    /// <remarks>
    /// The sizes are constants on the generated class (<c>FashionMlp.InputSize</c>) and properties here, so generic code
    /// reaches them from an instance.
    /// </remarks>
    public interface INetwork<T>
        where T : unmanaged
    {
        /// <summary>Features of one example in.</summary>
        int InputSize { get; }

        /// <summary>Values of one example out (before any loss).</summary>
        int OutputSize { get; }

        /// <summary>Weights and biases of all layers.</summary>
        int ParameterCount { get; }

        /// <summary>The architecture in one line.</summary>
        string Architecture { get; }

        /// <summary>The largest batch Forward and TrainStep take (the constructor's <c>maxBatchSize</c>).</summary>
        int MaxBatchSize { get; }

        /// <summary>The layers and the parameter layout, with PyTorch's tensor names.</summary>
        NetworkDescription Description { get; }

        /// <summary>Threads the matrix products may use (1 by default).</summary>
        int Threads { get; set; }

        /// <summary>All parameters, flat, in layer order.</summary>
        Span<T> Parameters { get; }

        /// <summary>All gradients, in the order of <see cref="Parameters"/>.</summary>
        Span<T> Gradients { get; }

        /// <summary>The optimizer <see cref="Step"/> and TrainStep use; <see langword="null"/> until one is chosen.</summary>
        Optimizer? Optimizer { get; set; }

        /// <summary>A batch [B×InputSize] → [B×OutputSize], kept for Backward.</summary>
        /// <param name="inputs">The batch, row-major.</param>
        /// <param name="outputs">Receives the outputs.</param>
        void Forward(ReadOnlySpan<T> inputs, Span<T> outputs);

        /// <summary>Adds ∂L/∂θ of the last Forward to <see cref="Gradients"/>.</summary>
        /// <param name="outputGradients">∂L/∂outputs of that batch.</param>
        void Backward(ReadOnlySpan<T> outputGradients);

        /// <summary>Adds ∂L/∂θ of the last Forward to <see cref="Gradients"/> and writes ∂L/∂inputs.</summary>
        /// <param name="outputGradients">∂L/∂outputs of that batch.</param>
        /// <param name="inputGradients">Receives ∂L/∂inputs; empty to skip.</param>
        void Backward(ReadOnlySpan<T> outputGradients, Span<T> inputGradients);

        /// <summary>Sets every gradient to 0.</summary>
        void ZeroGradients();

        /// <summary>One update of the parameters from <see cref="Gradients"/> with <see cref="Optimizer"/>.</summary>
        void Step();

        /// <summary>The index of the largest output for one example.</summary>
        /// <param name="input">One example.</param>
        /// <returns>The predicted class.</returns>
        int Predict(ReadOnlySpan<T> input);

        /// <summary>The predicted class of each example.</summary>
        /// <param name="inputs">Examples [count×InputSize].</param>
        /// <param name="predictions">Receives one class per example.</param>
        void Predict(ReadOnlySpan<T> inputs, Span<int> predictions);

        /// <summary>The outputs of any number of examples (Forward's, without its <see cref="MaxBatchSize"/> limit), in chunks of <see cref="MaxBatchSize"/>.</summary>
        /// <param name="inputs">Examples [count×InputSize].</param>
        /// <param name="outputs">Receives [count×OutputSize].</param>
        void Predict(ReadOnlySpan<T> inputs, Span<T> outputs);

        /// <summary>The fraction of examples whose prediction equals the label.</summary>
        /// <param name="inputs">Examples [count×InputSize].</param>
        /// <param name="labels">One label per example.</param>
        /// <returns>The accuracy in [0, 1].</returns>
        double Accuracy(ReadOnlySpan<T> inputs, ReadOnlySpan<int> labels);

        /// <inheritdoc cref="Accuracy(ReadOnlySpan{T}, ReadOnlySpan{int})"/>
        double Accuracy(ReadOnlySpan<T> inputs, ReadOnlySpan<byte> labels);

        /// <inheritdoc cref="Accuracy(ReadOnlySpan{T}, ReadOnlySpan{int})"/>
        double Accuracy(ReadOnlySpan<T> inputs, ReadOnlySpan<ushort> labels);

        /// <summary>Saves the parameters in StaticGrad's own format.</summary>
        /// <param name="path">The file.</param>
        void Save(string path);

        /// <summary>Writes the parameters in StaticGrad's own format.</summary>
        /// <param name="stream">A writable stream.</param>
        void Save(Stream stream);

        /// <summary>Loads parameters saved by Save.</summary>
        /// <param name="path">The file.</param>
        void Load(string path);

        /// <summary>Loads parameters saved by Save.</summary>
        /// <param name="stream">A readable stream.</param>
        void Load(Stream stream);

        /// <summary>Saves the parameters as safetensors (PyTorch's names).</summary>
        /// <param name="path">The file.</param>
        void SaveSafetensors(string path);

        /// <summary>Writes the parameters as safetensors.</summary>
        /// <param name="stream">A writable stream.</param>
        void SaveSafetensors(Stream stream);

        /// <summary>Loads parameters from a safetensors file.</summary>
        /// <param name="path">The file.</param>
        /// <param name="allowConversion">Accept the other floating-point width.</param>
        void LoadSafetensors(string path, bool allowConversion = false);

        /// <summary>Loads parameters from a safetensors file.</summary>
        /// <param name="stream">A readable stream.</param>
        /// <param name="allowConversion">Accept the other floating-point width.</param>
        void LoadSafetensors(Stream stream, bool allowConversion = false);

        /// <summary>Exports the forward pass as ONNX.</summary>
        /// <param name="path">The file.</param>
        void ExportOnnx(string path);

        /// <summary>Writes the forward pass as ONNX.</summary>
        /// <param name="stream">A writable stream.</param>
        void ExportOnnx(Stream stream);

        /// <summary>Exports the forward pass as ONNX with tensors of <paramref name="elementType"/> (a double network as float for ONNX Runtime's CPU provider).</summary>
        /// <param name="path">The file.</param>
        /// <param name="elementType">The element type of the file's tensors.</param>
        void ExportOnnx(string path, ElementType elementType);

        /// <summary>Writes the forward pass as ONNX with tensors of <paramref name="elementType"/>.</summary>
        /// <param name="stream">A writable stream.</param>
        /// <param name="elementType">The element type of the file's tensors.</param>
        void ExportOnnx(Stream stream, ElementType elementType);
    }

    /// <summary>A network whose loss compares its outputs with class labels (SoftmaxCrossEntropy, MulticlassSvm). Labels may be <see cref="int"/>, <see cref="byte"/> or <see cref="ushort"/>, read where they are.</summary>
    /// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
    public interface IClassifier<T> : INetwork<T>
        where T : unmanaged
    {
        /// <summary>One training step on a batch; returns its mean loss before the step.</summary>
        /// <param name="inputs">The batch [B×InputSize].</param>
        /// <param name="labels">One label per example.</param>
        /// <returns>The mean loss.</returns>
        T TrainStep(ReadOnlySpan<T> inputs, ReadOnlySpan<int> labels);

        /// <inheritdoc cref="TrainStep(ReadOnlySpan{T}, ReadOnlySpan{int})"/>
        T TrainStep(ReadOnlySpan<T> inputs, ReadOnlySpan<byte> labels);

        /// <inheritdoc cref="TrainStep(ReadOnlySpan{T}, ReadOnlySpan{int})"/>
        T TrainStep(ReadOnlySpan<T> inputs, ReadOnlySpan<ushort> labels);

        /// <summary>The mean loss of a batch of outputs and its gradient.</summary>
        /// <param name="outputs">Outputs [B×OutputSize].</param>
        /// <param name="labels">One label per example.</param>
        /// <param name="outputGradients">Receives ∂L/∂outputs; empty to skip.</param>
        /// <returns>The mean loss.</returns>
        T ComputeLoss(ReadOnlySpan<T> outputs, ReadOnlySpan<int> labels, Span<T> outputGradients);

        /// <summary>The mean loss over a data set.</summary>
        /// <param name="inputs">Examples [count×InputSize].</param>
        /// <param name="labels">One label per example.</param>
        /// <returns>The mean loss.</returns>
        double EvaluateLoss(ReadOnlySpan<T> inputs, ReadOnlySpan<int> labels);

        /// <inheritdoc cref="EvaluateLoss(ReadOnlySpan{T}, ReadOnlySpan{int})"/>
        double EvaluateLoss(ReadOnlySpan<T> inputs, ReadOnlySpan<byte> labels);

        /// <inheritdoc cref="EvaluateLoss(ReadOnlySpan{T}, ReadOnlySpan{int})"/>
        double EvaluateLoss(ReadOnlySpan<T> inputs, ReadOnlySpan<ushort> labels);
    }

    /// <summary>A network whose loss compares its outputs with target values (MeanSquaredError).</summary>
    /// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
    public interface IRegressor<T> : INetwork<T>
        where T : unmanaged
    {
        /// <summary>One training step on a batch; returns its mean loss before the step.</summary>
        /// <param name="inputs">The batch [B×InputSize].</param>
        /// <param name="targets">Targets [B×OutputSize].</param>
        /// <returns>The mean loss.</returns>
        T TrainStep(ReadOnlySpan<T> inputs, ReadOnlySpan<T> targets);

        /// <summary>The mean loss of a batch of outputs and its gradient.</summary>
        /// <param name="outputs">Outputs [B×OutputSize].</param>
        /// <param name="targets">Targets [B×OutputSize].</param>
        /// <param name="outputGradients">Receives ∂L/∂outputs; empty to skip.</param>
        /// <returns>The mean loss.</returns>
        T ComputeLoss(ReadOnlySpan<T> outputs, ReadOnlySpan<T> targets, Span<T> outputGradients);

        /// <summary>The mean loss over a data set.</summary>
        /// <param name="inputs">Examples [count×InputSize].</param>
        /// <param name="targets">Targets [count×OutputSize].</param>
        /// <returns>The mean loss.</returns>
        double EvaluateLoss(ReadOnlySpan<T> inputs, ReadOnlySpan<T> targets);
    }
}
