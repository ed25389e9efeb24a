using System;

namespace StaticGrad
{
    /// <summary>
    /// Batch normalisation over 4-D input, PyTorch's <c>nn.BatchNorm2d</c>: each channel of C×H×W examples is normalised with the
    /// mean and variance over the batch and the pixels, then scaled by <c>weight</c> and shifted by <c>bias</c>.
    /// </summary>
    /// <remarks>
    /// Training mode uses the batch's statistics (the biased variance) and updates <c>running_mean</c> and <c>running_var</c>
    /// with <c>running = (1 − momentum)·running + momentum·batch</c>, the variance unbiased (times n/(n − 1)), and adds 1 to
    /// <c>num_batches_tracked</c>. Evaluation mode normalises with the running statistics.
    /// </remarks>
    public sealed class BatchNorm2d : Module
    {
        private readonly BatchNormState state;

        /// <summary>Creates the layer: weight ones, bias zeros, running mean zeros, running variance ones.</summary>
        /// <param name="numFeatures">The number of channels C.</param>
        /// <param name="eps">Added to the variance before its square root; 1e−5 by default.</param>
        /// <param name="momentum">The weight of the batch in the running statistics; 0.1 by default.</param>
        public BatchNorm2d(int numFeatures, double eps = 1e-5, double momentum = 0.1)
        {
            state = new BatchNormState(numFeatures, eps, momentum);
        }

        /// <summary>The number of channels.</summary>
        public int NumFeatures => state.NumFeatures;

        /// <summary>Added to the variance before its square root.</summary>
        public double Eps => state.Eps;

        /// <summary>The weight of each batch in the running statistics.</summary>
        public double Momentum => state.Momentum;

        /// <summary>The scale <c>[C]</c> (PyTorch's <c>weight</c>, γ).</summary>
        public Parameter Weight => state.Weight;

        /// <summary>The shift <c>[C]</c> (PyTorch's <c>bias</c>, β).</summary>
        public Parameter Bias => state.Bias;

        /// <summary>The running mean <c>[C]</c>, a buffer.</summary>
        public Parameter RunningMean => state.RunningMean;

        /// <summary>The running (unbiased) variance <c>[C]</c>, a buffer.</summary>
        public Parameter RunningVar => state.RunningVar;

        /// <summary>The number of training batches seen.</summary>
        public Counter NumBatchesTracked => state.NumBatchesTracked;

        /// <summary>Normalises each channel.</summary>
        /// <param name="x">Examples of shape C×H×W with C = <see cref="NumFeatures"/>.</param>
        /// <returns>A new tensor of the same shape.</returns>
        /// <exception cref="ArgumentException"><paramref name="x"/> has another shape, or (training) a channel has a single value.</exception>
        public Tensor Forward(Tensor x)
        {
            ArgumentNullException.ThrowIfNull(x);
            if (x.Rank != 3 || x.Size(0) != NumFeatures)
                throw new ArgumentException(
                    $"{this} expects examples of shape {NumFeatures}×H×W, but received {Shapes.Format(x.Shape)}.", nameof(x));
            return state.Forward(x, x.Size(1) * x.Size(2), Training, ToString());
        }

        /// <summary>Describes the layer like PyTorch: <c>BatchNorm2d(32, eps=1E-05, momentum=0.1)</c>.</summary>
        /// <returns>The description.</returns>
        public override string ToString() => FormattableString.Invariant($"BatchNorm2d({NumFeatures}, eps={Eps}, momentum={Momentum})");

        /// <inheritdoc/>
        protected override void Visit(ModuleVisitor visitor) => state.Visit(visitor);
    }

    /// <summary>
    /// Batch normalisation over 2-D or 3-D input, PyTorch's <c>nn.BatchNorm1d</c>: examples of shape [C] or [C, L], each channel
    /// normalised with the mean and variance over the batch (and L). Otherwise like <see cref="BatchNorm2d"/>.
    /// </summary>
    public sealed class BatchNorm1d : Module
    {
        private readonly BatchNormState state;

        /// <summary>Creates the layer: weight ones, bias zeros, running mean zeros, running variance ones.</summary>
        /// <param name="numFeatures">The number of channels C.</param>
        /// <param name="eps">Added to the variance before its square root; 1e−5 by default.</param>
        /// <param name="momentum">The weight of the batch in the running statistics; 0.1 by default.</param>
        public BatchNorm1d(int numFeatures, double eps = 1e-5, double momentum = 0.1)
        {
            state = new BatchNormState(numFeatures, eps, momentum);
        }

        /// <summary>The number of channels.</summary>
        public int NumFeatures => state.NumFeatures;

        /// <summary>Added to the variance before its square root.</summary>
        public double Eps => state.Eps;

        /// <summary>The weight of each batch in the running statistics.</summary>
        public double Momentum => state.Momentum;

        /// <summary>The scale <c>[C]</c> (PyTorch's <c>weight</c>, γ).</summary>
        public Parameter Weight => state.Weight;

        /// <summary>The shift <c>[C]</c> (PyTorch's <c>bias</c>, β).</summary>
        public Parameter Bias => state.Bias;

        /// <summary>The running mean <c>[C]</c>, a buffer.</summary>
        public Parameter RunningMean => state.RunningMean;

