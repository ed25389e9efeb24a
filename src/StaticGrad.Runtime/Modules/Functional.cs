using System;

namespace StaticGrad
{
    /// <summary>
    /// Functions without parameters for the <c>Forward</c> of models written as C# code, like PyTorch's
    /// <c>torch.nn.functional</c>; bring them into scope with <c>using static StaticGrad.Functional;</c>.
    /// Each returns a new tensor and leaves its input unchanged.
    /// </summary>
    public static class Functional
    {
        /// <summary>The rectified linear unit <c>max(0, x)</c>, element-wise (NaN stays NaN).</summary>
        /// <param name="x">Any tensor.</param>
        /// <returns>A new tensor of the same shape.</returns>
        public static Tensor Relu(Tensor x) => Map(x, static v => v > 0f ? v : (v <= 0f ? 0f : v));

        /// <summary>
        /// The Gaussian error linear unit <c>x·Φ(x)</c>, element-wise, PyTorch's <c>gelu(x, approximate)</c>:
        /// <c>"none"</c> is exact, <c>0.5·x·(1 + erf(x/√2))</c>; <c>"tanh"</c> is <c>0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))</c>.
        /// </summary>
        /// <param name="x">Any tensor.</param>
        /// <param name="approximate"><c>"none"</c> (the default) or <c>"tanh"</c>.</param>
        /// <returns>A new tensor of the same shape.</returns>
        /// <exception cref="ArgumentException"><paramref name="approximate"/> is neither <c>"none"</c> nor <c>"tanh"</c>.</exception>
        public static Tensor Gelu(Tensor x, string approximate = "none")
        {
            switch (approximate)
            {
                case "none":
                    return Map(x, static v => (float)(0.5 * v * (1 + Erf(v / Math.Sqrt(2)))));
                case "tanh":
                    return Map(x, static v =>
                    {
                        double d = v;
                        return (float)(0.5 * d * (1 + Math.Tanh(Math.Sqrt(2 / Math.PI) * (d + 0.044715 * d * d * d))));
                    });
                default:
                    throw new ArgumentException($"approximate must be \"none\" or \"tanh\", but is \"{approximate}\".", nameof(approximate));
            }
        }

        /// <summary>The sigmoid linear unit (swish) <c>x·σ(x)</c>, element-wise.</summary>
        /// <param name="x">Any tensor.</param>
        /// <returns>A new tensor of the same shape.</returns>
        public static Tensor Silu(Tensor x) => Map(x, static v => (float)(v * Logistic(v)));

        /// <summary>The logistic sigmoid <c>1/(1 + e^(−x))</c>, element-wise; never overflows for either sign.</summary>
        /// <param name="x">Any tensor.</param>
        /// <returns>A new tensor of the same shape, values in [0, 1].</returns>
        public static Tensor Sigmoid(Tensor x) => Map(x, static v => (float)Logistic(v));

        /// <summary>The hyperbolic tangent, element-wise.</summary>
        /// <param name="x">Any tensor.</param>
        /// <returns>A new tensor of the same shape, values in [−1, 1].</returns>
        public static Tensor Tanh(Tensor x) => Map(x, static v => (float)Math.Tanh(v));

