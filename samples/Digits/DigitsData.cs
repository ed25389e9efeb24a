using System;
using System.Globalization;
using System.IO;
using System.IO.Compression;
using System.Linq;

namespace StaticGrad.Samples.Digits;

/// <summary>The 1,797 8×8 digits (see samples/Data/README.md), pixels scaled from 0–16 to 0–1, split once into train and test.</summary>
public sealed record DigitsData(float[] TrainX, int[] TrainY, float[] TestX, int[] TestY)
{
    public const int Features = 64;

    public int TrainCount => TrainY.Length;

    public int TestCount => TestY.Length;

    /// <summary>Loads the file and splits it with a fixed shuffle: the same 80% training and 20% test images on every run.</summary>
    public static DigitsData Load(string path, double testFraction = 0.2, int splitSeed = 0)
    {
        using var file = File.OpenRead(path);
        using var gzip = new GZipStream(file, CompressionMode.Decompress);
        using var reader = new StreamReader(gzip);
        var rows = reader.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => line.Split(',').Select(v => int.Parse(v, CultureInfo.InvariantCulture)).ToArray())
            .ToArray();

        int[] order = Enumerable.Range(0, rows.Length).ToArray();
        new Random(splitSeed).Shuffle(order);
        int testCount = (int)Math.Round(rows.Length * testFraction);
        var test = order.Take(testCount).Select(i => rows[i]).ToArray();
        var train = order.Skip(testCount).Select(i => rows[i]).ToArray();

        return new DigitsData(Features(train), Labels(train), Features(test), Labels(test));

        static float[] Features(int[][] rows) => rows.SelectMany(r => r.Take(64).Select(v => v / 16f)).ToArray();

        static int[] Labels(int[][] rows) => rows.Select(r => r[64]).ToArray();
    }
}
