using System;
using System.IO;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using static StaticGrad.Interchange.OnnxProto;

namespace StaticGrad.Interchange
{
    /// <summary>
    /// Writes a network's forward pass as an ONNX model that ONNX Runtime (and anything else that reads ONNX) runs:
    /// graph input <c>input</c> [batch, InputSize] with a symbolic batch dimension, graph output <c>output</c>
    /// [batch, OutputSize] equal to the network's <c>Forward</c> (the scores before any loss). Linear layers become
    /// <c>Gemm</c> nodes with <c>transB = 1</c> whose weights and biases are initializers named as PyTorch names them
    /// (<c>0.weight</c>, <c>0.bias</c>); ReLU, Sigmoid and Tanh become <c>Relu</c>, <c>Sigmoid</c>, <c>Tanh</c>. A network on
    /// images starts with a <c>Reshape</c> of the rows to [batch, C, H, W]; Conv2d, MaxPool2d, AvgPool2d and Flatten become
    /// <c>Conv</c>, <c>MaxPool</c>, <c>AveragePool</c> and <c>Flatten</c>; Dropout, the identity at inference, is left out.
    /// </summary>
    /// <remarks>
    /// The file declares IR version <see cref="IrVersion"/> (ONNX 1.8) and imports the default operator set at version
    /// <see cref="OpsetVersion"/>; ONNX Runtime loads that from version 1.6 (2020) on, and every operator used is
    /// defined for both <c>float</c> and <c>double</c> at that opset. The protobuf is written by a small writer of
    /// our own, so the package needs nothing beyond the BCL.
    /// </remarks>
    public static class OnnxExport
    {
        /// <summary>The ONNX IR version the file declares (7: ONNX 1.8).</summary>
        public const long IrVersion = 7;

        /// <summary>The version of the default ONNX operator set the file imports.</summary>
        public const long OpsetVersion = 13;

        /// <summary>The name of the graph's input.</summary>
        public const string InputName = "input";

        /// <summary>The name of the graph's output.</summary>
        public const string OutputName = "output";

        /// <summary>The symbolic name of the batch dimension.</summary>
        public const string BatchDimension = "batch";

        /// <summary>Writes the model to <paramref name="path"/> (through a temporary file that then replaces it).</summary>
        /// <param name="path">The .onnx file to create or replace.</param>
        /// <param name="network">The network.</param>
        /// <param name="parameters">Its flat parameter array.</param>
        /// <exception cref="NotSupportedException">The network has no layer list (a graph model described by its tensors alone).</exception>
        public static void Save(string path, NetworkDescription network, ReadOnlySpan<float> parameters) =>
            AtomicFile.WriteAllBytes(path, Build(network, parameters).WrittenSpan);

        /// <summary>Writes the model to <paramref name="path"/> (through a temporary file that then replaces it).</summary>
        /// <param name="path">The .onnx file to create or replace.</param>
        /// <param name="network">The network.</param>
        /// <param name="parameters">Its flat parameter array.</param>
        /// <exception cref="NotSupportedException">The network has no layer list (a graph model described by its tensors alone).</exception>
        public static void Save(string path, NetworkDescription network, ReadOnlySpan<double> parameters) =>
            AtomicFile.WriteAllBytes(path, Build(network, parameters).WrittenSpan);

        /// <summary>Writes the model to <paramref name="stream"/>.</summary>
        /// <param name="stream">A writable stream.</param>
        /// <param name="network">The network.</param>
        /// <param name="parameters">Its flat parameter array.</param>
        /// <exception cref="NotSupportedException">The network has no layer list (a graph model described by its tensors alone).</exception>
        public static void Save(Stream stream, NetworkDescription network, ReadOnlySpan<float> parameters) =>
            WriteTo(stream, Build(network, parameters));

        /// <summary>Writes the model to <paramref name="stream"/>.</summary>
        /// <param name="stream">A writable stream.</param>
        /// <param name="network">The network.</param>
        /// <param name="parameters">Its flat parameter array.</param>
        /// <exception cref="NotSupportedException">The network has no layer list (a graph model described by its tensors alone).</exception>
        public static void Save(Stream stream, NetworkDescription network, ReadOnlySpan<double> parameters) =>
            WriteTo(stream, Build(network, parameters));