        /// <summary>
        /// The matrix product of each example, as <c>torch.matmul</c> on values of rank 2 or more: a [… × m × k] times
        /// b [… × k × n] gives [… × m × n], one product per index of the leading dimensions (which must be equal). A batch of 1
        /// (a <see cref="Parameter"/>) is used for every example.
        /// </summary>
        /// <param name="a">The left matrices.</param>
        /// <param name="b">The right matrices.</param>
        /// <returns>A new tensor.</returns>
        /// <exception cref="ArgumentException">The shapes do not multiply, or the batches differ.</exception>
        public static Tensor MatMul(Tensor a, Tensor b)
        {
            ArgumentNullException.ThrowIfNull(a);
            ArgumentNullException.ThrowIfNull(b);
            if (a.Rank < 2 || a.Rank != b.Rank)
                throw new ArgumentException($"MatMul multiplies matrices of one rank, 2 or more: {Shapes.Format(a.Shape)} and {Shapes.Format(b.Shape)}.", nameof(b));
            for (int i = 0; i < a.Rank - 2; i++)
                if (a.Shape[i] != b.Shape[i])
                    throw new ArgumentException($"MatMul: {Shapes.Format(a.Shape)} by {Shapes.Format(b.Shape)}: leading dimension {i} differs.", nameof(b));
            int m = a.Size(-2), k = a.Size(-1), n = b.Size(-1);
            if (b.Size(-2) != k)
                throw new ArgumentException($"MatMul: {m}×{k} by {b.Size(-2)}×{n}: inner dimensions {k} and {b.Size(-2)} differ.", nameof(b));
            int batch = Batches(a, b);
            int[] shape = a.Shape.ToArray();
            shape[^1] = n;
            var y = new Tensor(batch, shape);
            int count = a.ExampleSize / (m * k);
            for (int example = 0; example < batch; example++)
                for (int item = 0; item < count; item++)
                {
                    int ao = ((a.Batch == 1 ? 0 : example) * a.ExampleSize) + (item * m * k);
                    int bo = ((b.Batch == 1 ? 0 : example) * b.ExampleSize) + (item * k * n);
                    int yo = (example * y.ExampleSize) + (item * m * n);
                    for (int i = 0; i < m; i++)
                        for (int j = 0; j < n; j++)
                        {
                            double sum = 0;
                            for (int p = 0; p < k; p++)
                                sum += (double)a.Data[ao + (i * k) + p] * b.Data[bo + (p * n) + j];
                            y.Data[yo + (i * n) + j] = (float)sum;
                        }
                }

            return y;
        }

        /// <summary>The softmax along one dimension of each example, as <c>F.softmax(x, dim)</c>: <c>exp(x − max) / Σ exp(x − max)</c>.</summary>
        /// <param name="x">Any tensor.</param>
        /// <param name="dim">The dimension, 0 to rank − 1 or negative from the end (−1: the last).</param>
        /// <returns>A new tensor of the same shape.</returns>
        /// <exception cref="ArgumentOutOfRangeException"><paramref name="dim"/> is out of range.</exception>
        public static Tensor Softmax(Tensor x, int dim)
        {
            ArgumentNullException.ThrowIfNull(x);
            int d = Shapes.Dimension(dim, x.Shape, nameof(dim));
            int length = x.Shape[d], inner = 1;
            for (int i = d + 1; i < x.Rank; i++)
                inner *= x.Shape[i];
            var y = new Tensor(x.Batch, x.Shape.ToArray());
            for (int start = 0; start < x.Data.Length; start += length * inner)
                for (int j = 0; j < inner; j++)
                {
                    double max = double.NegativeInfinity, sum = 0;
                    for (int i = 0; i < length; i++)
                        max = Math.Max(max, x.Data[start + (i * inner) + j]);
                    for (int i = 0; i < length; i++)
                        sum += Math.Exp(x.Data[start + (i * inner) + j] - max);
                    for (int i = 0; i < length; i++)
                        y.Data[start + (i * inner) + j] = (float)(Math.Exp(x.Data[start + (i * inner) + j] - max) / sum);
                }

            return y;
        }

