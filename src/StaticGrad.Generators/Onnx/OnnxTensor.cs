using System;
using System.Collections.Immutable;
using System.Runtime.InteropServices;

namespace StaticGrad.Generators.Onnx
{
    /// <summary>The values of <c>TensorProto.DataType</c> StaticGrad names or reads.</summary>
    internal static class OnnxDataType
    {
        public const int Undefined = 0, Float = 1, UInt8 = 2, Int8 = 3, UInt16 = 4, Int16 = 5, Int32 = 6, Int64 = 7, String = 8, Bool = 9,
            Float16 = 10, Double = 11, UInt32 = 12, UInt64 = 13, Complex64 = 14, Complex128 = 15, BFloat16 = 16;

        private static readonly string[] Names =
        {
            "UNDEFINED", "FLOAT", "UINT8", "INT8", "UINT16", "INT16", "INT32", "INT64", "STRING", "BOOL", "FLOAT16", "DOUBLE", "UINT32", "UINT64",
            "COMPLEX64", "COMPLEX128", "BFLOAT16", "FLOAT8E4M3FN", "FLOAT8E4M3FNUZ", "FLOAT8E5M2", "FLOAT8E5M2FNUZ", "UINT4", "INT4", "FLOAT4E2M1",
            "FLOAT8E8M0", "UINT2", "INT2",
        };

        /// <summary>The name onnx.proto gives a data type (FLOAT, INT64, …), or "data type 99" for a value it does not define.</summary>
        public static string Name(int dataType) =>
            dataType >= 0 && dataType < Names.Length ? Names[dataType] : "data type " + dataType.ToString(System.Globalization.CultureInfo.InvariantCulture);

        /// <summary>Bytes per element in <c>raw_data</c>, or 0 for types that are not a whole number of bytes or have no fixed size.</summary>
        public static int Size(int dataType) => dataType switch
        {
            Float or Int32 or UInt32 => 4,
            Int64 or UInt64 or Double or Complex64 => 8,
            Complex128 => 16,
            UInt8 or Int8 or Bool or 17 or 18 or 19 or 20 or 24 => 1,
            UInt16 or Int16 or Float16 or BFloat16 => 2,
            _ => 0,
        };
    }

    /// <summary>How the elements of one typed data field of a <c>TensorProto</c> are encoded on the wire.</summary>
    internal enum OnnxScalarEncoding
    {
        /// <summary>Varints (int32_data, int64_data, uint64_data).</summary>
        Varint,

        /// <summary>Four little-endian bytes each (float_data).</summary>
        Fixed32,

        /// <summary>Eight little-endian bytes each (double_data).</summary>
        Fixed64,
    }

    /// <summary>
    /// A <c>TensorProto</c>: name, element type, dims and its values, kept as slices of the file's bytes (the reader
    /// checked that they hold exactly the element count the dims give) and decoded only when asked, by
    /// <see cref="DecodeFloats"/>, <see cref="DecodeDoubles"/>, <see cref="DecodeInt64s"/>, <see cref="DecodeInt32s"/>.
    /// The file's byte array is shared, not copied: it must not change while the tensor is in use.
    /// </summary>
    internal sealed class OnnxTensor
    {
        private readonly byte[] _buffer;
        private readonly ImmutableArray<ByteRange> _data;

        internal OnnxTensor(string name, int dataType, ImmutableArray<long> dims, long elementCount, byte[] buffer, bool raw, OnnxScalarEncoding encoding, ImmutableArray<ByteRange> data)
        {
            Name = name;
            DataType = dataType;
            Dims = dims;
            ElementCount = elementCount;
            _buffer = buffer;
            IsRaw = raw;
            Encoding = encoding;
            _data = data;
        }

        /// <summary><c>name</c> (field 8); may be empty for an attribute's tensor.</summary>
        public string Name { get; }

        /// <summary><c>data_type</c> (field 2), an <see cref="OnnxDataType"/> value.</summary>
        public int DataType { get; }

        /// <summary><c>dims</c> (field 1); empty for a scalar.</summary>
        public ImmutableArray<long> Dims { get; }

        /// <summary>The product of <see cref="Dims"/> (1 for a scalar), below the largest array length.</summary>
        public long ElementCount { get; }

        /// <summary>True when the values are in <c>raw_data</c> (little-endian), false when in a typed field.</summary>
        internal bool IsRaw { get; }

        /// <summary>How the typed field's elements are encoded (meaningless when <see cref="IsRaw"/>).</summary>
        internal OnnxScalarEncoding Encoding { get; }

        /// <summary>How messages name the tensor.</summary>
        public string Describe() => Name.Length == 0 ? "an unnamed tensor" : "tensor '" + Name + "'";

        /// <summary>The values of a FLOAT tensor, in row-major order.</summary>
        public OnnxResult<float[]> DecodeFloats()
        {
            if (Check(OnnxDataType.Float) is OnnxError error)
            {
                return error;
            }

            var values = new float[ElementCount];
            if (ElementCount == 0)
            {
            }
            else if (IsRaw || Encoding == OnnxScalarEncoding.Fixed32)
            {
                Span<byte> bytes = MemoryMarshal.AsBytes(values.AsSpan());
                CopyLittleEndian(bytes, 4);
            }
            else
            {
                return Mismatch("float_data");
            }

            return OnnxResult<float[]>.Success(values);
        }