        /// <summary>
        /// Writes the model to <paramref name="path"/> (through a temporary file that then replaces it) with tensors of
        /// <paramref name="elementType"/>: <see cref="ElementType.Double"/> widens every parameter exactly, the graph's input
        /// and output become double.
        /// </summary>
        /// <param name="path">The .onnx file to create or replace.</param>
        /// <param name="network">The network.</param>
        /// <param name="parameters">Its flat parameter array.</param>
        /// <param name="elementType">The element type of the graph's input, output and initializers.</param>
        /// <exception cref="ArgumentOutOfRangeException"><paramref name="elementType"/> is not a defined value.</exception>
        /// <exception cref="NotSupportedException">The network has no layer list (a graph model described by its tensors alone).</exception>
        public static void Save(string path, NetworkDescription network, ReadOnlySpan<float> parameters, ElementType elementType) =>
            AtomicFile.WriteAllBytes(path, Build(network, parameters, elementType).WrittenSpan);

        /// <summary>
        /// Writes the model to <paramref name="path"/> (through a temporary file that then replaces it) with tensors of
        /// <paramref name="elementType"/>: <see cref="ElementType.Float"/> rounds every parameter to the nearest float and makes
        /// the graph's input and output float, so ONNX Runtime's CPU provider runs a double network's <c>Conv</c> layers.
        /// </summary>
        /// <param name="path">The .onnx file to create or replace.</param>
        /// <param name="network">The network.</param>
        /// <param name="parameters">Its flat parameter array.</param>
        /// <param name="elementType">The element type of the graph's input, output and initializers.</param>
        /// <exception cref="ArgumentOutOfRangeException"><paramref name="elementType"/> is not a defined value.</exception>
        /// <exception cref="NotSupportedException">The network has no layer list (a graph model described by its tensors alone).</exception>
        public static void Save(string path, NetworkDescription network, ReadOnlySpan<double> parameters, ElementType elementType) =>
            AtomicFile.WriteAllBytes(path, Build(network, parameters, elementType).WrittenSpan);

        /// <summary>Writes the model to <paramref name="stream"/> with tensors of <paramref name="elementType"/>; see <see cref="Save(string, NetworkDescription, ReadOnlySpan{float}, ElementType)"/>.</summary>
        /// <param name="stream">A writable stream.</param>
        /// <param name="network">The network.</param>
        /// <param name="parameters">Its flat parameter array.</param>
        /// <param name="elementType">The element type of the graph's input, output and initializers.</param>
        /// <exception cref="ArgumentOutOfRangeException"><paramref name="elementType"/> is not a defined value.</exception>
        /// <exception cref="NotSupportedException">The network has no layer list (a graph model described by its tensors alone).</exception>
        public static void Save(Stream stream, NetworkDescription network, ReadOnlySpan<float> parameters, ElementType elementType) =>
            WriteTo(stream, Build(network, parameters, elementType));

        /// <summary>Writes the model to <paramref name="stream"/> with tensors of <paramref name="elementType"/>; see <see cref="Save(string, NetworkDescription, ReadOnlySpan{double}, ElementType)"/>.</summary>
        /// <param name="stream">A writable stream.</param>
        /// <param name="network">The network.</param>
        /// <param name="parameters">Its flat parameter array.</param>
        /// <param name="elementType">The element type of the graph's input, output and initializers.</param>
        /// <exception cref="ArgumentOutOfRangeException"><paramref name="elementType"/> is not a defined value.</exception>
        /// <exception cref="NotSupportedException">The network has no layer list (a graph model described by its tensors alone).</exception>
        public static void Save(Stream stream, NetworkDescription network, ReadOnlySpan<double> parameters, ElementType elementType) =>
            WriteTo(stream, Build(network, parameters, elementType));

        // The model in the element type asked for: the parameters converted first (an export allocates its protobuf anyway).
        private static ProtobufWriter Build(NetworkDescription network, ReadOnlySpan<float> parameters, ElementType elementType)
        {
            switch (elementType)
            {
                case ElementType.Float:
                    return Build<float>(network, parameters);
                case ElementType.Double:
                    double[] widened = new double[parameters.Length];
                    for (int i = 0; i < widened.Length; i++)
                    {
                        widened[i] = parameters[i];
                    }

                    return Build<double>(network, widened);
                default:
                    throw new ArgumentOutOfRangeException(nameof(elementType), elementType, "The element type must be ElementType.Float or ElementType.Double.");
            }
        }

        private static ProtobufWriter Build(NetworkDescription network, ReadOnlySpan<double> parameters, ElementType elementType)
        {
            switch (elementType)
            {
                case ElementType.Double:
                    return Build<double>(network, parameters);
                case ElementType.Float:
                    float[] rounded = new float[parameters.Length];
                    for (int i = 0; i < rounded.Length; i++)
                    {
                        rounded[i] = (float)parameters[i];
                    }

                    return Build<float>(network, rounded);
                default:
                    throw new ArgumentOutOfRangeException(nameof(elementType), elementType, "The element type must be ElementType.Float or ElementType.Double.");
            }
        }