        /// <summary>
        /// Scaled dot-product attention, as PyTorch 2's <c>F.scaled_dot_product_attention(q, k, v, is_causal=causal)</c> without
        /// dropout: <c>softmax(q·kᵀ/√d + mask)·v</c> for q [… × tq × d], k [… × tk × d], v [… × tk × dv]; the causal mask hides key
        /// j from query i when j &gt; i.
        /// </summary>
        /// <param name="q">The queries.</param>
        /// <param name="k">The keys.</param>
        /// <param name="v">The values.</param>
        /// <param name="causal">Whether each query sees only the keys at or before its position.</param>
        /// <returns>A new tensor [… × tq × dv].</returns>
        /// <exception cref="ArgumentException">The shapes do not fit.</exception>
        public static Tensor ScaledDotProductAttention(Tensor q, Tensor k, Tensor v, bool causal = false)
        {
            ArgumentNullException.ThrowIfNull(q);
            ArgumentNullException.ThrowIfNull(k);
            ArgumentNullException.ThrowIfNull(v);
            if (q.Rank < 2 || q.Rank != k.Rank || q.Rank != v.Rank || q.Size(-1) != k.Size(-1) || k.Size(-2) != v.Size(-2))
                throw new ArgumentException($"Attention needs q [… × tq × d], k [… × tk × d] and v [… × tk × dv], but got {Shapes.Format(q.Shape)}, {Shapes.Format(k.Shape)} and {Shapes.Format(v.Shape)}.", nameof(q));
            var scores = MatMul(q, k.Transpose(-2, -1));
            float scale = (float)(1 / Math.Sqrt(q.Size(-1)));
            int tq = q.Size(-2), tk = k.Size(-2);
            for (int i = 0; i < scores.Data.Length; i++)
            {
                int column = i % tk, row = i / tk % tq;
                scores.Data[i] = causal && column > row ? float.NegativeInfinity : scores.Data[i] * scale;
            }

            return MatMul(Softmax(scores, -1), v);
        }

        /// <summary>
        /// Max pooling, PyTorch's <c>max_pool2d</c> without padding: the maximum of each k×k window of each channel of C×H×W
        /// examples (the first maximum when values tie; NaN wins).
        /// </summary>
        /// <param name="x">Examples of shape C×H×W with H, W ≥ <paramref name="kernelSize"/>.</param>
        /// <param name="kernelSize">The side k of the window.</param>
        /// <param name="stride">The step between windows; 0 (the default) means <paramref name="kernelSize"/>.</param>
        /// <returns>A new tensor of shape C×H′×W′, H′ = (H − k)/s + 1.</returns>
        /// <exception cref="ArgumentException"><paramref name="x"/> is not C×H×W or is smaller than the window.</exception>
        public static Tensor MaxPool2d(Tensor x, int kernelSize, int stride = 0) =>
            Pool(x, kernelSize, stride, "MaxPool2d", static window =>
            {
                float max = window[0];
                for (int i = 1; i < window.Length; i++)
                    if (window[i] > max || float.IsNaN(window[i]) && !float.IsNaN(max)) max = window[i];
                return max;
            });

        /// <summary>
        /// Average pooling, PyTorch's <c>avg_pool2d</c> without padding: the mean of each k×k window of each channel of C×H×W examples.
        /// </summary>
        /// <param name="x">Examples of shape C×H×W with H, W ≥ <paramref name="kernelSize"/>.</param>
        /// <param name="kernelSize">The side k of the window.</param>
        /// <param name="stride">The step between windows; 0 (the default) means <paramref name="kernelSize"/>.</param>
        /// <returns>A new tensor of shape C×H′×W′, H′ = (H − k)/s + 1.</returns>
        /// <exception cref="ArgumentException"><paramref name="x"/> is not C×H×W or is smaller than the window.</exception>
        public static Tensor AvgPool2d(Tensor x, int kernelSize, int stride = 0) =>
            Pool(x, kernelSize, stride, "AvgPool2d", static window =>
            {
                double sum = 0;
                foreach (float v in window) sum += v;
                return (float)(sum / window.Length);
            });

