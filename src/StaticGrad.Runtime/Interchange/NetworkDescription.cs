using System;
using System.Collections.Generic;

namespace StaticGrad.Interchange
{
    /// <summary>What a layer of a generated network computes, in the terms PyTorch and ONNX use.</summary>
    public enum LayerOperator
    {
        /// <summary><c>nn.Linear</c>: <c>y = x·Wᵀ + b</c>, W stored out×in (ONNX <c>Gemm</c> with <c>transB = 1</c>).</summary>
        Linear,

        /// <summary><c>nn.ReLU</c> (ONNX <c>Relu</c>).</summary>
        ReLU,

        /// <summary><c>nn.Sigmoid</c> (ONNX <c>Sigmoid</c>).</summary>
        Sigmoid,

        /// <summary><c>nn.Tanh</c> (ONNX <c>Tanh</c>).</summary>
        Tanh,

        /// <summary><c>nn.Conv2d</c>: weights [out, in, k, k], bias [out] (ONNX <c>Conv</c>).</summary>
        Conv2d,

        /// <summary><c>nn.MaxPool2d</c> (ONNX <c>MaxPool</c>).</summary>
        MaxPool2d,

        /// <summary><c>nn.AvgPool2d</c> (ONNX <c>AveragePool</c>).</summary>
        AvgPool2d,

        /// <summary><c>nn.Flatten</c> (ONNX <c>Flatten</c>, axis 1).</summary>
        Flatten,

        /// <summary><c>nn.Dropout</c>: no parameters; the identity at inference (left out of ONNX exports).</summary>
        Dropout,
    }

    /// <summary>An image shape in PyTorch's NCHW order, per example: channels × height × width.</summary>
    /// <param name="Channels">Channels.</param>
    /// <param name="Height">Rows.</param>
    /// <param name="Width">Columns.</param>
    public readonly record struct ImageShape(int Channels, int Height, int Width)
    {
        /// <summary>Values per example.</summary>
        public int Size => Channels * Height * Width;
    }

    /// <summary>
    /// One layer of a generated network: its position in the attribute list (PyTorch's index in the equivalent
    /// <c>nn.Sequential</c>), what it computes, its sizes, and where its parameters sit in the flat parameter array.
    /// </summary>
    public sealed class LayerDescription
    {
        /// <summary>Describes a layer.</summary>
        /// <param name="index">The layer's position in the network, activations included (0, 1, 2, …).</param>
        /// <param name="operator">What the layer computes.</param>
        /// <param name="inputs">Features in.</param>
        /// <param name="outputs">Features out.</param>
        /// <param name="weightOffset">Where the out×in weight matrix starts in the parameters; -1 for a layer without one.</param>
        /// <param name="biasOffset">Where the bias vector starts in the parameters; -1 for a layer without one.</param>
        /// <exception cref="ArgumentOutOfRangeException">A size or offset is out of range, or a Linear layer has no weights.</exception>
        public LayerDescription(int index, LayerOperator @operator, int inputs, int outputs, int weightOffset = -1, int biasOffset = -1)
            : this(index, @operator, inputs, outputs, weightOffset, biasOffset, null, null, 0, 0, 0)
        {
        }

        /// <summary>Describes a layer on images (Conv2d, pooling, Flatten, and activations or Dropout between them).</summary>
        /// <param name="index">The layer's position in the network, activations included.</param>
        /// <param name="operator">What the layer computes.</param>
        /// <param name="inputShape">The image in.</param>
        /// <param name="outputShape">The image out (for Flatten, the image in: its vector holds the same values).</param>
        /// <param name="kernel">The window's side (Conv2d, pooling); 0 otherwise.</param>
        /// <param name="stride">The step between windows; 0 when there is no window.</param>
        /// <param name="padding">Conv2d's zero padding on every side.</param>
        /// <param name="weightOffset">Where Conv2d's [out, in, k, k] weights start; -1 for a layer without.</param>
        /// <param name="biasOffset">Where Conv2d's bias starts; -1 for none.</param>
        public LayerDescription(int index, LayerOperator @operator, ImageShape inputShape, ImageShape outputShape, int kernel = 0, int stride = 0, int padding = 0, int weightOffset = -1, int biasOffset = -1)
            : this(index, @operator, inputShape.Size, outputShape.Size, weightOffset, biasOffset, inputShape, outputShape, kernel, stride, padding)
        {
        }