        /// <summary>The running (unbiased) variance <c>[C]</c>, a buffer.</summary>
        public Parameter RunningVar => state.RunningVar;

        /// <summary>The number of training batches seen.</summary>
        public Counter NumBatchesTracked => state.NumBatchesTracked;

        /// <summary>Normalises each channel.</summary>
        /// <param name="x">Examples of shape [C] or [C, L] with C = <see cref="NumFeatures"/>.</param>
        /// <returns>A new tensor of the same shape.</returns>
        /// <exception cref="ArgumentException"><paramref name="x"/> has another shape, or (training) a channel has a single value.</exception>
        public Tensor Forward(Tensor x)
        {
            ArgumentNullException.ThrowIfNull(x);
            if (x.Rank > 2 || x.Size(0) != NumFeatures)
                throw new ArgumentException(
                    $"{this} expects examples of shape {NumFeatures} or {NumFeatures}×L, but received {Shapes.Format(x.Shape)}.", nameof(x));
            return state.Forward(x, x.Rank == 2 ? x.Size(1) : 1, Training, ToString());
        }

        /// <summary>Describes the layer like PyTorch: <c>BatchNorm1d(32, eps=1E-05, momentum=0.1)</c>.</summary>
        /// <returns>The description.</returns>
        public override string ToString() => FormattableString.Invariant($"BatchNorm1d({NumFeatures}, eps={Eps}, momentum={Momentum})");

        /// <inheritdoc/>
        protected override void Visit(ModuleVisitor visitor) => state.Visit(visitor);
    }

    /// <summary>The parameters, buffers and computation that <see cref="BatchNorm1d"/> and <see cref="BatchNorm2d"/> share.</summary>
    internal sealed class BatchNormState
    {
        public BatchNormState(int numFeatures, double eps, double momentum)
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(numFeatures);
            if (!(eps >= 0) || double.IsInfinity(eps))
                throw new ArgumentOutOfRangeException(nameof(eps), eps, "eps must be a finite number ≥ 0.");
            if (!(momentum >= 0 && momentum <= 1))
                throw new ArgumentOutOfRangeException(nameof(momentum), momentum, "momentum must be between 0 and 1.");
            NumFeatures = numFeatures;
            Eps = eps;
            Momentum = momentum;
            Weight = new Parameter(numFeatures);
            Weight.Data.Fill(1f);
            Bias = new Parameter(numFeatures);
            RunningMean = new Parameter(numFeatures);
            RunningVar = new Parameter(numFeatures);
            RunningVar.Data.Fill(1f);
        }

        public int NumFeatures { get; }

        public double Eps { get; }

        public double Momentum { get; }

        public Parameter Weight { get; }

        public Parameter Bias { get; }

        public Parameter RunningMean { get; }

        public Parameter RunningVar { get; }

        public Counter NumBatchesTracked { get; } = new();

        /// <summary>PyTorch's order: parameters, then buffers.</summary>
        public void Visit(ModuleVisitor visitor)
        {
            visitor.Parameter("weight", Weight);
            visitor.Parameter("bias", Bias);
            visitor.Buffer("running_mean", RunningMean);
            visitor.Buffer("running_var", RunningVar);
            visitor.Counter("num_batches_tracked", NumBatchesTracked);
        }

        /// <summary>Normalises x laid out as [batch, C, inner] per channel.</summary>
        public Tensor Forward(Tensor x, int inner, bool training, string module)
        {
            int channels = NumFeatures, batch = x.Batch;
            var y = new Tensor(batch, x.Shape.ToArray());
            float[] input = x.Data, output = y.Data;
            Span<float> gamma = Weight.Data, beta = Bias.Data, runningMean = RunningMean.Data, runningVar = RunningVar.Data;
            long n = (long)batch * inner; // values per channel
            if (training && n < 2)
                throw new ArgumentException(
                    $"{module} in training mode needs more than one value per channel, but received a batch of {batch} of shape {Shapes.Format(x.Shape)}.", "x");

            for (int c = 0; c < channels; c++)
            {
                double mean, variance;
                if (training)
                {
                    // Batch statistics, accumulated in double: the mean, then the biased variance (divided by n).
                    double sum = 0;
                    for (int b = 0; b < batch; b++)
                        for (int i = 0; i < inner; i++)
                            sum += input[(b * channels + c) * inner + i];
                    mean = sum / n;
                    double squares = 0;
                    for (int b = 0; b < batch; b++)
                        for (int i = 0; i < inner; i++)
                        {
                            double d = input[(b * channels + c) * inner + i] - mean;
                            squares += d * d;
                        }

                    variance = squares / n;
                    double unbiased = squares / (n - 1);
                    runningMean[c] = (float)((1 - Momentum) * runningMean[c] + Momentum * mean);
                    runningVar[c] = (float)((1 - Momentum) * runningVar[c] + Momentum * unbiased);
                }
                else
                {
                    mean = runningMean[c];
                    variance = runningVar[c];
                }

                double scale = gamma[c] / Math.Sqrt(variance + Eps);
                for (int b = 0; b < batch; b++)
                    for (int i = 0; i < inner; i++)
                    {
                        int at = (b * channels + c) * inner + i;
                        output[at] = (float)((input[at] - mean) * scale + beta[c]);
                    }
            }

            if (training) NumBatchesTracked.Value++;
            return y;
        }
    }
}