        /// <summary>
        /// Adaptive average pooling, PyTorch's <c>adaptive_avg_pool2d</c>, for an output size of 1 only (global average pooling):
        /// C×H×W → C×1×1, the mean of each channel.
        /// </summary>
        /// <param name="x">Examples of shape C×H×W.</param>
        /// <param name="outputSize">The output side; only 1 is supported.</param>
        /// <returns>A new tensor of shape C×1×1.</returns>
        /// <exception cref="NotSupportedException"><paramref name="outputSize"/> is not 1.</exception>
        /// <exception cref="ArgumentException"><paramref name="x"/> is not C×H×W.</exception>
        public static Tensor AdaptiveAvgPool2d(Tensor x, int outputSize)
        {
            ArgumentNullException.ThrowIfNull(x);
            if (outputSize != 1)
                throw new NotSupportedException($"AdaptiveAvgPool2d supports an output size of 1 (global average pooling) only, not {outputSize}.");
            if (x.Rank != 3)
                throw new ArgumentException($"AdaptiveAvgPool2d expects examples of shape C×H×W, but received {Shapes.Format(x.Shape)}.", nameof(x));
            int c = x.Size(0), h = x.Size(1), w = x.Size(2);
            var y = new Tensor(x.Batch, c, 1, 1);
            float[] input = x.Data, output = y.Data;
            for (int plane = 0; plane < x.Batch * c; plane++)
            {
                double sum = 0;
                for (int i = 0; i < h * w; i++) sum += input[plane * h * w + i];
                output[plane] = (float)(sum / (h * w));
            }

            return y;
        }

        /// <summary>
        /// Joins tensors along one per-example dimension, PyTorch's <c>torch.cat</c> with the batch kept: all must have the same
        /// batch, rank and sizes except in <paramref name="dimension"/>.
        /// </summary>
        /// <param name="dimension">The per-example dimension to join along (negative counts from the end).</param>
        /// <param name="tensors">One or more tensors.</param>
        /// <returns>A new tensor whose size in <paramref name="dimension"/> is the sum of theirs.</returns>
        /// <exception cref="ArgumentException">No tensor, or the batches, ranks or other sizes differ.</exception>
        public static Tensor Concat(int dimension, params Tensor[] tensors)
        {
            ArgumentNullException.ThrowIfNull(tensors);
            if (tensors.Length == 0)
                throw new ArgumentException("Concat needs at least one tensor.", nameof(tensors));
            Tensor first = tensors[0] ?? throw new ArgumentNullException(nameof(tensors));
            int d = Shapes.Dimension(dimension, first.Shape, nameof(dimension));
            int[] outShape = first.Shape.ToArray();
            outShape[d] = 0;
            foreach (Tensor t in tensors)
            {
                ArgumentNullException.ThrowIfNull(t, nameof(tensors));
                bool same = t.Batch == first.Batch && t.Rank == first.Rank;
                for (int i = 0; same && i < first.Rank; i++)
                    same = i == d || t.Size(i) == first.Size(i);
                if (!same)
                    throw new ArgumentException(
                        $"Cannot concatenate {first} and {t} along dimension {dimension}: the batches and every other dimension must be equal.",
                        nameof(tensors));
                outShape[d] += t.Size(d);
            }

            // Each example is `outer` blocks; block o of each input is `size(d)·inner` contiguous values, placed side by side.
            int outer = 1, inner = 1;
            for (int i = 0; i < d; i++) outer *= outShape[i];
            for (int i = d + 1; i < outShape.Length; i++) inner *= outShape[i];
            var y = new Tensor(first.Batch, outShape);
            float[] output = y.Data;
            int target = 0;
            for (int b = 0; b < first.Batch; b++)
                for (int o = 0; o < outer; o++)
                    foreach (Tensor t in tensors)
                    {
                        int block = t.Size(d) * inner;
                        Array.Copy(t.Data, (b * outer + o) * block, output, target, block);
                        target += block;
                    }

            return y;
        }

