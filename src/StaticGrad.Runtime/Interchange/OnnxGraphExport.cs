using System;
using System.Collections.Generic;
using System.IO;
using static StaticGrad.Interchange.OnnxProto;

namespace StaticGrad.Interchange
{
    /// <summary>
    /// Writes a <c>[Model]</c>'s <see cref="OnnxGraph"/> as an ONNX file with the model's current parameters and buffers
    /// (the generated <c>ExportOnnx</c> methods call it). The graph computes <c>Forward</c> in evaluation mode: BatchNorm
    /// with its running statistics, Dropout as the identity. Every input and the output <c>output</c> are float tensors
    /// [batch, …the shape per example] with a symbolic batch dimension named <c>batch</c>; parameters and running
    /// statistics are initializers under their PyTorch <c>state_dict</c> names.
    /// </summary>
    /// <remarks>
    /// Any opset from <see cref="MinimumOpset"/> (13) to <see cref="MaximumOpset"/> (21) may be asked for; the file declares
    /// the IR version that opset came with (<see cref="IrVersionFor"/>). From opset 17 on, LayerNorm is one
    /// <c>LayerNormalization</c> node; below it, <c>ReduceMean</c>, <c>Sub</c>, <c>Mul</c>, <c>Add</c>, <c>Sqrt</c> and <c>Div</c>.
    /// GELU is written out with <c>Erf</c> (or <c>Tanh</c> for its approximation) at every opset.
    /// </remarks>
    public static class OnnxGraphExport
    {
        /// <summary>The lowest default-domain opset a file may import (ONNX 1.8).</summary>
        public const int MinimumOpset = 13;

        /// <summary>The highest default-domain opset a file may import (ONNX 1.16).</summary>
        public const int MaximumOpset = 21;

        /// <summary>The opset <c>ExportOnnx</c> writes when none is given: 17 (ONNX 1.12), the first with <c>LayerNormalization</c>.</summary>
        public const int DefaultOpset = 17;

        /// <summary>The name of the graph's output.</summary>
        public const string OutputName = "output";

        /// <summary>The symbolic name of the batch dimension of the inputs and the output.</summary>
        public const string BatchDimension = "batch";

        /// <summary>The ONNX IR version released with <paramref name="opset"/> (7 for 13 and 14, 8 for 15 to 18, 9 for 19 and 20, 10 for 21).</summary>
        /// <param name="opset">An opset from <see cref="MinimumOpset"/> to <see cref="MaximumOpset"/>.</param>
        /// <returns>The IR version a file importing that opset declares.</returns>
        /// <exception cref="ArgumentOutOfRangeException"><paramref name="opset"/> is outside the supported range.</exception>
        public static long IrVersionFor(int opset)
        {
            CheckOpset(opset);
            return opset switch
            {
                <= 14 => 7,
                <= 18 => 8,
                <= 20 => 9,
                _ => 10,
            };
        }

        /// <summary>Writes the model to <paramref name="path"/> (through a temporary file that then replaces it).</summary>
        /// <param name="path">The .onnx file to create or replace.</param>
        /// <param name="graph">The model's graph (its generated <c>OnnxGraph</c>).</param>
        /// <param name="parameters">The model's flat parameter array.</param>
        /// <param name="buffers">The model's flat buffer array (running statistics).</param>
        /// <param name="opset">The default domain's opset version the file imports.</param>
        /// <exception cref="ArgumentNullException"><paramref name="path"/> or <paramref name="graph"/> is null.</exception>
        /// <exception cref="ArgumentOutOfRangeException"><paramref name="opset"/> is not from <see cref="MinimumOpset"/> to <see cref="MaximumOpset"/>.</exception>
        /// <exception cref="ArgumentException"><paramref name="parameters"/> or <paramref name="buffers"/> is too short for a state tensor of the graph.</exception>
        public static void Save(string path, OnnxGraph graph, ReadOnlySpan<float> parameters, ReadOnlySpan<float> buffers, int opset = DefaultOpset)
        {
            if (path is null)
            {
                throw new ArgumentNullException(nameof(path));
            }

            AtomicFile.WriteAllBytes(path, Build(graph, parameters, buffers, opset).WrittenSpan);
        }

