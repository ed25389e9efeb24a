using System;
using System.Collections.Generic;
using System.Linq;
using StaticGrad.Tests.Infrastructure;
using StaticGrad.Training;
using Xunit;

namespace StaticGrad.Tests.Training;

/// <summary>
/// MiniBatches over data whose features encode their example's index, so that every batch shows which examples it holds
/// and that features and labels stayed paired.
/// </summary>
public class MiniBatchesTests
{
    private const int Features = 3;

    [Theory]
    [InlineData(10, 4, false)]
    [InlineData(10, 5, false)]
    [InlineData(10, 1, false)]
    [InlineData(10, 10, false)]
    [InlineData(10, 64, false)]
    [InlineData(1, 1, false)]
    [InlineData(1000, 32, false)]
    [InlineData(10, 4, true)]
    [InlineData(1000, 32, true)]
    public void EveryEpoch_VisitsEveryExampleOnce_WithItsOwnLabel(int count, int batchSize, bool shuffle)
    {
        var (features, labels) = Data(count);
        var batches = new MiniBatches<float, int>(features, labels, Features, batchSize, seed: 1, shuffle: shuffle);
        Assert.Equal((count, batchSize, (count + batchSize - 1) / batchSize), (batches.Count, batches.BatchSize, batches.BatchesPerEpoch));
        for (int epoch = 1; epoch <= 3; epoch++)
        {
            List<int> seen = Epoch(batches, out int[] sizes);
            Assert.Equal(epoch, batches.Epoch);
            Assert.Equal(Enumerable.Range(0, count), seen.OrderBy(x => x));
            Assert.Equal(batches.BatchesPerEpoch, sizes.Length);
            Assert.All(sizes.SkipLast(1), size => Assert.Equal(batchSize, size));
            Assert.Equal(count - (batchSize * (sizes.Length - 1)), sizes[^1]);
        }
    }

    [Fact]
    public void TheOrder_IsFixedByTheSeed_AndChangesBetweenEpochs()
    {
        var (features, labels) = Data(100);
        var first = new MiniBatches<float, int>(features, labels, Features, 16, seed: 42);
        var again = new MiniBatches<float, int>(features, labels, Features, 16, seed: 42);
        var other = new MiniBatches<float, int>(features, labels, Features, 16, seed: 43);
        var firstOrders = Enumerable.Range(0, 3).Select(epoch => Epoch(first, out _)).ToList();
        var againOrders = Enumerable.Range(0, 3).Select(epoch => Epoch(again, out _)).ToList();
        var otherOrders = Enumerable.Range(0, 3).Select(epoch => Epoch(other, out _)).ToList();
        for (int epoch = 0; epoch < 3; epoch++)
        {
            Assert.Equal(firstOrders[epoch], againOrders[epoch]);
            Assert.NotEqual(firstOrders[epoch], otherOrders[epoch]);
            Assert.NotEqual(Enumerable.Range(0, 100), firstOrders[epoch]);
        }

        Assert.NotEqual(firstOrders[0], firstOrders[1]);
        Assert.NotEqual(firstOrders[1], firstOrders[2]);

        // Reset replays the sequence of epochs as a new instance with that seed would.
        first.Reset(43);
        Assert.Equal(0, first.Epoch);
        Assert.Equal(otherOrders[0], Epoch(first, out _));
        Assert.Equal(otherOrders[1], Epoch(first, out _));
    }