        private LayerDescription(int index, LayerOperator @operator, int inputs, int outputs, int weightOffset, int biasOffset, ImageShape? inputShape, ImageShape? outputShape, int kernel, int stride, int padding)
        {
            if (index < 0)
            {
                throw new ArgumentOutOfRangeException(nameof(index), index, "A layer's index cannot be negative.");
            }

            if (inputs <= 0 || outputs <= 0)
            {
                throw new ArgumentOutOfRangeException(inputs <= 0 ? nameof(inputs) : nameof(outputs), "A layer's sizes must be positive.");
            }

            bool parameterized = @operator is LayerOperator.Linear or LayerOperator.Conv2d;
            if (parameterized ? weightOffset < 0 : weightOffset != -1 || biasOffset != -1)
            {
                throw new ArgumentOutOfRangeException(
                    nameof(weightOffset),
                    parameterized
                        ? $"A {@operator} layer needs the offset of its weights."
                        : $"A {@operator} layer has no parameters, so both offsets must be -1.");
            }

            if (@operator is LayerOperator.Conv2d or LayerOperator.MaxPool2d or LayerOperator.AvgPool2d or LayerOperator.Flatten
                && (inputShape is null || outputShape is null || (@operator != LayerOperator.Flatten && (kernel <= 0 || stride <= 0 || padding < 0))))
            {
                throw new ArgumentException($"A {@operator} layer needs its image shapes{(@operator == LayerOperator.Flatten ? string.Empty : ", a positive kernel and stride, and padding ≥ 0")}.", nameof(@operator));
            }

            if (biasOffset < -1)
            {
                throw new ArgumentOutOfRangeException(nameof(biasOffset), biasOffset, "An offset is -1 (none) or at least 0.");
            }

            Index = index;
            Operator = @operator;
            Inputs = inputs;
            Outputs = outputs;
            WeightOffset = weightOffset;
            BiasOffset = biasOffset;
            InputShape = inputShape;
            OutputShape = outputShape;
            Kernel = kernel;
            Stride = stride;
            Padding = padding;
        }

        /// <summary>The image in, for layers on images; <see langword="null"/> for vectors.</summary>
        public ImageShape? InputShape { get; }

        /// <summary>The image out, for layers on images; <see langword="null"/> for vectors.</summary>
        public ImageShape? OutputShape { get; }

        /// <summary>The window's side (Conv2d, pooling), else 0.</summary>
        public int Kernel { get; }

        /// <summary>The step between windows, else 0.</summary>
        public int Stride { get; }

        /// <summary>Conv2d's zero padding, else 0.</summary>
        public int Padding { get; }

        /// <summary>The layer's position in the network, activations included: PyTorch's index in <c>nn.Sequential</c>.</summary>
        public int Index { get; }

        /// <summary>What the layer computes.</summary>
        public LayerOperator Operator { get; }

        /// <summary>Features in.</summary>
        public int Inputs { get; }

        /// <summary>Features out.</summary>
        public int Outputs { get; }

        /// <summary>Where the out×in weight matrix starts in the flat parameters, or -1.</summary>
        public int WeightOffset { get; }

        /// <summary>Where the bias starts in the flat parameters, or -1.</summary>
        public int BiasOffset { get; }

        /// <summary>Whether the layer has a bias.</summary>
        public bool HasBias => BiasOffset >= 0;
    }

    /// <summary>
    /// A generated network as the interchange formats see it: its layers and the flat parameter array's layout.
    /// Generated networks expose theirs as <c>Description</c>; <see cref="Safetensors"/> and <see cref="OnnxExport"/>
    /// read the parameters through it, so the file code is written once, here, for every network.
    /// </summary>
    public sealed class NetworkDescription
    {
        private readonly LayerDescription[] _layers;
        private readonly ParameterTensor[] _tensors;