        /// <summary>Writes the model to <paramref name="stream"/>; see <see cref="Save(string, OnnxGraph, ReadOnlySpan{float}, ReadOnlySpan{float}, int)"/>.</summary>
        /// <param name="stream">A writable stream.</param>
        /// <param name="graph">The model's graph (its generated <c>OnnxGraph</c>).</param>
        /// <param name="parameters">The model's flat parameter array.</param>
        /// <param name="buffers">The model's flat buffer array (running statistics).</param>
        /// <param name="opset">The default domain's opset version the file imports.</param>
        /// <exception cref="ArgumentNullException"><paramref name="stream"/> or <paramref name="graph"/> is null.</exception>
        /// <exception cref="ArgumentOutOfRangeException"><paramref name="opset"/> is not from <see cref="MinimumOpset"/> to <see cref="MaximumOpset"/>.</exception>
        /// <exception cref="ArgumentException"><paramref name="parameters"/> or <paramref name="buffers"/> is too short for a state tensor of the graph.</exception>
        public static void Save(Stream stream, OnnxGraph graph, ReadOnlySpan<float> parameters, ReadOnlySpan<float> buffers, int opset = DefaultOpset)
        {
            if (stream is null)
            {
                throw new ArgumentNullException(nameof(stream));
            }

            stream.Write(Build(graph, parameters, buffers, opset).WrittenSpan);
        }

        /// <summary>
        /// Writes a <c>[Model&lt;double&gt;]</c> as an ONNX model of FLOAT tensors (its state rounded to float, the inputs and
        /// outputs FLOAT): what ONNX Runtime's CPU provider runs for every op; see <see cref="Save(string, OnnxGraph, ReadOnlySpan{float}, ReadOnlySpan{float}, int)"/>.
        /// </summary>
        /// <param name="path">The .onnx file to create or replace.</param>
        /// <param name="graph">The model's graph (its generated <c>OnnxGraph</c>).</param>
        /// <param name="parameters">The model's flat parameter array.</param>
        /// <param name="buffers">The model's flat buffer array (running statistics).</param>
        /// <param name="opset">The default domain's opset version the file imports.</param>
        /// <exception cref="ArgumentNullException"><paramref name="path"/> or <paramref name="graph"/> is null.</exception>
        /// <exception cref="ArgumentOutOfRangeException"><paramref name="opset"/> is not from <see cref="MinimumOpset"/> to <see cref="MaximumOpset"/>.</exception>
        /// <exception cref="ArgumentException"><paramref name="parameters"/> or <paramref name="buffers"/> is too short for a state tensor of the graph.</exception>
        public static void Save(string path, OnnxGraph graph, ReadOnlySpan<double> parameters, ReadOnlySpan<double> buffers, int opset = DefaultOpset) =>
            Save(path, graph, Narrow(parameters), Narrow(buffers), opset);

        /// <summary>Writes a <c>[Model&lt;double&gt;]</c> to <paramref name="stream"/> as an ONNX model of FLOAT tensors; see <see cref="Save(string, OnnxGraph, ReadOnlySpan{double}, ReadOnlySpan{double}, int)"/>.</summary>
        /// <param name="stream">A writable stream.</param>
        /// <param name="graph">The model's graph (its generated <c>OnnxGraph</c>).</param>
        /// <param name="parameters">The model's flat parameter array.</param>
        /// <param name="buffers">The model's flat buffer array (running statistics).</param>
        /// <param name="opset">The default domain's opset version the file imports.</param>
        /// <exception cref="ArgumentNullException"><paramref name="stream"/> or <paramref name="graph"/> is null.</exception>
        /// <exception cref="ArgumentOutOfRangeException"><paramref name="opset"/> is not from <see cref="MinimumOpset"/> to <see cref="MaximumOpset"/>.</exception>
        /// <exception cref="ArgumentException"><paramref name="parameters"/> or <paramref name="buffers"/> is too short for a state tensor of the graph.</exception>
        public static void Save(Stream stream, OnnxGraph graph, ReadOnlySpan<double> parameters, ReadOnlySpan<double> buffers, int opset = DefaultOpset) =>
            Save(stream, graph, Narrow(parameters), Narrow(buffers), opset);

        private static float[] Narrow(ReadOnlySpan<double> values)
        {
            var narrow = new float[values.Length];
            for (int i = 0; i < values.Length; i++)
            {
                narrow[i] = (float)values[i];
            }

            return narrow;
        }

        private static void CheckOpset(int opset)
        {
            if (opset < MinimumOpset || opset > MaximumOpset)
            {
                throw new ArgumentOutOfRangeException(nameof(opset), opset, $"StaticGrad writes ONNX opsets {MinimumOpset} to {MaximumOpset}; {opset} is not one of them.");
            }
        }