        /// <summary>The values of a DOUBLE tensor, in row-major order.</summary>
        public OnnxResult<double[]> DecodeDoubles()
        {
            if (Check(OnnxDataType.Double) is OnnxError error)
            {
                return error;
            }

            var values = new double[ElementCount];
            if (ElementCount == 0)
            {
            }
            else if (IsRaw || Encoding == OnnxScalarEncoding.Fixed64)
            {
                CopyLittleEndian(MemoryMarshal.AsBytes(values.AsSpan()), 8);
            }
            else
            {
                return Mismatch("double_data");
            }

            return OnnxResult<double[]>.Success(values);
        }

        /// <summary>The values of an INT64 tensor, in row-major order.</summary>
        public OnnxResult<long[]> DecodeInt64s()
        {
            if (Check(OnnxDataType.Int64) is OnnxError error)
            {
                return error;
            }

            var values = new long[ElementCount];
            if (ElementCount == 0)
            {
            }
            else if (IsRaw)
            {
                CopyLittleEndian(MemoryMarshal.AsBytes(values.AsSpan()), 8);
            }
            else if (Encoding == OnnxScalarEncoding.Varint)
            {
                int at = 0;
                foreach (ulong value in Varints())
                {
                    values[at++] = (long)value;
                }
            }
            else
            {
                return Mismatch("int64_data");
            }

            return OnnxResult<long[]>.Success(values);
        }

        /// <summary>The values of an INT32 tensor, in row-major order.</summary>
        public OnnxResult<int[]> DecodeInt32s()
        {
            if (Check(OnnxDataType.Int32) is OnnxError error)
            {
                return error;
            }

            var values = new int[ElementCount];
            if (ElementCount == 0)
            {
            }
            else if (IsRaw)
            {
                CopyLittleEndian(MemoryMarshal.AsBytes(values.AsSpan()), 4);
            }
            else if (Encoding == OnnxScalarEncoding.Varint)
            {
                int at = 0;
                foreach (ulong value in Varints())
                {
                    values[at++] = unchecked((int)value);
                }
            }
            else
            {
                return Mismatch("int32_data");
            }

            return OnnxResult<int[]>.Success(values);
        }

        /// <summary>The values of an INT64 or INT32 tensor as longs (shape constants such as Reshape's come as either).</summary>
        public OnnxResult<long[]> DecodeIntegers()
        {
            if (DataType == OnnxDataType.Int32)
            {
                OnnxResult<int[]> ints = DecodeInt32s();
                if (ints.Error is OnnxError error)
                {
                    return error;
                }

                var values = new long[ints.Value!.Length];
                for (int i = 0; i < values.Length; i++)
                {
                    values[i] = ints.Value[i];
                }

                return OnnxResult<long[]>.Success(values);
            }

            return DecodeInt64s();
        }

        public override string ToString() => Describe() + " " + OnnxDataType.Name(DataType) + " [" + string.Join(", ", Dims) + "]";

        private OnnxError? Check(int dataType)
        {
            if (DataType == dataType)
            {
                return null;
            }

            bool readable = DataType is OnnxDataType.Float or OnnxDataType.Double or OnnxDataType.Int64 or OnnxDataType.Int32;
            return new OnnxError(
                OnnxErrorKind.Unsupported,
                readable
                    ? $"{Describe()} holds {OnnxDataType.Name(DataType)} values, not {OnnxDataType.Name(dataType)}"
                    : $"{Describe()} holds {OnnxDataType.Name(DataType)} values; StaticGrad reads FLOAT, DOUBLE, INT64 and INT32 tensors");
        }

        private OnnxError Mismatch(string field) =>
            new(OnnxErrorKind.Corrupt, $"{Describe()} is {OnnxDataType.Name(DataType)} but its values are not in raw_data or {field}");

        /// <summary>Copies the data ranges (little-endian elements of <paramref name="size"/> bytes) into <paramref name="target"/>.</summary>
        private void CopyLittleEndian(Span<byte> target, int size)
        {
            int at = 0;
            foreach (ByteRange range in _data)
            {
                _buffer.AsSpan(range.Start, range.Length).CopyTo(target.Slice(at));
                at += range.Length;
            }

            if (!BitConverter.IsLittleEndian)
            {
                for (int element = 0; element < target.Length; element += size)
                {
                    target.Slice(element, size).Reverse();
                }
            }
        }

        /// <summary>The varints of the data ranges, in order (the reader checked that each range is whole varints).</summary>
        private System.Collections.Generic.IEnumerable<ulong> Varints()
        {
            foreach (ByteRange range in _data)
            {
                int at = range.Start, end = range.Start + range.Length;
                while (at < end)
                {
                    ulong value = 0;
                    int shift = 0;
                    byte b;
                    do
                    {
                        b = _buffer[at++];
                        value |= (ulong)(b & 0x7F) << shift;
                        shift += 7;
                    }
                    while (b >= 0x80 && at < end);

                    yield return value;
                }
            }
        }
    }

    /// <summary>A slice of the file's bytes: where one packed field or one element of an unpacked one lies.</summary>
    internal readonly struct ByteRange
    {
        public ByteRange(int start, int length)
        {
            Start = start;
            Length = length;
        }

        public int Start { get; }

        public int Length { get; }
    }
}
