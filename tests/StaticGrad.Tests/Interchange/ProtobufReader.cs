using System;
using System.Collections.Generic;
using System.Text;

namespace StaticGrad.Tests.Interchange;

/// <summary>
/// A minimal Protocol Buffers decoder for the tests: splits a message into (field, value) pairs, so the tests can
/// check an exported ONNX model's structure against onnx.proto without StaticGrad's writer.
/// </summary>
internal sealed class ProtobufMessage
{
    private readonly List<(int Field, ulong Varint, byte[]? Bytes)> _fields = new();

    public ProtobufMessage(ReadOnlySpan<byte> data)
    {
        int at = 0;
        while (at < data.Length)
        {
            ulong tag = ReadVarint(data, ref at);
            int field = (int)(tag >> 3);
            switch ((int)(tag & 7))
            {
                case 0:
                    _fields.Add((field, ReadVarint(data, ref at), null));
                    break;
                case 1:
                    _fields.Add((field, BitConverter.ToUInt64(data.Slice(at, 8)), null));
                    at += 8;
                    break;
                case 2:
                    int length = checked((int)ReadVarint(data, ref at));
                    _fields.Add((field, 0, data.Slice(at, length).ToArray()));
                    at += length;
                    break;
                case 5:
                    _fields.Add((field, BitConverter.ToUInt32(data.Slice(at, 4)), null));
                    at += 4;
                    break;
                default:
                    throw new FormatException($"Wire type {tag & 7} at byte {at}.");
            }
        }
    }

    public long Int(int field) => (long)Single(field).Varint;

    public string String(int field) => Encoding.UTF8.GetString(Single(field).Bytes!);

    public byte[] Bytes(int field) => Single(field).Bytes!;

    public ProtobufMessage Message(int field) => new(Single(field).Bytes);

    public IEnumerable<ProtobufMessage> Messages(int field)
    {
        foreach (var entry in _fields)
        {
            if (entry.Field == field)
            {
                yield return new ProtobufMessage(entry.Bytes);
            }
        }
    }

    public IEnumerable<string> Strings(int field)
    {
        foreach (var entry in _fields)
        {
            if (entry.Field == field)
            {
                yield return Encoding.UTF8.GetString(entry.Bytes!);
            }
        }
    }

    public IEnumerable<long> Ints(int field)
    {
        foreach (var entry in _fields)
        {
            if (entry.Field == field)
            {
                yield return (long)entry.Varint;
            }
        }
    }

    public bool Has(int field) => _fields.Exists(f => f.Field == field);

    private (int Field, ulong Varint, byte[]? Bytes) Single(int field)
    {
        var found = _fields.FindAll(f => f.Field == field);
        if (found.Count != 1)
        {
            throw new FormatException($"Field {field} occurs {found.Count} times.");
        }

        return found[0];
    }

    private static ulong ReadVarint(ReadOnlySpan<byte> data, ref int at)
    {
        ulong value = 0;
        for (int shift = 0; ; shift += 7)
        {
            byte b = data[at++];
            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
            {
                return value;
            }
        }
    }
}