        private static ProtobufWriter Build(OnnxGraph graph, ReadOnlySpan<float> parameters, ReadOnlySpan<float> buffers, int opset)
        {
            if (graph is null)
            {
                throw new ArgumentNullException(nameof(graph));
            }

            long irVersion = IrVersionFor(opset);
            var proto = new ProtobufWriter();
            proto.WriteString(GraphName, "staticgrad");
            proto.WriteString(GraphDocString, graph.DocString);

            var read = new HashSet<string>(StringComparer.Ordinal);
            foreach (OnnxNode node in graph.Nodes)
            {
                if (!node.AppliesTo(opset))
                {
                    continue;
                }

                var message = new ProtobufWriter();
                foreach (string input in node.Inputs)
                {
                    message.WriteString(NodeInput, input);
                    read.Add(input);
                }

                foreach (string output in node.Outputs)
                {
                    message.WriteString(NodeOutput, output);
                }

                message.WriteString(NodeName, node.Name);
                message.WriteString(NodeOpType, node.OpType);
                foreach (OnnxAttribute attribute in node.Attributes)
                {
                    message.WriteMessage(NodeAttribute, Attribute(attribute));
                }

                proto.WriteMessage(GraphNode, message);
            }

            foreach (OnnxInitializer initializer in graph.Initializers)
            {
                if (!read.Contains(initializer.Name))
                {
                    continue; // a constant of nodes written for other opsets only
                }

                proto.WriteMessage(GraphInitializer, initializer.Source switch
                {
                    OnnxInitializerSource.Parameters => RawTensor(initializer.Name, initializer.ShapeArray, Slice(parameters, initializer, nameof(parameters)), ElementFloat),
                    OnnxInitializerSource.Buffers => RawTensor(initializer.Name, initializer.ShapeArray, Slice(buffers, initializer, nameof(buffers)), ElementFloat),
                    OnnxInitializerSource.Int64Constant => RawTensor(initializer.Name, initializer.ShapeArray, new ReadOnlySpan<long>(ToArray(initializer.Int64Values)), ElementInt64),
                    _ => RawTensor(initializer.Name, initializer.ShapeArray, new ReadOnlySpan<float>(ToArray(initializer.FloatValues)), ElementFloat),
                });
            }

            foreach (OnnxTensorInfo input in graph.Inputs)
            {
                proto.WriteMessage(GraphInput, TensorValueInfo(input.Name, input.Integers ? ElementInt32 : ElementFloat, BatchDimension, input.Shape));
            }

            foreach (OnnxTensorInfo output in graph.Outputs)
            {
                proto.WriteMessage(GraphOutput, TensorValueInfo(output.Name, ElementFloat, BatchDimension, output.Shape));
            }

            var opsetImport = new ProtobufWriter();
            opsetImport.WriteString(OpsetDomain, string.Empty);
            opsetImport.WriteInt64(OpsetVersionField, opset);

            var model = new ProtobufWriter();
            model.WriteInt64(ModelIrVersion, irVersion);
            model.WriteString(ModelProducerName, "StaticGrad");
            model.WriteString(ModelProducerVersion, typeof(OnnxGraphExport).Assembly.GetName().Version?.ToString() ?? "0.0.0");
            model.WriteString(ModelDocString, graph.DocString);
            model.WriteMessage(ModelGraph, proto);
            model.WriteMessage(ModelOpsetImport, opsetImport);
            return model;
        }

        private static ReadOnlySpan<float> Slice(ReadOnlySpan<float> values, OnnxInitializer tensor, string parameterName)
        {
            if (tensor.Offset < 0 || (long)tensor.Offset + tensor.Count > values.Length)
            {
                throw new ArgumentException($"'{tensor.Name}' takes values {tensor.Offset} to {(long)tensor.Offset + tensor.Count - 1}, but the span has length {values.Length}.", parameterName);
            }

            return values.Slice(tensor.Offset, tensor.Count);
        }

        private static T[] ToArray<T>(IReadOnlyList<T> values)
        {
            var array = new T[values.Count];
            for (int i = 0; i < array.Length; i++)
            {
                array[i] = values[i];
            }

            return array;
        }

        private static ProtobufWriter Attribute(OnnxAttribute attribute)
        {
            var proto = new ProtobufWriter();
            proto.WriteString(AttributeName, attribute.Name);
            switch (attribute.Kind)
            {
                case OnnxAttributeKind.Float:
                    proto.WriteFloat(AttributeFloat, attribute.FloatValue);
                    proto.WriteInt64(AttributeType, AttributeTypeFloat);
                    break;
                case OnnxAttributeKind.Int:
                    proto.WriteInt64(AttributeInt, attribute.IntValue);
                    proto.WriteInt64(AttributeType, AttributeTypeInt);
                    break;
                default:
                    foreach (long value in attribute.IntValues)
                    {
                        proto.WriteInt64(AttributeInts, value);
                    }

                    proto.WriteInt64(AttributeType, AttributeTypeInts);
                    break;
            }

            return proto;
        }
    }
}