        /// <summary>Describes a network and checks that its layers chain and its parameters tile the flat array.</summary>
        /// <param name="architecture">The architecture text (<c>float: Linear(784, 128), ReLU, …</c>), kept in file metadata.</param>
        /// <param name="parameterCount">The length of the flat parameter array.</param>
        /// <param name="layers">The layers in order.</param>
        /// <exception cref="ArgumentException">The layers do not chain, are out of order, or their parameters do not tile the array.</exception>
        public NetworkDescription(string architecture, int parameterCount, params LayerDescription[] layers)
        {
            if (architecture is null)
            {
                throw new ArgumentNullException(nameof(architecture));
            }

            if (layers is null || layers.Length == 0)
            {
                throw new ArgumentException("A network has at least one layer.", nameof(layers));
            }

            var tensors = new List<ParameterTensor>();
            int next = 0;
            for (int i = 0; i < layers.Length; i++)
            {
                LayerDescription layer = layers[i] ?? throw new ArgumentException($"Layer {i} is null.", nameof(layers));
                if (layer.Index != i)
                {
                    throw new ArgumentException($"The layer at position {i} says it is layer {layer.Index}.", nameof(layers));
                }

                if (i > 0 && layers[i - 1].Outputs != layer.Inputs)
                {
                    throw new ArgumentException($"Layer {i} expects {layer.Inputs} inputs, but layer {i - 1} produces {layers[i - 1].Outputs}.", nameof(layers));
                }

                if (layer.Operator == LayerOperator.Linear)
                {
                    tensors.Add(Tile(ref next, $"{i}.weight", layer.WeightOffset, isWeight: true, layer.Outputs, layer.Inputs));
                    if (layer.HasBias)
                    {
                        tensors.Add(Tile(ref next, $"{i}.bias", layer.BiasOffset, isWeight: false, layer.Outputs));
                    }
                }
                else if (layer.Operator == LayerOperator.Conv2d)
                {
                    ImageShape input = layer.InputShape!.Value, output = layer.OutputShape!.Value;
                    tensors.Add(Tile(ref next, $"{i}.weight", layer.WeightOffset, isWeight: true, output.Channels, input.Channels, layer.Kernel, layer.Kernel));
                    if (layer.HasBias)
                    {
                        tensors.Add(Tile(ref next, $"{i}.bias", layer.BiasOffset, isWeight: false, output.Channels));
                    }
                }
            }

            if (next != parameterCount)
            {
                throw new ArgumentException($"The layers' parameters take {next} elements, but the network declares {parameterCount}.", nameof(parameterCount));
            }

            Architecture = architecture;
            ParameterCount = parameterCount;
            _layers = layers;
            _tensors = tensors.ToArray();
        }

        /// <summary>
        /// Describes a network by its parameter tensors alone, without a layer list: the layout of a generated model whose
        /// ops form a graph rather than a chain. <see cref="Layers"/> is empty, <see cref="InputSize"/> and
        /// <see cref="OutputSize"/> throw, and <see cref="OnnxExport"/> does not export it yet; safetensors files and
        /// optimizers work from <see cref="Tensors"/> as for any network.
        /// </summary>
        /// <param name="architecture">The architecture text, kept in file metadata.</param>
        /// <param name="parameterCount">The length of the flat parameter array.</param>
        /// <param name="parameters">The tensors in the flat array's order: each starts where the previous one ends, the first at 0, the last ending at <paramref name="parameterCount"/>.</param>
        /// <exception cref="ArgumentException">A name is empty or repeated, a shape is missing or has a negative dimension, or the tensors do not tile [0, <paramref name="parameterCount"/>) in order.</exception>
        public NetworkDescription(string architecture, int parameterCount, IReadOnlyList<ParameterSpec> parameters)
        {
            if (architecture is null)
            {
                throw new ArgumentNullException(nameof(architecture));
            }

            if (parameters is null)
            {
                throw new ArgumentNullException(nameof(parameters));
            }

            var names = new HashSet<string>(StringComparer.Ordinal);
            var tensors = new ParameterTensor[parameters.Count];
            long next = 0;
            for (int i = 0; i < tensors.Length; i++)
            {
                ParameterSpec spec = parameters[i];
                tensors[i] = TensorLayout.Tile(ref next, names, spec.Name, spec.Offset, spec.IsWeight, spec.Shape, "parameter", nameof(parameters));
            }

            if (next != parameterCount)
            {
                throw new ArgumentException($"The tensors take {next} elements, but the network declares {parameterCount}.", nameof(parameterCount));
            }

            Architecture = architecture;
            ParameterCount = parameterCount;
            _layers = Array.Empty<LayerDescription>();
            _tensors = tensors;
        }

