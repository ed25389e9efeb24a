#if TORCH
using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using StaticGrad.Samples.FashionMnist;
using TorchSharp;
using static TorchSharp.torch;

namespace StaticGrad.Benchmarks;

// StaticGrad.Tensor (the models-as-C# type) would win over the using static above; inside the namespace this alias wins.
using Tensor = TorchSharp.torch.Tensor;

/// <summary>
/// Whole Fashion-MNIST epochs, StaticGrad and TorchSharp side by side in one process: the same initial weights (StaticGrad's,
/// copied into the nn.Sequential), the same shuffled batch order, batch 128, Adam 1e-3, one thread each. The epochs alternate
/// (StaticGrad's epoch 1, TorchSharp's epoch 1, …) so the machine's drift falls on both.
/// <code>dotnet run -c Release --project tests/StaticGrad.Benchmarks -p:Torch=true -- fashion-epochs [folder] [epochs] [mlp|deep|cnn]</code>
/// </summary>
internal static class FashionEpochs
{
    private const int Batch = 128;

    public static int Run(string[] args)
    {
        string folder = args.Length > 1 ? args[1] : "/usr/share/datasets/fashion-mnist";
        int epochs = args.Length > 2 ? int.Parse(args[2]) : 3;
        string kind = args.Length > 3 ? args[3] : "mlp";
        int threads = args.Length > 4 ? int.Parse(args[4]) : 1; // StaticGrad's Threads and torch.set_num_threads alike
        float[] trainX = IdxFile.ReadImages(Path.Combine(folder, "train-images-idx3-ubyte.gz"), out int trainCount, out int pixels);
        byte[] trainY = IdxFile.ReadLabels(Path.Combine(folder, "train-labels-idx1-ubyte.gz"));
        float[] testX = IdxFile.ReadImages(Path.Combine(folder, "t10k-images-idx3-ubyte.gz"), out int testCount, out _);
        byte[] testY = IdxFile.ReadLabels(Path.Combine(folder, "t10k-labels-idx1-ubyte.gz"));

        Func<ReadOnlySpan<float>, ReadOnlySpan<byte>, float> trainStep;
        Func<double> accuracy;
        float[] initial;
        int[] sizes;
        if (kind == "cnn")
        {
            var net = new FashionCnnNet(seed: 1, maxBatchSize: Batch) { Threads = threads };
            net.UseAdam(1e-3);
            trainStep = (x, y) => net.TrainStep(x, y);
            accuracy = () => net.Accuracy(testX, testY);
            initial = net.Parameters.ToArray();
            sizes = [];
        }
        else if (kind == "deep")
        {
            var net = new FashionDeepNet(seed: 1, maxBatchSize: Batch) { Threads = threads };
            net.UseAdam(1e-3f);
            trainStep = (x, y) => net.TrainStep(x, y);
            accuracy = () => net.Accuracy(testX, testY);
            initial = net.Parameters.ToArray();
            sizes = [784, 256, 128, 10];
        }
        else
        {
            var net = new FashionNet(seed: 1, maxBatchSize: Batch) { Threads = threads };
            net.UseAdam(1e-3f);
            trainStep = (x, y) => net.TrainStep(x, y);
            accuracy = () => net.Accuracy(testX, testY);
            initial = net.Parameters.ToArray();
            sizes = [784, 128, 10];
        }

        torch.set_num_threads(threads);
        var model = kind == "cnn" ? TorchClassifier.FashionCnn() : TorchClassifier.Mlp(sizes);
        using (torch.no_grad())
        {
            // StaticGrad's flat layout is PyTorch's parameters() order: each layer's weight ([out, in], or the CNN's
            // [out, in, k, k]), then its bias.
            int offset = 0;
            foreach (var parameter in model.parameters())
            {
                int count = (int)parameter.numel();
                parameter.copy_(torch.tensor(initial.AsSpan(offset, count).ToArray(), parameter.shape));
                offset += count;
            }
        }

        var optimizer = torch.optim.Adam(model.parameters(), 1e-3);
        var loss = nn.CrossEntropyLoss();
        long[] imageShape = kind == "cnn" ? new long[] { trainCount, 1, 28, 28 } : new long[] { trainCount, pixels };
        Tensor trainTensor = torch.tensor(trainX, imageShape);
        Tensor trainLabels = torch.tensor(trainY.Select(v => (long)v).ToArray());
        Tensor testTensor = torch.tensor(testX, kind == "cnn" ? new long[] { testCount, 1, 28, 28 } : new long[] { testCount, pixels });
        Tensor testLabels = torch.tensor(testY.Select(v => (long)v).ToArray());

        Console.WriteLine($"Fashion-MNIST, {(kind == "cnn" ? FashionCnnNet.Architecture : string.Join("→", sizes))}, batch {Batch}, Adam 1e-3, {(threads == 1 ? "one thread" : $"{threads} threads")} each, {epochs} epochs, same initial weights and batch order");
        Console.WriteLine($"CPU: {CpuName()}; Vector512 {System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated}, AVX2 {System.Runtime.Intrinsics.X86.Avx2.IsSupported}");
        Console.WriteLine("epoch | StaticGrad s | TorchSharp s | Torch/StaticGrad | StaticGrad test acc | TorchSharp test acc");
        var order = Enumerable.Range(0, trainCount).ToArray();
        var shuffle = new Random(1);
        var batchX = new float[Batch * pixels];
        var batchY = new byte[Batch];
        var index = new long[Batch];
        for (int epoch = 1; epoch <= epochs; epoch++)
        {
            shuffle.Shuffle(order);
            var clock = Stopwatch.StartNew();
            for (int start = 0; start + Batch <= trainCount; start += Batch)
            {
                for (int b = 0; b < Batch; b++)
                {
                    int row = order[start + b];
                    trainX.AsSpan(row * pixels, pixels).CopyTo(batchX.AsSpan(b * pixels));
                    batchY[b] = trainY[row];
                }

                trainStep(batchX, batchY);
            }

            double ours = clock.Elapsed.TotalSeconds;
            clock.Restart();
            for (int start = 0; start + Batch <= trainCount; start += Batch)
            {
                using var scope = torch.NewDisposeScope();
                for (int b = 0; b < Batch; b++) index[b] = order[start + b];
                Tensor rows = torch.tensor(index);
                optimizer.zero_grad();
                Tensor l = loss.call(model.call(trainTensor.index_select(0, rows)), trainLabels.index_select(0, rows));
                l.backward();
                optimizer.step();
            }

            double theirs = clock.Elapsed.TotalSeconds;
            double torchAccuracy;
            using (torch.no_grad())
            using (var scope = torch.NewDisposeScope())
            {
                model.eval();
                torchAccuracy = model.call(testTensor).argmax(1).eq(testLabels).sum().item<long>() / (double)testCount;
                model.train();
            }

            Console.WriteLine($"{epoch,5} | {ours,12:F3} | {theirs,12:F3} | {theirs / ours,16:F2} | {accuracy(),19:P2} | {torchAccuracy,19:P2}");
        }

        return 0;
    }

    private static string CpuName()
    {
        try
        {
            return File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "unknown";
        }
        catch (IOException)
        {
            return "unknown";
        }
    }
}
#endif
