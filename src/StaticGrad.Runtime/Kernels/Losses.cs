using System;
using System.Diagnostics;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace StaticGrad.Kernels
{
    /// <summary>
    /// The losses at the end of a graph of ops, each returning the mean loss (in double) and, when asked, writing its
    /// gradient with respect to the network's outputs: softmax cross-entropy and the multiclass SVM loss against class labels,
    /// and the mean squared error against targets, with PyTorch's 'mean' reduction. Sums are kept in double; nothing is allocated.
    /// </summary>
    public static class Losses
    {
        /// <summary>
        /// Softmax cross-entropy (PyTorch's <c>CrossEntropyLoss</c> with 'mean'): the mean over the batch of
        /// <c>−log softmax(scores)[label]</c>. Each row's maximum is subtracted before exponentiating, so large scores do
        /// not overflow. When <paramref name="scoresGradient"/> is not empty it receives <c>(softmax − onehot(label))/batch</c>.
        /// Every label is checked before anything is written.
        /// </summary>
        /// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
        /// <param name="scores">Unnormalised scores (logits), <c>[batch × classes]</c>.</param>
        /// <param name="labels">One class index per example, <c>[batch]</c>.</param>
        /// <param name="batch">Examples.</param>
        /// <param name="classes">Classes.</param>
        /// <param name="scoresGradient">Receives ∂loss/∂scores, <c>[batch × classes]</c> (overwritten); or empty for the loss alone.</param>
        /// <returns>The mean loss.</returns>
        /// <exception cref="ArgumentOutOfRangeException">A label is outside <c>[0, classes)</c>.</exception>
        public static double SoftmaxCrossEntropy<T>(ReadOnlySpan<T> scores, ReadOnlySpan<int> labels, int batch, int classes, Span<T> scoresGradient)
            where T : unmanaged, IBinaryFloatingPointIeee754<T>
        {
            Debug.Assert(scores.Length >= batch * classes && labels.Length >= batch, "scores or labels is shorter than batch × classes.");
            Debug.Assert(scoresGradient.IsEmpty || scoresGradient.Length >= batch * classes, "scoresGradient is shorter than batch × classes.");
            for (int b = 0; b < batch; b++)
            {
                int label = labels[b];
                if ((uint)label >= (uint)classes)
                {
                    ThrowLabelOutOfRange(b, label, classes);
                }
            }

            bool gradient = !scoresGradient.IsEmpty;
            double inverseBatch = 1.0 / batch, total = 0;
            ref T score = ref MemoryMarshal.GetReference(scores);
            ref T grad = ref MemoryMarshal.GetReference(scoresGradient);
            for (int b = 0; b < batch; b++)
            {
                ref T row = ref Unsafe.Add(ref score, b * classes);
                double max = double.CreateTruncating(row);
                for (int j = 1; j < classes; j++)
                {
                    double v = double.CreateTruncating(Unsafe.Add(ref row, j));
                    if (v > max || double.IsNaN(v))
                    {
                        max = v;
                    }
                }

                double sum = 0;
                for (int j = 0; j < classes; j++)
                {
                    sum += Math.Exp(double.CreateTruncating(Unsafe.Add(ref row, j)) - max);
                }

                int label = labels[b];
                total += Math.Log(sum) - (double.CreateTruncating(Unsafe.Add(ref row, label)) - max);
                if (gradient)
                {
                    ref T gradRow = ref Unsafe.Add(ref grad, b * classes);
                    double scale = inverseBatch / sum;
                    for (int j = 0; j < classes; j++)
                    {
                        Unsafe.Add(ref gradRow, j) = T.CreateTruncating(Math.Exp(double.CreateTruncating(Unsafe.Add(ref row, j)) - max) * scale);
                    }

                    Unsafe.Add(ref gradRow, label) -= T.CreateTruncating(inverseBatch);
                }
            }

            return total * inverseBatch;
        }

        /// <summary>
        /// The mean squared error (PyTorch's <c>MSELoss</c> with 'mean'): the mean over all <c>batch · outputCount</c>
        /// values of <c>(y − target)²</c>. When <paramref name="outputsGradient"/> is not empty it receives
        /// <c>2(y − target)/(batch · outputCount)</c>.
        /// </summary>
        /// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
        /// <param name="outputs">The network's outputs, <c>[batch × outputCount]</c>.</param>
        /// <param name="targets">The targets, <c>[batch × outputCount]</c>.</param>
        /// <param name="batch">Examples.</param>
        /// <param name="outputCount">Outputs per example.</param>
        /// <param name="outputsGradient">Receives ∂loss/∂outputs (overwritten); or empty for the loss alone.</param>
        /// <returns>The mean loss.</returns>
        public static double MeanSquaredError<T>(ReadOnlySpan<T> outputs, ReadOnlySpan<T> targets, int batch, int outputCount, Span<T> outputsGradient)
            where T : unmanaged, IBinaryFloatingPointIeee754<T>
        {
            int count = batch * outputCount;
            Debug.Assert(outputs.Length >= count && targets.Length >= count, "outputs or targets is shorter than batch × outputCount.");
            Debug.Assert(outputsGradient.IsEmpty || outputsGradient.Length >= count, "outputsGradient is shorter than batch × outputCount.");
            ref T y = ref MemoryMarshal.GetReference(outputs);
            ref T t = ref MemoryMarshal.GetReference(targets);
            double sum = 0;
            for (int i = 0; i < count; i++)
            {
                double difference = double.CreateTruncating(Unsafe.Add(ref y, i)) - double.CreateTruncating(Unsafe.Add(ref t, i));
                sum += difference * difference;
            }

            if (!outputsGradient.IsEmpty)
            {
                ref T grad = ref MemoryMarshal.GetReference(outputsGradient);
                T scale = T.CreateTruncating(2.0 / count);
                for (int i = 0; i < count; i++)
                {
                    Unsafe.Add(ref grad, i) = scale * (Unsafe.Add(ref y, i) - Unsafe.Add(ref t, i));
                }
            }

            return sum / count;
        }

        /// <summary>
        /// The multiclass SVM (hinge) loss of CS231n: the mean over the rows of <c>Σ_{j≠y} max(0, z_j − z_y + margin)</c>
        /// (PyTorch's <c>MultiMarginLoss(margin=margin)</c> times the number of classes, which that loss divides by). When
        /// <paramref name="scoresGradient"/> is not empty it receives, per row, <c>1/rows</c> at every class whose margin is
        /// positive and minus that count over <c>rows</c> at the label (a margin of exactly 0 counts as not positive). Every
        /// label is checked before anything is written.
        /// </summary>
        /// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
        /// <param name="scores">Scores, <c>[rows × classes]</c>.</param>
        /// <param name="labels">One class index per row, <c>[rows]</c>.</param>
        /// <param name="rows">Rows (examples, or examples × positions).</param>
        /// <param name="classes">Classes.</param>
        /// <param name="margin">Δ, positive.</param>
        /// <param name="scoresGradient">Receives ∂loss/∂scores, <c>[rows × classes]</c> (overwritten); or empty for the loss alone.</param>
        /// <returns>The mean loss.</returns>
        /// <exception cref="ArgumentOutOfRangeException">A label is outside <c>[0, classes)</c>.</exception>
        public static double MulticlassSvm<T>(ReadOnlySpan<T> scores, ReadOnlySpan<int> labels, int rows, int classes, double margin, Span<T> scoresGradient)
            where T : unmanaged, IBinaryFloatingPointIeee754<T>
        {
            Debug.Assert(scores.Length >= rows * classes && labels.Length >= rows, "scores or labels is shorter than rows × classes.");
            Debug.Assert(scoresGradient.IsEmpty || scoresGradient.Length >= rows * classes, "scoresGradient is shorter than rows × classes.");
            for (int r = 0; r < rows; r++)
            {
                if ((uint)labels[r] >= (uint)classes)
                {
                    ThrowLabelOutOfRange(r, labels[r], classes);
                }
            }

            bool gradient = !scoresGradient.IsEmpty;
            T scale = T.CreateTruncating(1.0 / rows);
            double total = 0;
            for (int r = 0; r < rows; r++)
            {
                ReadOnlySpan<T> z = scores.Slice(r * classes, classes);
                int label = labels[r], positive = 0;
                double zy = double.CreateTruncating(z[label]);
                for (int j = 0; j < classes; j++)
                {
                    double m = j == label ? 0 : double.CreateTruncating(z[j]) - zy + margin;
                    if (m > 0)
                    {
                        total += m;
                        positive++;
                    }

                    if (gradient)
                    {
                        scoresGradient[(r * classes) + j] = m > 0 ? scale : T.Zero;
                    }
                }

                if (gradient)
                {
                    scoresGradient[(r * classes) + label] = T.CreateTruncating(-positive) * scale;
                }
            }

            return total / rows;
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        private static void ThrowLabelOutOfRange(int index, int label, int classes) =>
            throw new ArgumentOutOfRangeException("labels", label, $"labels[{index}] is {label}, outside [0, {classes}).");
    }
}