        /// <summary>
        /// The error function erf(x) in double precision (absolute error about 1e−15): its Maclaurin series for |x| &lt; 2
        /// (where the alternating terms stay below e^(x²)·x ≈ 110, so little is lost to cancellation), and 1 − erfc(x) from
        /// erfc's continued fraction beyond (relative error about 1e−16 there).
        /// </summary>
        internal static double Erf(double x)
        {
            if (double.IsNaN(x)) return double.NaN;
            double a = Math.Abs(x);
            double result;
            if (a < 2)
            {
                // erf(x) = 2/√π · Σ_n (−1)ⁿ x^(2n+1) / (n!·(2n+1))
                double term = a, sum = a, square = a * a;
                for (int n = 1; n < 100; n++)
                {
                    term *= -square / n;
                    double contribution = term / (2 * n + 1);
                    sum += contribution;
                    if (Math.Abs(contribution) < 1e-17 * Math.Abs(sum)) break;
                }

                result = 2 / Math.Sqrt(Math.PI) * sum;
            }
            else
            {
                result = 1 - Erfc(a);
            }

            return x < 0 ? -result : result;
        }

        /// <summary>
        /// erfc(x) for x ≥ 2 from its continued fraction
        /// <c>erfc(x) = e^(−x²)/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + 2/(x + …)))))</c>, evaluated from the bottom.
        /// </summary>
        internal static double Erfc(double x)
        {
            if (x > 27) return 0; // e^(−x²) underflows
            double t = x;
            for (int k = 120; k >= 1; k--)
                t = x + k / 2.0 / t;
            return Math.Exp(-x * x) / (Math.Sqrt(Math.PI) * t);
        }

        /// <summary>1/(1 + e^(−v)) without overflow: the exponent is never positive.</summary>
        private static double Logistic(double v)
        {
            if (v >= 0) return 1 / (1 + Math.Exp(-v));
            double e = Math.Exp(v);
            return e / (1 + e);
        }

        /// <summary>The batch of a result of two tensors: theirs, or the other's where one is 1 (a <see cref="Parameter"/>).</summary>
        private static int Batches(Tensor a, Tensor b)
        {
            if (a.Batch != b.Batch && a.Batch != 1 && b.Batch != 1)
                throw new ArgumentException($"The batches differ ({a.Batch} and {b.Batch}).", nameof(b));
            return Math.Max(a.Batch, b.Batch);
        }

        private static Tensor Map(Tensor x, Func<float, float> f)
        {
            ArgumentNullException.ThrowIfNull(x);
            var y = new Tensor(x.Batch, x.Shape.ToArray());
            float[] input = x.Data, output = y.Data;
            for (int i = 0; i < input.Length; i++) output[i] = f(input[i]);
            return y;
        }

        private delegate float WindowReducer(ReadOnlySpan<float> window);

        private static Tensor Pool(Tensor x, int kernelSize, int stride, string name, WindowReducer reduce)
        {
            ArgumentNullException.ThrowIfNull(x);
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(kernelSize);
            ArgumentOutOfRangeException.ThrowIfNegative(stride);
            int k = kernelSize, s = stride == 0 ? kernelSize : stride;
            if (x.Rank != 3)
                throw new ArgumentException($"{name} expects examples of shape C×H×W, but received {Shapes.Format(x.Shape)}.", nameof(x));
            int c = x.Size(0), h = x.Size(1), w = x.Size(2);
            if (h < k || w < k)
                throw new ArgumentException(
                    $"{name} with kernel size {k} expects examples of at least C×{k}×{k}, but received {Shapes.Format(x.Shape)}.", nameof(x));
            int outH = (h - k) / s + 1, outW = (w - k) / s + 1;
            var y = new Tensor(x.Batch, c, outH, outW);
            float[] input = x.Data, output = y.Data;
            float[] window = new float[k * k];
            for (int plane = 0; plane < x.Batch * c; plane++)
                for (int oy = 0; oy < outH; oy++)
                    for (int ox = 0; ox < outW; ox++)
                    {
                        // The window in row-major order, so "first" means first in reading order.
                        for (int ky = 0; ky < k; ky++)
                            for (int kx = 0; kx < k; kx++)
                                window[ky * k + kx] = input[(plane * h + oy * s + ky) * w + ox * s + kx];
                        output[(plane * outH + oy) * outW + ox] = reduce(window);
                    }

            return y;
        }
    }
}