        private static void WriteTo(Stream stream, ProtobufWriter model)
        {
            if (stream is null)
            {
                throw new ArgumentNullException(nameof(stream));
            }

            stream.Write(model.WrittenSpan);
        }

        private static ProtobufWriter Build<T>(NetworkDescription network, ReadOnlySpan<T> parameters)
            where T : unmanaged
        {
            if (network is null)
            {
                throw new ArgumentNullException(nameof(network));
            }

            if (network.Layers.Count == 0)
            {
                throw new NotSupportedException($"ONNX export of graph models is not available yet: this network ({network.Architecture}) is described by its parameter tensors alone, without a layer list to translate into ONNX nodes.");
            }

            if (parameters.Length != network.ParameterCount)
            {
                throw new ArgumentException($"The network has {network.ParameterCount} parameters, but the span has length {parameters.Length}.", nameof(parameters));
            }

            int elementType = typeof(T) == typeof(float) ? ElementFloat : ElementDouble;
            var graph = new ProtobufWriter();
            graph.WriteString(GraphName, "staticgrad");
            graph.WriteString(GraphDocString, network.Architecture);

            string current = InputName;
            if (network.Layers[0].InputShape is { } image)
            {
                // Rows of C·H·W values become NCHW images for the first image layer: Reshape to [-1, C, H, W].
                var shapeTensor = new ProtobufWriter();
                shapeTensor.WriteInt64(TensorDims, 4);
                shapeTensor.WriteInt64(TensorDataType, ElementInt64);
                shapeTensor.WriteString(TensorName, "/input/shape");
                byte[] dims = new byte[32];
                long[] values = { -1, image.Channels, image.Height, image.Width };
                for (int d = 0; d < 4; d++)
                {
                    System.Buffers.Binary.BinaryPrimitives.WriteInt64LittleEndian(dims.AsSpan(d * 8), values[d]);
                }

                shapeTensor.WriteBytes(TensorRawData, dims);
                graph.WriteMessage(GraphInitializer, shapeTensor);
                var reshape = new ProtobufWriter();
                reshape.WriteString(NodeInput, InputName);
                reshape.WriteString(NodeInput, "/input/shape");
                reshape.WriteString(NodeOutput, "/input/image");
                reshape.WriteString(NodeName, "/input/Reshape");
                reshape.WriteString(NodeOpType, "Reshape");
                graph.WriteMessage(GraphNode, reshape);
                current = "/input/image";
            }

            int lastNode = network.Layers.Count - 1;
            while (lastNode > 0 && network.Layers[lastNode].Operator == LayerOperator.Dropout)
            {
                lastNode--; // trailing Dropout layers are left out: the graph output comes from the layer before them
            }

            for (int i = 0; i < network.Layers.Count; i++)
            {
                LayerDescription layer = network.Layers[i];
                if (layer.Operator == LayerOperator.Dropout && i != 0)
                {
                    continue; // the identity at inference
                }

                bool flattenAfter = i == lastNode && layer.OutputShape is not null && layer.Operator != LayerOperator.Flatten;
                string output = i == lastNode ? (flattenAfter ? OutputName + "/image" : OutputName) : $"/{i}/output";
                var node = new ProtobufWriter();
                node.WriteString(NodeInput, current);
                switch (layer.Operator)
                {
                    case LayerOperator.Conv2d:
                        node.WriteString(NodeInput, $"{i}.weight");
                        if (layer.HasBias)
                        {
                            node.WriteString(NodeInput, $"{i}.bias");
                        }

                        node.WriteString(NodeOutput, output);
                        node.WriteString(NodeName, $"/{i}/Conv");
                        node.WriteString(NodeOpType, "Conv");
                        node.WriteMessage(NodeAttribute, Ints("kernel_shape", layer.Kernel, layer.Kernel));
                        node.WriteMessage(NodeAttribute, Ints("strides", layer.Stride, layer.Stride));
                        node.WriteMessage(NodeAttribute, Ints("pads", layer.Padding, layer.Padding, layer.Padding, layer.Padding));
                        break;
                    case LayerOperator.MaxPool2d:
                    case LayerOperator.AvgPool2d:
                        string pool = layer.Operator == LayerOperator.MaxPool2d ? "MaxPool" : "AveragePool";
                        node.WriteString(NodeOutput, output);
                        node.WriteString(NodeName, $"/{i}/{pool}");
                        node.WriteString(NodeOpType, pool);
                        node.WriteMessage(NodeAttribute, Ints("kernel_shape", layer.Kernel, layer.Kernel));
                        node.WriteMessage(NodeAttribute, Ints("strides", layer.Stride, layer.Stride));
                        break;
                    case LayerOperator.Flatten:
                        node = FlattenNode(current, output, $"/{i}/Flatten");
                        break;
                    case LayerOperator.Dropout:
                        // A network that starts with Dropout: an Identity node keeps the graph's input connected.
                        node.WriteString(NodeOutput, output);
                        node.WriteString(NodeName, $"/{i}/Identity");
                        node.WriteString(NodeOpType, "Identity");
                        break;
                    case LayerOperator.Linear:
                        node.WriteString(NodeInput, $"{i}.weight");
                        if (layer.HasBias)
                        {
                            node.WriteString(NodeInput, $"{i}.bias");
                        }

                        node.WriteString(NodeOutput, output);
                        node.WriteString(NodeName, $"/{i}/Gemm");
                        node.WriteString(NodeOpType, "Gemm");
                        var transB = new ProtobufWriter();
                        transB.WriteString(AttributeName, "transB");
                        transB.WriteInt64(AttributeInt, 1);
                        transB.WriteInt64(AttributeType, AttributeTypeInt);
                        node.WriteMessage(NodeAttribute, transB);
                        break;
                    default:
                        string op = layer.Operator switch
                        {
                            LayerOperator.ReLU => "Relu",
                            LayerOperator.Sigmoid => "Sigmoid",
                            LayerOperator.Tanh => "Tanh",
                            _ => throw new NotSupportedException($"Layer {i} ({layer.Operator}) has no ONNX export."),
                        };
                        node.WriteString(NodeOutput, output);
                        node.WriteString(NodeName, $"/{i}/{op}");
                        node.WriteString(NodeOpType, op);
                        break;
                }

                graph.WriteMessage(GraphNode, node);
                current = output;
            }

            if (network.Layers[lastNode].OutputShape is not null && network.Layers[lastNode].Operator != LayerOperator.Flatten)
            {
                // A network that ends on an image: Forward gives its values as rows, so the graph flattens them too.
                graph.WriteMessage(GraphNode, FlattenNode(OutputName + "/image", OutputName, "/output/Flatten"));
            }

            foreach (ParameterTensor tensor in network.Tensors)
            {
                graph.WriteMessage(GraphInitializer, Initializer(tensor, parameters.Slice(tensor.Offset, tensor.Count), elementType));
            }

            graph.WriteMessage(GraphInput, ValueInfo(InputName, elementType, network.InputSize));
            graph.WriteMessage(GraphOutput, ValueInfo(OutputName, elementType, network.OutputSize));

            var opset = new ProtobufWriter();
            opset.WriteString(OpsetDomain, string.Empty);
            opset.WriteInt64(OpsetVersionField, OpsetVersion);

            var model = new ProtobufWriter();
            model.WriteInt64(ModelIrVersion, IrVersion);
            model.WriteString(ModelProducerName, "StaticGrad");
            model.WriteString(ModelProducerVersion, typeof(OnnxExport).Assembly.GetName().Version?.ToString() ?? "0.0.0");
            model.WriteString(ModelDocString, network.Architecture);
            model.WriteMessage(ModelGraph, graph);
            model.WriteMessage(ModelOpsetImport, opset);
            return model;
        }

