using System;
using System.IO;
using System.Linq;
using System.Threading.Tasks;
using StaticGrad.Interchange;
using StaticGrad.Tests.Interchange;
using StaticGrad.Tests.Infrastructure;
using Xunit;
using static StaticGrad.Tests.Infrastructure.Verifiers;

namespace StaticGrad.Tests.Models;

/// <summary>
/// <c>[Model&lt;double&gt;]</c>: the same generated code in double. Its backward passes are checked against central
/// differences of its own forward passes, which double makes tight (about 1e-9 absolute instead of float's 1e-3), in
/// evaluation and in training mode; it starts where the float model of the same seed starts and follows it within float's
/// rounding; its state round-trips through Save and safetensors bit for bit.
/// </summary>
public sealed class DoubleModelTests
{
    private static double[] Random(int count, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => (random.NextDouble() * 2) - 1).ToArray();
    }

    /// <summary>|numeric − analytic| relative to the larger of the two, or to 1e-3 where both are smaller.</summary>
    private static double Error(double numeric, double analytic) =>
        Math.Abs(numeric - analytic) / Math.Max(Math.Max(Math.Abs(numeric), Math.Abs(analytic)), 1e-3);

    /// <summary>(loss(v + h) − loss(v − h)) / 2h in <c>values[i]</c>, which is restored afterwards.</summary>
    private static double CentralDifference(Func<double> loss, Span<double> values, int i, double h)
    {
        double original = values[i];
        values[i] = original + h;
        double plus = loss();
        values[i] = original - h;
        double minus = loss();
        values[i] = original;
        return (plus - minus) / (2 * h);
    }

    /// <summary>Central differences of <paramref name="loss"/> in every parameter against <paramref name="analytic"/>.</summary>
    private static void AssertGradients(Func<double> loss, Span<double> parameters, double[] analytic, NetworkDescription description, double h, double tolerance)
    {
        Assert.Contains(analytic, g => Math.Abs(g) > 1e-6);
        double worst = 0;
        for (int p = 0; p < parameters.Length; p++)
        {
            double numeric = CentralDifference(loss, parameters, p, h), error = Error(numeric, analytic[p]);
            worst = Math.Max(worst, error);
            Assert.True(error < tolerance, $"∂L/∂{description.Tensors.Last(t => t.Offset <= p).Name}[{p - description.Tensors.Last(t => t.Offset <= p).Offset}]: backward {analytic[p]:R}, central difference {numeric:R} (relative error {error:E2})");
        }

        Assert.True(worst > 0, "no parameter was checked");
    }

    [Fact]
    public void EveryOp_BackwardMatchesCentralDifferences_InDouble()
    {
        const int Batch = 3;
        var model = new EveryOpNetDouble(seed: 9, maxBatchSize: Batch);
        double[] x = Random(Batch * EveryOpNetDouble.XSize, 1), side = Random(Batch * EveryOpNetDouble.SideSize, 2), c = Random(Batch * EveryOpNetDouble.OutputSize, 3);

        // Move the running statistics and the parameters away from their starting values first.
        model.UseSgd(0.05);
        Assert.True(double.IsFinite(model.TrainStep(x, side, Random(Batch * EveryOpNetDouble.OutputSize, 4))));

        var y = new double[Batch * EveryOpNetDouble.OutputSize];
        double Loss()
        {
            model.Forward(x, side, y);
            return y.Select((v, i) => v * c[i]).Sum();
        }

        Loss();
        model.ZeroGradients();
        model.Backward(c);
        AssertGradients(Loss, model.Parameters, model.Gradients.ToArray(), EveryOpNetDouble.Description, 1e-5, 1e-6);
    }

    [Fact]
    public void ResidualNetwork_InTrainingMode_BackwardMatchesCentralDifferences_ForParametersAndInputs()
    {
        // Training mode: BatchNorm normalises with the batch's own statistics, whose gradient flows through every example.
        const int Batch = 4;
        var model = new TinyResNetDouble(seed: 4, maxBatchSize: Batch);
        double[] x = Random(Batch * TinyResNetDouble.InputSize, 5), c = Random(Batch * TinyResNetDouble.OutputSize, 6);
        var y = new double[Batch * TinyResNetDouble.OutputSize];
        double Loss()
        {
            model.ForwardTraining(x, y);
            return y.Select((v, i) => v * c[i]).Sum();
        }

        Loss();
        model.ZeroGradients();
        var dx = new double[x.Length];
        model.Backward(c, dx);
        AssertGradients(Loss, model.Parameters, model.Gradients.ToArray(), TinyResNetDouble.Description, 1e-6, 1e-5);

        for (int i = 0; i < x.Length; i++)
        {
            double numeric = CentralDifference(Loss, x, i, 1e-6);
            Assert.True(Error(numeric, dx[i]) < 1e-5, $"∂L/∂inputs[{i}]: backward {dx[i]:R}, central difference {numeric:R}");
        }
    }

    /// <summary>
    /// Evaluation mode (running statistics): BatchNorm's affine backward pass, with the ReLU after it folded into its passes
    /// (the generated code stores no normalised values; the ReLU's gradient passes where its output is positive).
    /// </summary>
    [Fact]
    public void ResidualNetwork_InEvaluationMode_BackwardMatchesCentralDifferences_ForParametersAndInputs()
    {
        const int Batch = 3;
        var model = new TinyResNetDouble(seed: 5, maxBatchSize: Batch);
        double[] x = Random(Batch * TinyResNetDouble.InputSize, 8), c = Random(Batch * TinyResNetDouble.OutputSize, 9);
        var y = new double[Batch * TinyResNetDouble.OutputSize];
        for (int i = 0; i < 4; i++)
        {
            model.ForwardTraining(Random(Batch * TinyResNetDouble.InputSize, 20 + i), y); // running statistics away from 0 and 1
        }

        Assert.Contains(model.Buffers.ToArray(), v => Math.Abs(v) > 1e-3 && Math.Abs(v - 1) > 1e-3);
        double Loss()
        {
            model.Forward(x, y);
            return y.Select((v, i) => v * c[i]).Sum();
        }

        Loss();
        model.ZeroGradients();
        var dx = new double[x.Length];
        model.Backward(c, dx);
        AssertGradients(Loss, model.Parameters, model.Gradients.ToArray(), TinyResNetDouble.Description, 1e-6, 1e-5);
        for (int i = 0; i < x.Length; i++)
        {
            double numeric = CentralDifference(Loss, x, i, 1e-6);
            Assert.True(Error(numeric, dx[i]) < 1e-5, $"∂L/∂inputs[{i}]: backward {dx[i]:R}, central difference {numeric:R}");
        }
    }

    [Fact]
    public void SequenceModel_BackwardMatchesCentralDifferences_InDouble()
    {
        const int Batch = 2;
        var model = new TinySequenceDouble(seed: 2, maxBatchSize: Batch);
        int[] ids = { 0, 3, 6, 1, 2, 5, 5, 4, 0, 1 };
        double[] c = Random(Batch * TinySequenceDouble.OutputSize, 7);
        var y = new double[Batch * TinySequenceDouble.OutputSize];
        double Loss()
        {
            model.Forward(ids, y);
            return y.Select((v, i) => v * c[i]).Sum();
        }

        Loss();
        model.ZeroGradients();
        model.Backward(c);
        AssertGradients(Loss, model.Parameters, model.Gradients.ToArray(), TinySequenceDouble.Description, 1e-5, 1e-6);
    }

    [Fact]
    public void TheOtherSequenceOps_BackwardMatchesCentralDifferences_InDouble()
    {
        const int Batch = 2;
        var model = new EverySequenceOpNetDouble(seed: 3, maxBatchSize: Batch);
        int[] ids = { 6, 0, 2, 2, 5, 1, 4, 3, 0, 6 };
        double[] c = Random(Batch * EverySequenceOpNetDouble.OutputSize, 12);
        var y = new double[Batch * EverySequenceOpNetDouble.OutputSize];
        double Loss()
        {
            model.Forward(ids, y);
            return y.Select((v, i) => v * c[i]).Sum();
        }

        Loss();
        model.ZeroGradients();
        model.Backward(c);
        AssertGradients(Loss, model.Parameters, model.Gradients.ToArray(), EverySequenceOpNetDouble.Description, 1e-5, 1e-6);
    }

    [Fact]
    public void ADoubleModel_StartsWhereTheFloatModelOfTheSameSeedStarts_AndTrainsAlongIt()
    {
        const int Batch = 8;
        var single = new TinyResNet(seed: 3, maxBatchSize: Batch);
        var wide = new TinyResNetDouble(seed: 3, maxBatchSize: Batch);
        Assert.Equal(TinyResNet.ParameterCount, TinyResNetDouble.ParameterCount);
        Assert.Equal(single.Parameters.ToArray().Select(v => (double)v), wide.Parameters.ToArray());
        Assert.StartsWith("double graph: ", TinyResNetDouble.Architecture, StringComparison.Ordinal);

        double[] x = Random(Batch * TinyResNet.InputSize, 8);
        float[] xf = x.Select(v => (float)v).ToArray();
        x = xf.Select(v => (double)v).ToArray(); // the same inputs exactly
        int[] labels = Enumerable.Range(0, Batch).Select(i => i % 3).ToArray();
        single.UseSgd(0.1, momentum: 0.9);
        wide.UseSgd(0.1, momentum: 0.9);
        for (int step = 0; step < 5; step++)
        {
            float lossSingle = single.TrainStep(xf, labels);
            double lossWide = wide.TrainStep(x, labels);
            Assert.True(Math.Abs(lossSingle - lossWide) <= 1e-4 * Math.Abs(lossWide), $"step {step}: float {lossSingle:R}, double {lossWide:R}");
        }

        Assert.Equal(single.NamedCounters().Select(p => p.Value.Value), wide.NamedCounters().Select(p => p.Value.Value));
        Assert.All(wide.NamedCounters(), p => Assert.Equal(5, p.Value.Value));
    }

    [Fact]
    public void TheEagerForward_OfADoubleModel_ReadsItsCurrentParameters()
    {
        const int Batch = 4;
        var model = new TinyResNetDouble(seed: 6, maxBatchSize: Batch);
        double[] x = Random(Batch * TinyResNetDouble.InputSize, 9);
        model.UseAdam(1e-2);
        model.TrainStep(x, new[] { 0, 1, 2, 0 }); // the parameters and running statistics move after binding

        var generated = new double[Batch * TinyResNetDouble.OutputSize];
        model.Forward(x, generated);
        model.Eval();
        Tensor eager = model.Forward(Tensor.FromSpan(x.Select(v => (float)v).ToArray(), Batch, 1, 8, 8));
        ModelGoldenTests.AssertClose(eager.ToArray(), generated.Select(v => (float)v).ToArray(), 1e-5, "outputs");
    }

    [Fact]
    public void ADoubleModel_OnTwoThreads_ForwardIsBitwiseTheSame_AndTrainsAsOnOne()
    {
        const int Batch = 512; // the 3×3 convolutions pass their split threshold, as in ModelThreadsTests
        var random = new Random(13);
        double[] x = Enumerable.Range(0, Batch * TinyResNetDouble.InputSize).Select(_ => random.NextDouble()).ToArray();
        int[] labels = Enumerable.Range(0, Batch).Select(_ => random.Next(3)).ToArray();
        var one = new TinyResNetDouble(seed: 4, maxBatchSize: Batch);
        var two = new TinyResNetDouble(seed: 4, maxBatchSize: Batch) { Threads = 2 };
        double[] expected = new double[Batch * TinyResNetDouble.OutputSize], actual = new double[expected.Length];
        one.Forward(x, expected);
        two.Forward(x, actual);
        Assert.Equal(expected, actual);

        one.UseSgd(0.05, momentum: 0.9);
        two.UseSgd(0.05, momentum: 0.9);
        for (int step = 0; step < 3; step++)
        {
            double a = one.TrainStep(x, labels), b = two.TrainStep(x, labels);
            Assert.True(Math.Abs(a - b) <= 1e-12 * Math.Abs(a), $"step {step + 1}: loss {a:R} on one thread, {b:R} on two");
        }

        double[] p1 = one.Parameters.ToArray(), p2 = two.Parameters.ToArray();
        Assert.All(Enumerable.Range(0, p1.Length), i => Assert.True(Math.Abs(p1[i] - p2[i]) <= 1e-12 * Math.Max(1, Math.Abs(p1[i])), $"parameter {i}: {p1[i]:R} and {p2[i]:R}"));
    }

    [Fact]
    public void TrainStep_AllocatesNothing_AndTheModelIsAnIClassifierOfDouble()
    {
        const int Batch = 4;
        var model = new TinyResNetDouble(seed: 1, maxBatchSize: Batch);
        double[] x = Random(Batch * TinyResNetDouble.InputSize, 10);
        int[] labels = { 2, 1, 0, 2 };
        IClassifier<double> classifier = model;
        classifier.Optimizer = new StaticGrad.Training.Adam(1e-3);
        classifier.TrainStep(x, labels);
        Allocations.AssertSteadyStateAllocatesNothing(() => classifier.TrainStep(x, labels), stepsPerWindow: 1);
        Assert.InRange(classifier.Accuracy(x, labels), 0, 1);
    }

    [Fact]
    public void SaveAndSafetensors_RoundTripTheDoubleStateBitForBit_AndAFloatFileIsRefusedByName()
    {
        const int Batch = 4;
        var model = new TinyResNetDouble(seed: 2, maxBatchSize: Batch);
        model.UseSgd(0.1);
        model.TrainStep(Random(Batch * TinyResNetDouble.InputSize, 11), new[] { 0, 1, 2, 1 });

        var file = new MemoryStream();
        model.Save(file);
        var loaded = new TinyResNetDouble(seed: 99, maxBatchSize: Batch);
        loaded.Load(new MemoryStream(file.ToArray()));
        Assert.Equal(model.Parameters.ToArray(), loaded.Parameters.ToArray());
        Assert.Equal(model.Buffers.ToArray(), loaded.Buffers.ToArray());

        var tensors = new MemoryStream();
        model.SaveSafetensors(tensors);
        var fromTensors = new TinyResNetDouble(seed: 98, maxBatchSize: Batch);
        fromTensors.LoadSafetensors(new MemoryStream(tensors.ToArray()));
        Assert.Equal(model.Parameters.ToArray(), fromTensors.Parameters.ToArray());
        Assert.Equal(model.Buffers.ToArray(), fromTensors.Buffers.ToArray());
        byte[] safetensors = tensors.ToArray();
        string header = System.Text.Encoding.UTF8.GetString(safetensors, 8, (int)BitConverter.ToInt64(safetensors, 0));
        Assert.Contains("\"bn.running_mean\":{\"dtype\":\"F64\"", header, StringComparison.Ordinal);
        Assert.Contains("\"bn.num_batches_tracked\":{\"dtype\":\"I64\"", header, StringComparison.Ordinal);

        var floatFile = new MemoryStream();
        new TinyResNet(seed: 2).Save(floatFile);
        var refused = Assert.Throws<InvalidDataException>(() => loaded.Load(new MemoryStream(floatFile.ToArray())));
        Assert.Equal("the stream holds 4-byte values, but this model uses double (8 bytes).", refused.Message);
        Assert.Equal(model.Parameters.ToArray(), loaded.Parameters.ToArray()); // nothing changed
        var wider = Assert.Throws<InvalidDataException>(() => new TinyResNet(seed: 2).Load(new MemoryStream(file.ToArray())));
        Assert.Equal("the stream holds 8-byte values, but this model uses float (4 bytes).", wider.Message);
    }

    [Fact]
    public void ExportOnnx_OfADoubleModel_WritesFloatTensors()
    {
        var model = new TinyResNetDouble(seed: 5);
        var single = new TinyResNet(seed: 5);
        var fromDouble = new MemoryStream();
        var fromFloat = new MemoryStream();
        model.ExportOnnx(fromDouble);
        single.ExportOnnx(fromFloat);

        // The same seed gives the same float-rounded start: the initializers are FLOAT tensors with the same bytes.
        ProtobufMessage graphOfDouble = new ProtobufMessage(fromDouble.ToArray()).Message(7), graphOfFloat = new ProtobufMessage(fromFloat.ToArray()).Message(7);
        var initializers = graphOfDouble.Messages(5).ToList();
        Assert.Equal(TinyResNetDouble.Description.Tensors.Count + TinyResNetDouble.State.Buffers.Count, initializers.Count);
        Assert.All(initializers, t => Assert.Equal(1, t.Int(2))); // TensorProto.data_type 1: FLOAT
        Assert.Equal(graphOfFloat.Messages(5).Select(t => (t.String(8), Convert.ToBase64String(t.Bytes(9)))), initializers.Select(t => (t.String(8), Convert.ToBase64String(t.Bytes(9)))));
        Assert.Equal(graphOfFloat.Messages(1).Select(n => n.String(4)), graphOfDouble.Messages(1).Select(n => n.String(4)));
    }

    [Fact]
    public Task SGR0007_AModelOfAnotherElementType_IsAnErrorOnTheAttribute() => VerifyAnalyzerAsync("""
        using StaticGrad;

        [{|#0:Model<int>(Loss = Loss.MeanSquaredError)|}]
        public partial class Net
        {
            readonly Linear a = new(4, 2);

            public Tensor Forward([Shape(4)] Tensor x) => a.Forward(x);
        }
        """,
        Diagnostic("SGR0007").WithLocation(0).WithArguments("Model<T>", "int"));
}