    [Fact]
    public void WithoutShuffle_BatchesAreSlicesOfTheCallersArrays_InTheirOrder()
    {
        var (features, labels) = Data(10);
        var batches = new MiniBatches<float, int>(features, labels, Features, 4, shuffle: false);
        for (int epoch = 0; epoch < 2; epoch++)
        {
            int start = 0;
            foreach (var batch in batches)
            {
                Assert.True(((ReadOnlySpan<float>)features).Overlaps(batch.Features, out int featureOffset));
                Assert.True(((ReadOnlySpan<int>)labels).Overlaps(batch.Labels, out int labelOffset));
                Assert.Equal((start * Features, start), (featureOffset, labelOffset));
                Assert.Equal((batch.Count * Features, batch.Count), (batch.Features.Length, batch.Labels.Length));
                Assert.Equal(Enumerable.Range(start, batch.Count), batch.Labels.ToArray());
                start += batch.Count;
            }

            Assert.Equal(10, start);
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void TheArrays_AreReadNotCopied(bool shuffle)
    {
        var (features, labels) = Data(5);
        var batches = new MiniBatches<float, int>(features, labels, Features, 5, shuffle: shuffle);
        Array.Fill(features, -1f);
        Array.Fill(labels, 7);
        foreach (var batch in batches)
        {
            Assert.All(batch.Features.ToArray(), x => Assert.Equal(-1f, x));
            Assert.All(batch.Labels.ToArray(), x => Assert.Equal(7, x));
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void DropLast_SkipsTheSmallerLastBatch(bool shuffle)
    {
        var (features, labels) = Data(10);
        var batches = new MiniBatches<float, int>(features, labels, Features, 4, seed: 3, shuffle: shuffle, dropLast: true);
        Assert.Equal(2, batches.BatchesPerEpoch);
        var seen = new HashSet<int>();
        for (int epoch = 0; epoch < 5; epoch++)
        {
            List<int> order = Epoch(batches, out int[] sizes);
            Assert.Equal(new[] { 4, 4 }, sizes);
            Assert.Equal(8, order.Distinct().Count());
            seen.UnionWith(order);
        }

        Assert.Equal(shuffle ? 10 : 8, seen.Count); // shuffled, the dropped examples change from epoch to epoch

        // A whole number of batches drops nothing.
        var whole = new MiniBatches<float, int>(features, labels, Features, 5, dropLast: true);
        Assert.Equal(2, whole.BatchesPerEpoch);
        Assert.Equal(10, Epoch(whole, out _).Count);
    }

    [Fact]
    public void LabelsPerExample_CarriesRegressionTargets()
    {
        const int count = 11, inputs = 2, targets = 3;
        float[] features = new float[count * inputs];
        float[] labels = new float[count * targets];
        for (int i = 0; i < count; i++)
        {
            features[i * inputs] = i;
            features[(i * inputs) + 1] = i + 0.5f;
            for (int t = 0; t < targets; t++)
            {
                labels[(i * targets) + t] = (100 * i) + t;
            }
        }

        var batches = new MiniBatches<float, float>(features, labels, inputs, 4, seed: 9, labelsPerExample: targets);
        var seen = new List<int>();
        foreach (var batch in batches)
        {
            Assert.Equal((batch.Count * inputs, batch.Count * targets), (batch.Features.Length, batch.Labels.Length));
            for (int r = 0; r < batch.Count; r++)
            {
                int example = (int)batch.Features[r * inputs];
                Assert.Equal(example + 0.5f, batch.Features[(r * inputs) + 1]);
                Assert.Equal(new float[] { 100 * example, (100 * example) + 1, (100 * example) + 2 }, batch.Labels.Slice(r * targets, targets).ToArray());
                seen.Add(example);
            }
        }

        Assert.Equal(Enumerable.Range(0, count), seen.OrderBy(x => x));
        Assert.NotEqual(Enumerable.Range(0, count), seen);
    }

    [Theory]
    [InlineData(true, false)]
    [InlineData(true, true)]
    [InlineData(false, false)]
    public void AWarmEpoch_AllocatesNothing(bool shuffle, bool dropLast)
    {
        var (features, labels) = Data(1000);
        var batches = new MiniBatches<float, int>(features, labels, Features, 32, seed: 5, shuffle: shuffle, dropLast: dropLast);
        double checksum = Consume(batches);
        Allocations.AssertSteadyStateAllocatesNothing(() => checksum += Consume(batches), stepsPerWindow: 1); // one window may hold the runtime's one-time allocation
        Assert.True(checksum > 0);
    }

    [Fact]
    public void StartingAnotherEpoch_StopsTheEarlierEnumerator()
    {
        var (features, labels) = Data(10);
        var batches = new MiniBatches<float, int>(features, labels, Features, 3);
        var first = batches.GetEnumerator();
        Assert.True(first.MoveNext());
        var second = batches.GetEnumerator();
        Assert.Equal(2, batches.Epoch);
        var exception = Assert.Throws<InvalidOperationException>(() => first.MoveNext());
        Assert.Contains("Another epoch has started", exception.Message);
        Assert.True(second.MoveNext());
        batches.Reset(1);
        Assert.Throws<InvalidOperationException>(() => second.MoveNext());
        Assert.False(default(MiniBatches<float, int>.Enumerator).MoveNext());
    }

    [Fact]
    public void ABatchLargerThanTheData_IsOneBatchOfEverything()
    {
        var (features, labels) = Data(3);
        var batches = new MiniBatches<float, int>(features, labels, Features, 100);
        Assert.Equal(1, batches.BatchesPerEpoch);
        Assert.Equal(3, Epoch(batches, out int[] sizes).Count);
        Assert.Equal(new[] { 3 }, sizes);
    }

    [Fact]
    public void TheConstructor_ValidatesEveryArgument()
    {
        var (features, labels) = Data(10);
        Assert.Equal("features", Assert.Throws<ArgumentNullException>(() => new MiniBatches<float, int>(null!, labels, Features, 4)).ParamName);
        Assert.Equal("labels", Assert.Throws<ArgumentNullException>(() => new MiniBatches<float, int>(features, null!, Features, 4)).ParamName);

        AssertOutOfRange(() => new MiniBatches<float, int>(features, labels, 0, 4), "featuresPerExample", 0, "featuresPerExample must be at least 1.");
        AssertOutOfRange(() => new MiniBatches<float, int>(features, labels, Features, 0), "batchSize", 0, "batchSize must be at least 1.");
        AssertOutOfRange(() => new MiniBatches<float, int>(features, labels, Features, -2), "batchSize", -2, "batchSize must be at least 1.");
        AssertOutOfRange(() => new MiniBatches<float, int>(features, labels, Features, 4, labelsPerExample: 0), "labelsPerExample", 0, "labelsPerExample must be at least 1.");
        AssertOutOfRange(
            () => new MiniBatches<float, int>(features, labels, Features, 11, dropLast: true),
            "batchSize",
            11,
            "With dropLast, batchSize must not exceed the number of examples (10), or every epoch would be empty.");

        AssertArgument(() => new MiniBatches<float, int>(features, labels, 4, 4), "features", "features must hold whole examples of featuresPerExample (4) values, but has length 30.");
        AssertArgument(() => new MiniBatches<float, int>(Array.Empty<float>(), Array.Empty<int>(), Features, 4), "features", "features must hold at least one example, but is empty.");
        AssertArgument(() => new MiniBatches<float, int>(features, new int[9], Features, 4), "labels", "labels must hold one label per example (10), but has length 9.");
        AssertArgument(() => new MiniBatches<float, int>(features, new int[10], Features, 4, labelsPerExample: 3), "labels", "labels must hold labelsPerExample (3) labels per example (10·3 = 30), but has length 10.");
        AssertArgument(() => new MiniBatches<byte, int>(new byte[60000 * 784], new int[59999], 784, 64), "labels", "labels must hold one label per example (60000), but has length 59999.");
    }

    /// <summary>Example i has features [10i, 10i + 1, 10i + 2] and label i.</summary>
    private static (float[] Features, int[] Labels) Data(int count)
    {
        float[] features = new float[count * Features];
        int[] labels = new int[count];
        for (int i = 0; i < count; i++)
        {
            labels[i] = i;
            for (int c = 0; c < Features; c++)
            {
                features[(i * Features) + c] = (10 * i) + c;
            }
        }

        return (features, labels);
    }

    /// <summary>Runs one epoch, checks that every row's features belong to its label, and returns the labels in the order seen.</summary>
    private static List<int> Epoch(MiniBatches<float, int> batches, out int[] sizes)
    {
        var order = new List<int>();
        var batchSizes = new List<int>();
        foreach (var batch in batches)
        {
            Assert.Equal((batch.Count * Features, batch.Count), (batch.Features.Length, batch.Labels.Length));
            for (int r = 0; r < batch.Count; r++)
            {
                int example = batch.Labels[r];
                for (int c = 0; c < Features; c++)
                {
                    Assert.Equal((10 * example) + c, batch.Features[(r * Features) + c]);
                }

                order.Add(example);
            }

            batchSizes.Add(batch.Count);
        }

        sizes = batchSizes.ToArray();
        return order;
    }

    /// <summary>One epoch as a training loop would run it, touching every value; allocates nothing itself.</summary>
    private static double Consume(MiniBatches<float, int> batches)
    {
        double sum = 0;
        foreach (var batch in batches)
        {
            foreach (float x in batch.Features)
            {
                sum += x;
            }

            foreach (int label in batch.Labels)
            {
                sum += label;
            }
        }

        return sum;
    }

    private static void AssertOutOfRange(Action construct, string parameter, int value, string rule)
    {
        var exception = Assert.Throws<ArgumentOutOfRangeException>(construct);
        Assert.Equal(parameter, exception.ParamName);
        Assert.Equal(value, exception.ActualValue);
        Assert.Equal($"{rule} (Parameter '{parameter}'){Environment.NewLine}Actual value was {value}.", exception.Message);
    }

    private static void AssertArgument(Action construct, string parameter, string message)
    {
        var exception = Assert.Throws<ArgumentException>(construct);
        Assert.Equal(parameter, exception.ParamName);
        Assert.Equal($"{message} (Parameter '{parameter}')", exception.Message);
    }
}
