using System;
using System.Linq;
using StaticGrad;
using StaticGrad.Training;
using Xunit;
using static StaticGrad.Functional;

namespace StaticGrad.Tests.Models;

/// <summary>A classifier of whole token sequences: one label per example (does the sequence hold token 3?).</summary>
[Model(Loss = Loss.SoftmaxCrossEntropy)]
public partial class HasThree
{
    readonly Embedding embed = new(6, 8);
    readonly Linear head = new(8, 2);

    public Tensor Forward([Shape(5)] Tokens ids)
    {
        var perChannel = embed.Forward(ids).Transpose(0, 1).Reshape(8, 5, 1);   // 8 channels × 5 positions × 1
        return head.Forward(Tanh(AdaptiveAvgPool2d(perChannel, 1).Flatten()));   // the mean over the positions
    }
}

/// <summary>
/// <c>ITokenClassifier&lt;T&gt;</c>: models whose input is token ids and whose loss takes class labels, trained through one
/// routine, <c>TrainEpoch</c> over a <c>MiniBatches&lt;int, TLabel&gt;</c>, per example and per position, float and double.
/// </summary>
public sealed class TokenClassifierTests
{
    [Fact]
    public void ALanguageModel_TrainsThroughTheInterface_WithALabelPerPosition()
    {
        // Next token = (token + 1) mod 11 at every position: learnable from the token alone.
        const int Windows = 96;
        var random = new Random(3);
        int[] ids = Enumerable.Range(0, Windows * 8).Select(_ => random.Next(11)).ToArray();
        int[] next = ids.Select(t => (t + 1) % 11).ToArray();
        ITokenClassifier<float> model = new TinyGpt(seed: 1, maxBatchSize: 32);
        Assert.Equal(8, model.InputSize);
        Assert.Equal(8, model.LabelsPerExample);
        Assert.Equal(88, model.OutputSize);
        model.Optimizer = new Adam(3e-3);

        var batches = new MiniBatches<int, int>(ids, next, featuresPerExample: 8, batchSize: 32, seed: 2, labelsPerExample: 8);
        EpochResult first = model.TrainEpoch(batches), last = first;
        for (int epoch = 0; epoch < 24; epoch++)
        {
            last = model.TrainEpoch(batches);
        }

        Assert.Equal(Windows, first.Examples);
        Assert.Equal(3, first.Batches);
        Assert.Equal(25, last.Epoch);
        Assert.True(last.MeanLoss < first.MeanLoss / 4, $"mean loss {first.MeanLoss} in epoch 1, {last.MeanLoss} in epoch {last.Epoch}");
        Assert.True(model.Accuracy(ids, next) > 0.95, $"accuracy {model.Accuracy(ids, next)}");
        Assert.Equal(model.EvaluateLoss(ids, next), ((TinyGpt)model).EvaluateLoss(ids, next));
    }

    [Fact]
    public void ASequenceClassifier_TrainsThroughTheInterface_WithByteLabels_AndBadBatchesAreRefusedBeforeAnyStep()
    {
        const int Count = 120;
        var random = new Random(5);
        int[] ids = Enumerable.Range(0, Count * 5).Select(_ => random.Next(6)).ToArray();
        byte[] labels = Enumerable.Range(0, Count).Select(i => (byte)(ids.Skip(i * 5).Take(5).Contains(3) ? 1 : 0)).ToArray();
        var model = new HasThree(seed: 4, maxBatchSize: 40);
        ITokenClassifier<float> classifier = model;
        Assert.Equal(1, classifier.LabelsPerExample);
        classifier.Optimizer = new Adam(2e-2);

        float[] before = model.Parameters.ToArray();
        var tooLarge = new MiniBatches<int, byte>(ids, labels, 5, batchSize: 41);
        Assert.Equal("batches", Assert.Throws<ArgumentException>(() => classifier.TrainEpoch(tooLarge)).ParamName);
        var wrongWidth = new MiniBatches<int, byte>(ids, labels.Concat(labels).Concat(labels).Concat(labels).Concat(labels).ToArray(), 1, batchSize: 40, labelsPerExample: 1);
        var e = Assert.Throws<ArgumentException>(() => classifier.TrainEpoch(wrongWidth));
        Assert.Contains("featuresPerExample: 5 and labelsPerExample: 1", e.Message, StringComparison.Ordinal);
        Assert.Equal(before, model.Parameters.ToArray()); // no step was taken

        var batches = new MiniBatches<int, byte>(ids, labels, 5, batchSize: 40, seed: 1);
        for (int epoch = 0; epoch < 60; epoch++)
        {
            classifier.TrainEpoch(batches);
        }

        Assert.True(model.Accuracy(ids, labels) > 0.95, $"accuracy {model.Accuracy(ids, labels)}");
    }

    [Fact]
    public void DoubleTokenModels_AreTokenClassifiersOfDouble_AndFloatInputModelsAreNot()
    {
        Assert.IsAssignableFrom<ITokenClassifier<double>>(new TinySequenceDouble(seed: 1, maxBatchSize: 2));
        Assert.Equal(5, ((ITokenClassifier<double>)new TinySequenceDouble(seed: 1, maxBatchSize: 2)).LabelsPerExample);
        Assert.False(typeof(ITokenClassifier<float>).IsAssignableFrom(typeof(TinyResNet)));
        Assert.False(typeof(ITokenClassifier<double>).IsAssignableFrom(typeof(EverySequenceOpNetDouble))); // its loss is MeanSquaredError
    }
}