        /// <summary>The architecture text.</summary>
        public string Architecture { get; }

        /// <summary>The length of the flat parameter array.</summary>
        public int ParameterCount { get; }

        /// <summary>Features per example in.</summary>
        /// <exception cref="InvalidOperationException">The network was described by its tensors alone, without layers.</exception>
        public int InputSize => _layers.Length > 0 ? _layers[0].Inputs : throw NoLayers(nameof(InputSize));

        /// <summary>Values per example out (the scores before any loss).</summary>
        /// <exception cref="InvalidOperationException">The network was described by its tensors alone, without layers.</exception>
        public int OutputSize => _layers.Length > 0 ? _layers[_layers.Length - 1].Outputs : throw NoLayers(nameof(OutputSize));

        /// <summary>The layers in order; empty for a network described by its tensors alone.</summary>
        public IReadOnlyList<LayerDescription> Layers => _layers;

        /// <summary>
        /// The parameter tensors in the flat array's order, named as PyTorch names the parameters of the equivalent
        /// <c>nn.Sequential</c> (<c>0.weight</c> [out, in], <c>0.bias</c> [out], <c>2.weight</c>, …).
        /// </summary>
        public IReadOnlyList<ParameterTensor> Tensors => _tensors;

        /// <summary>The tensors as an array, for loops that must not allocate an enumerator.</summary>
        internal ParameterTensor[] TensorArray => _tensors;

        private InvalidOperationException NoLayers(string member) =>
            new($"This network ({Architecture}) has no layer list: it was described by its parameter tensors alone (a graph of ops), so it has no {member}.");

        private static ParameterTensor Tile(ref int next, string name, int offset, bool isWeight, params int[] shape)
        {
            if (offset != next)
            {
                throw new ArgumentException($"Tensor {name} starts at parameter {offset}, but the previous tensor ends at {next}: the layout must be contiguous, in layer order.", "layers");
            }

            var tensor = new ParameterTensor(name, offset, isWeight, shape);
            next += tensor.Count;
            return tensor;
        }
    }

    /// <summary>
    /// A parameter tensor of a network described by its tensors alone (see
    /// <see cref="NetworkDescription(string, int, IReadOnlyList{ParameterSpec})"/>).
    /// </summary>
    /// <param name="Name">The name in safetensors files and PyTorch's <c>state_dict</c> (<c>conv1.weight</c>).</param>
    /// <param name="Offset">Where the tensor starts in the flat parameter array.</param>
    /// <param name="IsWeight">Whether optimizers apply weight decay to it (weights, not biases or normalization scales).</param>
    /// <param name="Shape">The shape, outermost dimension first; empty for a scalar. The description keeps a copy.</param>
    public readonly record struct ParameterSpec(string Name, int Offset, bool IsWeight, int[] Shape);

    /// <summary>One named tensor: a row-major block of a flat array (the parameters, or a <see cref="StateDescription"/>'s buffers or counters).</summary>
    public sealed class ParameterTensor
    {
        private readonly int[] _shape;

        internal ParameterTensor(string name, int offset, bool isWeight, int[] shape)
        {
            Name = name;
            Offset = offset;
            IsWeight = isWeight;
            _shape = shape;
            long count = 1;
            foreach (int dimension in shape)
            {
                count *= dimension;
            }

            Count = checked((int)count);
        }

        /// <summary>PyTorch's name for the tensor (<c>0.weight</c>).</summary>
        public string Name { get; }

        /// <summary>Where the tensor starts in its flat array (for a counter, its index in the counters).</summary>
        public int Offset { get; }

        /// <summary>Whether this is a weight matrix (optimizers apply weight decay to weights, not to biases).</summary>
        public bool IsWeight { get; }

        /// <summary>Elements in the tensor.</summary>
        public int Count { get; }

        /// <summary>The tensor's shape, outermost dimension first.</summary>
        public ReadOnlySpan<int> Shape => _shape;

        /// <summary>The shape as PyTorch prints it: <c>[128, 784]</c>.</summary>
        public string ShapeText => "[" + string.Join(", ", _shape) + "]";
    }
}
