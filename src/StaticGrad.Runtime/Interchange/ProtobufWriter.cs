using System;
using System.Buffers;
using System.Text;

namespace StaticGrad.Interchange
{
    /// <summary>
    /// The few Protocol Buffers encodings an ONNX file needs (varints, length-delimited strings, bytes
    /// and nested messages), written by hand so the package depends on nothing beyond the BCL. A nested message is
    /// written into its own writer first and then copied in behind its length.
    /// </summary>
    internal sealed class ProtobufWriter
    {
        private const int Varint = 0;
        private const int LengthDelimited = 2;
        private const int Fixed32 = 5;

        private readonly ArrayBufferWriter<byte> _buffer = new();

        /// <summary>The bytes written so far.</summary>
        public ReadOnlySpan<byte> WrittenSpan => _buffer.WrittenSpan;

        /// <summary>An integer field (int32, int64 or an enum), as a varint; negative values take ten bytes, as the format says.</summary>
        public void WriteInt64(int field, long value)
        {
            WriteTag(field, Varint);
            WriteVarint((ulong)value);
        }

        /// <summary>A <c>float</c> field: four little-endian bytes.</summary>
        public void WriteFloat(int field, float value)
        {
            WriteTag(field, Fixed32);
            System.Buffers.Binary.BinaryPrimitives.WriteSingleLittleEndian(_buffer.GetSpan(4), value);
            _buffer.Advance(4);
        }

        /// <summary>A <c>string</c> field, UTF-8.</summary>
        public void WriteString(int field, string value) => WriteBytes(field, Encoding.UTF8.GetBytes(value));

        /// <summary>A <c>bytes</c> field, or a nested message already written by another writer.</summary>
        public void WriteBytes(int field, ReadOnlySpan<byte> value)
        {
            WriteTag(field, LengthDelimited);
            WriteVarint((ulong)value.Length);
            value.CopyTo(_buffer.GetSpan(value.Length));
            _buffer.Advance(value.Length);
        }

        /// <summary>A nested message field.</summary>
        public void WriteMessage(int field, ProtobufWriter message) => WriteBytes(field, message.WrittenSpan);

        private void WriteTag(int field, int wireType) => WriteVarint(((ulong)field << 3) | (uint)wireType);

        private void WriteVarint(ulong value)
        {
            Span<byte> bytes = _buffer.GetSpan(10);
            int count = 0;
            while (value >= 0x80)
            {
                bytes[count++] = (byte)(value | 0x80);
                value >>= 7;
            }

            bytes[count++] = (byte)value;
            _buffer.Advance(count);
        }
    }
}
