using System;
using System.Collections.Generic;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace StaticGrad.Interchange
{
    /// <summary>
    /// The field numbers and enum values of onnx.proto that StaticGrad's ONNX writers use (<see cref="OnnxExport"/> for
    /// attribute networks, <see cref="OnnxGraphExport"/> for models), and the messages both build the same way.
    /// </summary>
    internal static class OnnxProto
    {
        // ModelProto, OperatorSetIdProto, GraphProto, NodeProto.
        public const int ModelIrVersion = 1, ModelProducerName = 2, ModelProducerVersion = 3, ModelDocString = 6, ModelGraph = 7, ModelOpsetImport = 8;
        public const int OpsetDomain = 1, OpsetVersionField = 2;
        public const int GraphNode = 1, GraphName = 2, GraphInitializer = 5, GraphDocString = 10, GraphInput = 11, GraphOutput = 12;
        public const int NodeInput = 1, NodeOutput = 2, NodeName = 3, NodeOpType = 4, NodeAttribute = 5;

        // AttributeProto and its AttributeType values.
        public const int AttributeName = 1, AttributeFloat = 2, AttributeInt = 3, AttributeInts = 8, AttributeType = 20;
        public const int AttributeTypeFloat = 1, AttributeTypeInt = 2, AttributeTypeInts = 7;

        // TensorProto, ValueInfoProto, TypeProto, TensorShapeProto and TensorProto.DataType values.
        public const int TensorDims = 1, TensorDataType = 2, TensorName = 8, TensorRawData = 9;
        public const int ValueInfoName = 1, ValueInfoType = 2;
        public const int TypeTensor = 1, TypeTensorElemType = 1, TypeTensorShape = 2;
        public const int ShapeDim = 1, DimValue = 1, DimParam = 2;
        public const int ElementFloat = 1, ElementDouble = 11, ElementInt64 = 7, ElementInt32 = 6;

        /// <summary>A <c>TensorProto</c> whose values are <paramref name="values"/> as little-endian <c>raw_data</c>.</summary>
        public static ProtobufWriter RawTensor<T>(string name, ReadOnlySpan<int> shape, ReadOnlySpan<T> values, int elementType)
            where T : unmanaged
        {
            var proto = new ProtobufWriter();
            foreach (int dimension in shape)
            {
                proto.WriteInt64(TensorDims, dimension);
            }

            proto.WriteInt64(TensorDataType, elementType);
            proto.WriteString(TensorName, name);
            ReadOnlySpan<byte> bytes = MemoryMarshal.AsBytes(values);
            if (BitConverter.IsLittleEndian)
            {
                proto.WriteBytes(TensorRawData, bytes);
            }
            else
            {
                // raw_data is little-endian whatever the machine.
                byte[] swapped = bytes.ToArray();
                int size = Unsafe.SizeOf<T>();
                for (int at = 0; at < swapped.Length; at += size)
                {
                    Array.Reverse(swapped, at, size);
                }

                proto.WriteBytes(TensorRawData, swapped);
            }

            return proto;
        }

        /// <summary>A <c>ValueInfoProto</c> of a tensor [<paramref name="batchDimension"/>, …<paramref name="dimensions"/>].</summary>
        public static ProtobufWriter TensorValueInfo(string name, int elementType, string batchDimension, IReadOnlyList<int> dimensions)
        {
            var shape = new ProtobufWriter();
            var batch = new ProtobufWriter();
            batch.WriteString(DimParam, batchDimension);
            shape.WriteMessage(ShapeDim, batch);
            foreach (int dimension in dimensions)
            {
                var dim = new ProtobufWriter();
                dim.WriteInt64(DimValue, dimension);
                shape.WriteMessage(ShapeDim, dim);
            }

            var tensorType = new ProtobufWriter();
            tensorType.WriteInt64(TypeTensorElemType, elementType);
            tensorType.WriteMessage(TypeTensorShape, shape);
            var type = new ProtobufWriter();
            type.WriteMessage(TypeTensor, tensorType);

            var info = new ProtobufWriter();
            info.WriteString(ValueInfoName, name);
            info.WriteMessage(ValueInfoType, type);
            return info;
        }
    }
}
