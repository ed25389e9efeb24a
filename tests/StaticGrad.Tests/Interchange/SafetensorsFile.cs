using System;
using System.Buffers.Binary;
using System.Text;

namespace StaticGrad.Tests.Interchange;

/// <summary>Builds safetensors files by hand (header JSON as text), independent of StaticGrad's writer.</summary>
internal static class SafetensorsFile
{
    public static byte[] Build(string json, byte[] data, long? declaredHeaderLength = null)
    {
        byte[] header = Encoding.UTF8.GetBytes(json);
        byte[] file = new byte[8 + header.Length + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(file, (ulong)(declaredHeaderLength ?? header.Length));
        header.CopyTo(file, 8);
        data.CopyTo(file, 8 + header.Length);
        return file;
    }

    /// <summary>Little-endian bytes of <paramref name="values"/> as F32.</summary>
    public static byte[] F32(params float[] values)
    {
        byte[] bytes = new byte[values.Length * 4];
        for (int i = 0; i < values.Length; i++)
        {
            BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * 4), values[i]);
        }

        return bytes;
    }

    /// <summary>Little-endian bytes of <paramref name="values"/> as F64.</summary>
    public static byte[] F64(params double[] values)
    {
        byte[] bytes = new byte[values.Length * 8];
        for (int i = 0; i < values.Length; i++)
        {
            BinaryPrimitives.WriteDoubleLittleEndian(bytes.AsSpan(i * 8), values[i]);
        }

        return bytes;
    }

    public static byte[] Concat(params byte[][] parts)
    {
        int length = 0;
        foreach (byte[] part in parts)
        {
            length += part.Length;
        }

        byte[] all = new byte[length];
        int at = 0;
        foreach (byte[] part in parts)
        {
            part.CopyTo(all, at);
            at += part.Length;
        }

        return all;
    }
}