        private static ProtobufWriter Initializer<T>(ParameterTensor tensor, ReadOnlySpan<T> values, int elementType)
            where T : unmanaged => RawTensor(tensor.Name, tensor.Shape, values, elementType);

        /// <summary>A Flatten node with axis 1: [batch, C, H, W] → [batch, C·H·W].</summary>
        private static ProtobufWriter FlattenNode(string input, string output, string name)
        {
            var node = new ProtobufWriter();
            node.WriteString(NodeInput, input);
            node.WriteString(NodeOutput, output);
            node.WriteString(NodeName, name);
            node.WriteString(NodeOpType, "Flatten");
            var axis = new ProtobufWriter();
            axis.WriteString(AttributeName, "axis");
            axis.WriteInt64(AttributeInt, 1);
            axis.WriteInt64(AttributeType, AttributeTypeInt);
            node.WriteMessage(NodeAttribute, axis);
            return node;
        }

        /// <summary>An INTS attribute (kernel_shape, strides, pads).</summary>
        private static ProtobufWriter Ints(string name, params int[] values)
        {
            var attribute = new ProtobufWriter();
            attribute.WriteString(AttributeName, name);
            foreach (int value in values)
            {
                attribute.WriteInt64(AttributeInts, value);
            }

            attribute.WriteInt64(AttributeType, AttributeTypeInts);
            return attribute;
        }

        private static ProtobufWriter ValueInfo(string name, int elementType, int features) =>
            TensorValueInfo(name, elementType, BatchDimension, new[] { features });
    }
}
