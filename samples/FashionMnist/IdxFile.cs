using System;
using System.Buffers.Binary;
using System.IO;
using System.IO.Compression;

namespace StaticGrad.Samples.FashionMnist;

/// <summary>
/// Reads the IDX files MNIST and Fashion-MNIST are distributed in (gzip-compressed): a big-endian magic number
/// (0x00000803 for images, 0x00000801 for labels), the dimensions as big-endian int32s, then unsigned bytes.
/// </summary>
internal static class IdxFile
{
    /// <summary>Images as floats in [0, 1], one 28×28 image per row of 784 values.</summary>
    public static float[] ReadImages(string path, out int count, out int pixels)
    {
        byte[] data = ReadAll(path);
        CheckMagic(path, data, 0x00000803);
        count = BinaryPrimitives.ReadInt32BigEndian(data.AsSpan(4));
        int rows = BinaryPrimitives.ReadInt32BigEndian(data.AsSpan(8));
        int columns = BinaryPrimitives.ReadInt32BigEndian(data.AsSpan(12));
        pixels = rows * columns;
        const int Header = 16;
        if (count <= 0 || pixels <= 0 || data.Length != Header + ((long)count * pixels))
        {
            throw new InvalidDataException($"{path}: the header says {count} images of {rows}×{columns}, but the file holds {data.Length - Header} bytes of pixels.");
        }

        var images = new float[count * pixels];
        for (int i = 0; i < images.Length; i++)
        {
            images[i] = data[Header + i] / 255f;
        }

        return images;
    }

    /// <summary>Class labels, one byte each.</summary>
    public static byte[] ReadLabels(string path)
    {
        byte[] data = ReadAll(path);
        CheckMagic(path, data, 0x00000801);
        int count = BinaryPrimitives.ReadInt32BigEndian(data.AsSpan(4));
        const int Header = 8;
        if (count <= 0 || data.Length != Header + count)
        {
            throw new InvalidDataException($"{path}: the header says {count} labels, but the file holds {data.Length - Header}.");
        }

        return data.AsSpan(Header).ToArray(); // StaticGrad takes byte labels as they are stored
    }

    private static byte[] ReadAll(string path)
    {
        using var file = File.OpenRead(path);
        using var gzip = new GZipStream(file, CompressionMode.Decompress);
        using var memory = new MemoryStream();
        gzip.CopyTo(memory);
        return memory.ToArray();
    }

    private static void CheckMagic(string path, byte[] data, int expected)
    {
        if (data.Length < 16 || BinaryPrimitives.ReadInt32BigEndian(data) != expected)
        {
            throw new InvalidDataException($"{path} is not an IDX file of the expected kind (magic 0x{expected:X8}).");
        }
    }
}
