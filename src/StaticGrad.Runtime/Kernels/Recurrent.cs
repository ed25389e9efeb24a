using System;
using System.Diagnostics;
using System.Numerics;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace StaticGrad.Kernels
{
    /// <summary>
    /// The kernels of recurrent layers, one layer at a time, forward and backward through time: PyTorch's <c>nn.GRU</c> and
    /// <c>nn.LSTM</c> (gates in PyTorch's order, h₀ = c₀ = 0), for a batch of sequences of a fixed number of steps.
    /// <para>
    /// Layouts. A layer's input is either batch-major (<c>[batch, steps, inputSize]</c>, the model's values) or time-major
    /// (<c>[steps, batch, inputSize]</c>, the states of the layer below). The gate inputs <c>x·W_ihᵀ + b_ih</c> are one product
    /// for all steps and keep the input's row order. States are time-major <c>[steps + 1, batch, hidden]</c>, slot 0 holding
    /// the zero initial state, so that each step's previous states are one contiguous matrix for the product with W_hh.
    /// </para>
    /// Nothing is allocated; the generated code passes spans of the sizes it was compiled for (lengths are only asserted).
    /// </summary>
    public static class Recurrent
    {
        /// <summary>
        /// One GRU layer forward: <c>r = σ(x·W_irᵀ + b_ir + h·W_hrᵀ + b_hr)</c>, <c>z = σ(… z …)</c>,
        /// <c>n = tanh(x·W_inᵀ + b_in + r ⊙ (h·W_hnᵀ + b_hn))</c>, <c>h' = (1 − z) ⊙ n + z ⊙ h</c>.
        /// </summary>
        /// <param name="input">The layer's input, batch-major or (<paramref name="timeMajor"/>) time-major.</param>
        /// <param name="timeMajor">Whether <paramref name="input"/> is <c>[steps, batch, inputSize]</c>.</param>
        /// <param name="batch">Sequences in the batch.</param>
        /// <param name="steps">Steps per sequence.</param>
        /// <param name="inputSize">Features per step of the input.</param>
        /// <param name="hidden">The hidden size H.</param>
        /// <param name="weightIh">W_ih [3H, inputSize] (r, z, n).</param>
        /// <param name="weightHh">W_hh [3H, H].</param>
        /// <param name="biasIh">b_ih [3H], or empty for a layer without biases.</param>
        /// <param name="biasHh">b_hh [3H], or empty.</param>
        /// <param name="gateInputs">Workspace [batch·steps, 3H]: <c>x·W_ihᵀ + b_ih</c>, in the input's row order.</param>
        /// <param name="gates">Receives r, z, n of every step, time-major [steps, batch, 3H], for the backward pass.</param>
        /// <param name="hiddenParts">Receives <c>h·W_hnᵀ + b_hn</c> of every step [steps, batch, H], for the backward pass.</param>
        /// <param name="states">Receives the states [steps + 1, batch, H], slot 0 set to zero.</param>
        public static void GruForward<TInputProduct, THiddenProduct, T>(
            ReadOnlySpan<T> input, bool timeMajor, int batch, int steps, int inputSize, int hidden,
            ReadOnlySpan<T> weightIh, ReadOnlySpan<T> weightHh, ReadOnlySpan<T> biasIh, ReadOnlySpan<T> biasHh,
            Span<T> gateInputs, Span<T> gates, Span<T> hiddenParts, Span<T> states)
            where TInputProduct : struct, IGemmShape
            where THiddenProduct : struct, IGemmShape
            where T : unmanaged, IBinaryFloatingPointIeee754<T>
        {
            int width = 3 * hidden, rows = batch * steps;
            Debug.Assert(input.Length >= rows * inputSize && gateInputs.Length >= rows * width, "A span is shorter than the batch.");
            Debug.Assert(gates.Length >= rows * width && hiddenParts.Length >= rows * hidden && states.Length >= (steps + 1) * batch * hidden, "A workspace is shorter than the batch.");
            Affine<TInputProduct, T>(input, weightIh, biasIh, gateInputs, rows);
            states.Slice(0, batch * hidden).Clear();
            for (int t = 0; t < steps; t++)
            {
                ReadOnlySpan<T> previous = states.Slice(t * batch * hidden, batch * hidden);
                Span<T> step = gates.Slice(t * batch * width, batch * width);
                // h·W_hhᵀ + b_hh for the whole batch, into this step's gate slots (overwritten with r, z, n below).
                Affine<THiddenProduct, T>(previous, weightHh, biasHh, step, batch);
                Span<T> next = states.Slice((t + 1) * batch * hidden, batch * hidden);
                for (int b = 0; b < batch; b++)
                {
                    ReadOnlySpan<T> x = gateInputs.Slice(Row(b, t, batch, steps, timeMajor) * width, width);
                    Span<T> g = step.Slice(b * width, width);
                    Span<T> part = hiddenParts.Slice(((t * batch) + b) * hidden, hidden);
                    GruCell(x, g, part, previous.Slice(b * hidden, hidden), next.Slice(b * hidden, hidden), hidden);
                }
            }
        }

        /// <summary>
        /// One GRU layer backward through time, from the gradients of its outputs: adds to the parameter gradients and
        /// overwrites the input's gradient (when <paramref name="inputGradient"/> is not empty).
        /// </summary>
        /// <param name="input">The layer's input, as given to <see cref="GruForward{TInputProduct, THiddenProduct, T}"/>.</param>
        /// <param name="timeMajor">Whether <paramref name="input"/> (and so <paramref name="inputGradient"/>) is time-major.</param>
        /// <param name="batch">Sequences in the batch.</param>
        /// <param name="steps">Steps per sequence.</param>
        /// <param name="inputSize">Features per step of the input.</param>
        /// <param name="hidden">The hidden size H.</param>
        /// <param name="weightIh">W_ih [3H, inputSize].</param>
        /// <param name="weightHh">W_hh [3H, H].</param>
        /// <param name="gates">r, z, n from the forward pass.</param>
        /// <param name="hiddenParts"><c>h·W_hnᵀ + b_hn</c> from the forward pass.</param>
        /// <param name="states">The states from the forward pass.</param>
        /// <param name="outputGradient">∂L/∂h of every step's output, at <c>b·<paramref name="gradientBatchStride"/> + t·<paramref name="gradientTimeStride"/></c>.</param>
        /// <param name="gradientBatchStride">Distance between sequences in <paramref name="outputGradient"/>.</param>
        /// <param name="gradientTimeStride">Distance between steps in <paramref name="outputGradient"/>.</param>
        /// <param name="finalGradient">∂L/∂h of the final state (hₙ) at <c>b·<paramref name="finalBatchStride"/></c>.</param>
        /// <param name="finalBatchStride">Distance between sequences in <paramref name="finalGradient"/>.</param>
        /// <param name="weightIhGradient">Added to: ∂L/∂W_ih.</param>
        /// <param name="weightHhGradient">Added to: ∂L/∂W_hh.</param>
        /// <param name="biasIhGradient">Added to: ∂L/∂b_ih (empty without biases).</param>
        /// <param name="biasHhGradient">Added to: ∂L/∂b_hh (empty without biases).</param>
        /// <param name="gateInputGradient">Workspace [batch·steps, 3H] in the input's row order.</param>
        /// <param name="stepGradient">Workspace [batch, 3H].</param>
        /// <param name="stateGradient">Workspace [batch, H].</param>
        /// <param name="inputGradient">Receives ∂L/∂input (overwritten), or empty when nothing needs it.</param>
        public static void GruBackward<TStateGradient, THiddenWeightGradient, TInputWeightGradient, TInputGradient, T>(
            ReadOnlySpan<T> input, bool timeMajor, int batch, int steps, int inputSize, int hidden,
            ReadOnlySpan<T> weightIh, ReadOnlySpan<T> weightHh, ReadOnlySpan<T> gates, ReadOnlySpan<T> hiddenParts, ReadOnlySpan<T> states,
            ReadOnlySpan<T> outputGradient, int gradientBatchStride, int gradientTimeStride, ReadOnlySpan<T> finalGradient, int finalBatchStride,
            Span<T> weightIhGradient, Span<T> weightHhGradient, Span<T> biasIhGradient, Span<T> biasHhGradient,
            Span<T> gateInputGradient, Span<T> stepGradient, Span<T> stateGradient, Span<T> inputGradient)
            where TStateGradient : struct, IGemmShape
            where THiddenWeightGradient : struct, IGemmShape
            where TInputWeightGradient : struct, IGemmShape
            where TInputGradient : struct, IGemmShape
            where T : unmanaged, IBinaryFloatingPointIeee754<T>
        {
            int width = 3 * hidden, rows = batch * steps;
            Debug.Assert(gateInputGradient.Length >= rows * width && stepGradient.Length >= batch * width && stateGradient.Length >= batch * hidden, "A workspace is shorter than the batch.");
            for (int b = 0; b < batch; b++)
            {
                finalGradient.Slice(b * finalBatchStride, hidden).CopyTo(stateGradient.Slice(b * hidden, hidden));
            }

            for (int t = steps - 1; t >= 0; t--)
            {
                ReadOnlySpan<T> previous = states.Slice(t * batch * hidden, batch * hidden);
                ReadOnlySpan<T> step = gates.Slice(t * batch * width, batch * width);
                for (int b = 0; b < batch; b++)
                {
                    ReadOnlySpan<T> g = step.Slice(b * width, width);
                    ReadOnlySpan<T> part = hiddenParts.Slice(((t * batch) + b) * hidden, hidden);
                    ReadOnlySpan<T> dOut = outputGradient.Slice((b * gradientBatchStride) + (t * gradientTimeStride), hidden);
                    Span<T> dh = stateGradient.Slice(b * hidden, hidden);
                    Span<T> dx = gateInputGradient.Slice(Row(b, t, batch, steps, timeMajor) * width, width);
                    Span<T> ds = stepGradient.Slice(b * width, width);
                    GruCellBackward(g, part, previous.Slice(b * hidden, hidden), dOut, dh, dx, ds, hidden);
                }

                // dh_prev += dS·W_hh, dW_hh += dSᵀ·h_prev, db_hh += Σ dS.
                Gemm.Multiply<TStateGradient, T>(ref At(stepGradient), ref At(weightHh), ref At(stateGradient), rows: batch);   // accumulates
                Gemm.Multiply<THiddenWeightGradient, T>(ref At(stepGradient), ref At(previous), ref At(weightHhGradient), depth: batch);
                SumRows(stepGradient, batch, biasHhGradient);
            }

            // dW_ih += dGᵀ·x, db_ih += Σ dG, dx = dG·W_ih: the gate gradients and the input share their row order.
            Gemm.Multiply<TInputWeightGradient, T>(ref At(gateInputGradient), ref At(input), ref At(weightIhGradient), depth: rows);
            SumRows(gateInputGradient, rows, biasIhGradient);
            if (!inputGradient.IsEmpty)
            {
                Gemm.Multiply<TInputGradient, T>(ref At(gateInputGradient), ref At(weightIh), ref At(inputGradient), rows: rows);
            }
        }

        /// <summary>
        /// One LSTM layer forward: <c>i, f, o = σ(…)</c>, <c>g = tanh(…)</c> of <c>x·W_ihᵀ + b_ih + h·W_hhᵀ + b_hh</c> (PyTorch's order
        /// i, f, g, o), <c>c' = f ⊙ c + i ⊙ g</c>, <c>h' = o ⊙ tanh(c')</c>.
        /// </summary>
        /// <param name="input">The layer's input, batch-major or (<paramref name="timeMajor"/>) time-major.</param>
        /// <param name="timeMajor">Whether <paramref name="input"/> is <c>[steps, batch, inputSize]</c>.</param>
        /// <param name="batch">Sequences in the batch.</param>
        /// <param name="steps">Steps per sequence.</param>
        /// <param name="inputSize">Features per step of the input.</param>
        /// <param name="hidden">The hidden size H.</param>
        /// <param name="weightIh">W_ih [4H, inputSize] (i, f, g, o).</param>
        /// <param name="weightHh">W_hh [4H, H].</param>
        /// <param name="biasIh">b_ih [4H], or empty.</param>
        /// <param name="biasHh">b_hh [4H], or empty.</param>
        /// <param name="gateInputs">Workspace [batch·steps, 4H].</param>
        /// <param name="gates">Receives i, f, g, o of every step, time-major [steps, batch, 4H].</param>
        /// <param name="cells">Receives the cell states [steps + 1, batch, H], slot 0 set to zero.</param>
        /// <param name="states">Receives the hidden states [steps + 1, batch, H], slot 0 set to zero.</param>
        public static void LstmForward<TInputProduct, THiddenProduct, T>(
            ReadOnlySpan<T> input, bool timeMajor, int batch, int steps, int inputSize, int hidden,
            ReadOnlySpan<T> weightIh, ReadOnlySpan<T> weightHh, ReadOnlySpan<T> biasIh, ReadOnlySpan<T> biasHh,
            Span<T> gateInputs, Span<T> gates, Span<T> cells, Span<T> states)
            where TInputProduct : struct, IGemmShape
            where THiddenProduct : struct, IGemmShape
            where T : unmanaged, IBinaryFloatingPointIeee754<T>
        {
            int width = 4 * hidden, rows = batch * steps;
            Debug.Assert(input.Length >= rows * inputSize && gateInputs.Length >= rows * width && gates.Length >= rows * width, "A span is shorter than the batch.");
            Debug.Assert(cells.Length >= (steps + 1) * batch * hidden && states.Length >= (steps + 1) * batch * hidden, "A workspace is shorter than the batch.");
            Affine<TInputProduct, T>(input, weightIh, biasIh, gateInputs, rows);
            states.Slice(0, batch * hidden).Clear();
            cells.Slice(0, batch * hidden).Clear();
            for (int t = 0; t < steps; t++)
            {
                ReadOnlySpan<T> previous = states.Slice(t * batch * hidden, batch * hidden);
                ReadOnlySpan<T> previousCells = cells.Slice(t * batch * hidden, batch * hidden);
                Span<T> step = gates.Slice(t * batch * width, batch * width);
                Affine<THiddenProduct, T>(previous, weightHh, biasHh, step, batch);
                Span<T> next = states.Slice((t + 1) * batch * hidden, batch * hidden);
                Span<T> nextCells = cells.Slice((t + 1) * batch * hidden, batch * hidden);
                for (int b = 0; b < batch; b++)
                {
                    ReadOnlySpan<T> x = gateInputs.Slice(Row(b, t, batch, steps, timeMajor) * width, width);
                    Span<T> g = step.Slice(b * width, width);
                    LstmCell(x, g, previousCells.Slice(b * hidden, hidden), nextCells.Slice(b * hidden, hidden), next.Slice(b * hidden, hidden), hidden);
                }
            }
        }

        /// <summary>
        /// One LSTM layer backward through time from the gradients of its outputs and of its final hidden and cell states:
        /// adds to the parameter gradients and overwrites the input's gradient (when <paramref name="inputGradient"/> is not empty).
        /// </summary>
        /// <param name="input">The layer's input, as given to <see cref="LstmForward{TInputProduct, THiddenProduct, T}"/>.</param>
        /// <param name="timeMajor">Whether <paramref name="input"/> (and so <paramref name="inputGradient"/>) is time-major.</param>
        /// <param name="batch">Sequences in the batch.</param>
        /// <param name="steps">Steps per sequence.</param>
        /// <param name="inputSize">Features per step of the input.</param>
        /// <param name="hidden">The hidden size H.</param>
        /// <param name="weightIh">W_ih [4H, inputSize].</param>
        /// <param name="weightHh">W_hh [4H, H].</param>
        /// <param name="gates">i, f, g, o from the forward pass.</param>
        /// <param name="cells">The cell states from the forward pass.</param>
        /// <param name="states">The hidden states from the forward pass.</param>
        /// <param name="outputGradient">∂L/∂h of every step's output, at <c>b·<paramref name="gradientBatchStride"/> + t·<paramref name="gradientTimeStride"/></c>.</param>
        /// <param name="gradientBatchStride">Distance between sequences in <paramref name="outputGradient"/>.</param>
        /// <param name="gradientTimeStride">Distance between steps in <paramref name="outputGradient"/>.</param>
        /// <param name="finalGradient">∂L/∂hₙ at <c>b·<paramref name="finalBatchStride"/></c>.</param>
        /// <param name="finalCellGradient">∂L/∂cₙ at <c>b·<paramref name="finalBatchStride"/></c>.</param>
        /// <param name="finalBatchStride">Distance between sequences in the two final gradients.</param>
        /// <param name="weightIhGradient">Added to: ∂L/∂W_ih.</param>
        /// <param name="weightHhGradient">Added to: ∂L/∂W_hh.</param>
        /// <param name="biasIhGradient">Added to: ∂L/∂b_ih (empty without biases).</param>
        /// <param name="biasHhGradient">Added to: ∂L/∂b_hh (empty without biases).</param>
        /// <param name="gateInputGradient">Workspace [batch·steps, 4H] in the input's row order.</param>
        /// <param name="stepGradient">Workspace [batch, 4H].</param>
        /// <param name="stateGradient">Workspace [batch, H]: ∂L/∂h carried back.</param>
        /// <param name="cellGradient">Workspace [batch, H]: ∂L/∂c carried back.</param>
        /// <param name="inputGradient">Receives ∂L/∂input (overwritten), or empty when nothing needs it.</param>
        public static void LstmBackward<TStateGradient, THiddenWeightGradient, TInputWeightGradient, TInputGradient, T>(
            ReadOnlySpan<T> input, bool timeMajor, int batch, int steps, int inputSize, int hidden,
            ReadOnlySpan<T> weightIh, ReadOnlySpan<T> weightHh, ReadOnlySpan<T> gates, ReadOnlySpan<T> cells, ReadOnlySpan<T> states,
            ReadOnlySpan<T> outputGradient, int gradientBatchStride, int gradientTimeStride,
            ReadOnlySpan<T> finalGradient, ReadOnlySpan<T> finalCellGradient, int finalBatchStride,
            Span<T> weightIhGradient, Span<T> weightHhGradient, Span<T> biasIhGradient, Span<T> biasHhGradient,
            Span<T> gateInputGradient, Span<T> stepGradient, Span<T> stateGradient, Span<T> cellGradient, Span<T> inputGradient)
            where TStateGradient : struct, IGemmShape
            where THiddenWeightGradient : struct, IGemmShape
            where TInputWeightGradient : struct, IGemmShape
            where TInputGradient : struct, IGemmShape
            where T : unmanaged, IBinaryFloatingPointIeee754<T>
        {
            int width = 4 * hidden, rows = batch * steps;
            Debug.Assert(gateInputGradient.Length >= rows * width && stepGradient.Length >= batch * width, "A workspace is shorter than the batch.");
            for (int b = 0; b < batch; b++)
            {
                finalGradient.Slice(b * finalBatchStride, hidden).CopyTo(stateGradient.Slice(b * hidden, hidden));
                finalCellGradient.Slice(b * finalBatchStride, hidden).CopyTo(cellGradient.Slice(b * hidden, hidden));
            }

            for (int t = steps - 1; t >= 0; t--)
            {
                ReadOnlySpan<T> previous = states.Slice(t * batch * hidden, batch * hidden);
                ReadOnlySpan<T> previousCells = cells.Slice(t * batch * hidden, batch * hidden);
                ReadOnlySpan<T> currentCells = cells.Slice((t + 1) * batch * hidden, batch * hidden);
                ReadOnlySpan<T> step = gates.Slice(t * batch * width, batch * width);
                for (int b = 0; b < batch; b++)
                {
                    ReadOnlySpan<T> g = step.Slice(b * width, width);
                    ReadOnlySpan<T> dOut = outputGradient.Slice((b * gradientBatchStride) + (t * gradientTimeStride), hidden);
                    Span<T> dh = stateGradient.Slice(b * hidden, hidden);
                    Span<T> dc = cellGradient.Slice(b * hidden, hidden);
                    Span<T> ds = stepGradient.Slice(b * width, width);
                    LstmCellBackward(g, previousCells.Slice(b * hidden, hidden), currentCells.Slice(b * hidden, hidden), dOut, dh, dc, ds, hidden);

                    ds.CopyTo(gateInputGradient.Slice(Row(b, t, batch, steps, timeMajor) * width, width));
                }

                // The h and x sides share the gates' pre-activations: dh_prev = dS·W_hh, dW_hh += dSᵀ·h_prev, db_hh += Σ dS.
                Gemm.Multiply<TStateGradient, T>(ref At(stepGradient), ref At(weightHh), ref At(stateGradient), rows: batch);   // overwrites
                Gemm.Multiply<THiddenWeightGradient, T>(ref At(stepGradient), ref At(previous), ref At(weightHhGradient), depth: batch);
                SumRows(stepGradient, batch, biasHhGradient);
            }

            // dW_ih += dGᵀ·x, db_ih += Σ dG, dx = dG·W_ih: the gate gradients and the input share their row order.
            Gemm.Multiply<TInputWeightGradient, T>(ref At(gateInputGradient), ref At(input), ref At(weightIhGradient), depth: rows);
            SumRows(gateInputGradient, rows, biasIhGradient);
            if (!inputGradient.IsEmpty)
            {
                Gemm.Multiply<TInputGradient, T>(ref At(gateInputGradient), ref At(weightIh), ref At(inputGradient), rows: rows);
            }
        }

        /// <summary>
        /// Copies the time-major states of the top layer (<c>[steps + 1, batch, H]</c>, slot 0 the initial state) into a
        /// batch-major value whose examples are <paramref name="exampleStride"/> apart: rows 0 to steps − 1 of each example.
        /// </summary>
        public static void CopySequence<T>(ReadOnlySpan<T> states, int batch, int steps, int hidden, Span<T> output, int exampleStride)
        {
            for (int t = 0; t < steps; t++)
            {
                for (int b = 0; b < batch; b++)
                {
                    states.Slice((((t + 1) * batch) + b) * hidden, hidden).CopyTo(output.Slice((b * exampleStride) + (t * hidden), hidden));
                }
            }
        }

        /// <summary>Copies the final states (slot <paramref name="steps"/> of time-major states) to <paramref name="output"/> at <c>b·exampleStride</c>.</summary>
        public static void CopyFinal<T>(ReadOnlySpan<T> states, int batch, int steps, int hidden, Span<T> output, int exampleStride)
        {
            for (int b = 0; b < batch; b++)
            {
                states.Slice(((steps * batch) + b) * hidden, hidden).CopyTo(output.Slice(b * exampleStride, hidden));
            }
        }

        /// <summary>One GRU cell for one sequence: gate pre-activations x (input side) and g (hidden side, overwritten with r, z, n).</summary>
        private static void GruCell<T>(ReadOnlySpan<T> x, Span<T> g, Span<T> part, ReadOnlySpan<T> h, Span<T> next, int hidden)
            where T : unmanaged, IBinaryFloatingPointIeee754<T>
        {
            ref T xs = ref At(x), gs = ref At(g), ps = ref At(part), hs = ref At(h), ns = ref At(next);
            nuint z0 = (nuint)hidden, n0 = (nuint)(2 * hidden);
            int j = 0;
            if (Vector.IsHardwareAccelerated && typeof(T) == typeof(float))
            {
                for (; j <= hidden - Vector<T>.Count; j += Vector<T>.Count)
                {
                    nuint u = (nuint)j;
                    Vector<T> r = Sigmoid(Vector.LoadUnsafe(ref xs, u) + Vector.LoadUnsafe(ref gs, u));
                    Vector<T> z = Sigmoid(Vector.LoadUnsafe(ref xs, z0 + u) + Vector.LoadUnsafe(ref gs, z0 + u));
                    Vector<T> hn = Vector.LoadUnsafe(ref gs, n0 + u);
                    Vector<T> n = Tanh(Vector.LoadUnsafe(ref xs, n0 + u) + (r * hn));
                    hn.StoreUnsafe(ref ps, u);
                    r.StoreUnsafe(ref gs, u);
                    z.StoreUnsafe(ref gs, z0 + u);
                    n.StoreUnsafe(ref gs, n0 + u);
                    (((Vector<T>.One - z) * n) + (z * Vector.LoadUnsafe(ref hs, u))).StoreUnsafe(ref ns, u);
                }
            }

            for (; j < hidden; j++)
            {
                T r = Logistic(x[j] + g[j]);
                T z = Logistic(x[hidden + j] + g[hidden + j]);
                T hn = g[(2 * hidden) + j];
                T n = T.Tanh(x[(2 * hidden) + j] + (r * hn));
                part[j] = hn;
                g[j] = r;
                g[hidden + j] = z;
                g[(2 * hidden) + j] = n;
                next[j] = ((T.One - z) * n) + (z * h[j]);
            }
        }

        /// <summary>
        /// One GRU cell backward for one sequence: from ∂L/∂h' (the carried dh plus the output's dOut) to the gate gradients of
        /// the input side (dx: r, z, n) and the hidden side (ds: r, z, and n's ⊙ r), and dh ⊙ z into dh.
        /// </summary>
        private static void GruCellBackward<T>(ReadOnlySpan<T> g, ReadOnlySpan<T> part, ReadOnlySpan<T> h, ReadOnlySpan<T> dOut, Span<T> dh, Span<T> dx, Span<T> ds, int hidden)
            where T : unmanaged, IBinaryFloatingPointIeee754<T>
        {
            ref T gs = ref At(g), ps = ref At(part), hs = ref At(h), os = ref At(dOut), dhs = ref At(dh), dxs = ref At(dx), dss = ref At(ds);
            nuint z0 = (nuint)hidden, n0 = (nuint)(2 * hidden);
            int j = 0;
            if (Vector.IsHardwareAccelerated && typeof(T) == typeof(float))
            {
                for (; j <= hidden - Vector<T>.Count; j += Vector<T>.Count)
                {
                    nuint u = (nuint)j;
                    Vector<T> r = Vector.LoadUnsafe(ref gs, u), z = Vector.LoadUnsafe(ref gs, z0 + u), n = Vector.LoadUnsafe(ref gs, n0 + u);
                    Vector<T> d = Vector.LoadUnsafe(ref dhs, u) + Vector.LoadUnsafe(ref os, u);
                    Vector<T> an = d * (Vector<T>.One - z) * (Vector<T>.One - (n * n));
                    Vector<T> ar = an * Vector.LoadUnsafe(ref ps, u) * r * (Vector<T>.One - r);
                    Vector<T> az = d * (Vector.LoadUnsafe(ref hs, u) - n) * z * (Vector<T>.One - z);
                    ar.StoreUnsafe(ref dxs, u);
                    az.StoreUnsafe(ref dxs, z0 + u);
                    an.StoreUnsafe(ref dxs, n0 + u);
                    ar.StoreUnsafe(ref dss, u);
                    az.StoreUnsafe(ref dss, z0 + u);
                    (an * r).StoreUnsafe(ref dss, n0 + u);
                    (d * z).StoreUnsafe(ref dhs, u);
                }
            }

            for (; j < hidden; j++)
            {
                T r = g[j], z = g[hidden + j], n = g[(2 * hidden) + j];
                T d = dh[j] + dOut[j];
                T an = d * (T.One - z) * (T.One - (n * n));
                T ar = an * part[j] * r * (T.One - r);
                T az = d * (h[j] - n) * z * (T.One - z);
                dx[j] = ar;
                dx[hidden + j] = az;
                dx[(2 * hidden) + j] = an;
                ds[j] = ar;
                ds[hidden + j] = az;
                ds[(2 * hidden) + j] = an * r;
                dh[j] = d * z;
            }
        }

        /// <summary>One LSTM cell for one sequence: g (hidden side) is overwritten with i, f, g, o; the new cell and hidden states are written.</summary>
        private static void LstmCell<T>(ReadOnlySpan<T> x, Span<T> g, ReadOnlySpan<T> c, Span<T> nextCell, Span<T> next, int hidden)
            where T : unmanaged, IBinaryFloatingPointIeee754<T>
        {
            ref T xs = ref At(x), gs = ref At(g), cs = ref At(c), ncs = ref At(nextCell), ns = ref At(next);
            nuint f0 = (nuint)hidden, g0 = (nuint)(2 * hidden), o0 = (nuint)(3 * hidden);
            int j = 0;
            if (Vector.IsHardwareAccelerated && typeof(T) == typeof(float))
            {
                for (; j <= hidden - Vector<T>.Count; j += Vector<T>.Count)
                {
                    nuint u = (nuint)j;
                    Vector<T> i = Sigmoid(Vector.LoadUnsafe(ref xs, u) + Vector.LoadUnsafe(ref gs, u));
                    Vector<T> f = Sigmoid(Vector.LoadUnsafe(ref xs, f0 + u) + Vector.LoadUnsafe(ref gs, f0 + u));
                    Vector<T> cg = Tanh(Vector.LoadUnsafe(ref xs, g0 + u) + Vector.LoadUnsafe(ref gs, g0 + u));
                    Vector<T> o = Sigmoid(Vector.LoadUnsafe(ref xs, o0 + u) + Vector.LoadUnsafe(ref gs, o0 + u));
                    i.StoreUnsafe(ref gs, u);
                    f.StoreUnsafe(ref gs, f0 + u);
                    cg.StoreUnsafe(ref gs, g0 + u);
                    o.StoreUnsafe(ref gs, o0 + u);
                    Vector<T> cell = (f * Vector.LoadUnsafe(ref cs, u)) + (i * cg);
                    cell.StoreUnsafe(ref ncs, u);
                    (o * Tanh(cell)).StoreUnsafe(ref ns, u);
                }
            }

            for (; j < hidden; j++)
            {
                T i = Logistic(x[j] + g[j]);
                T f = Logistic(x[hidden + j] + g[hidden + j]);
                T cg = T.Tanh(x[(2 * hidden) + j] + g[(2 * hidden) + j]);
                T o = Logistic(x[(3 * hidden) + j] + g[(3 * hidden) + j]);
                g[j] = i;
                g[hidden + j] = f;
                g[(2 * hidden) + j] = cg;
                g[(3 * hidden) + j] = o;
                T cell = (f * c[j]) + (i * cg);
                nextCell[j] = cell;
                next[j] = o * T.Tanh(cell);
            }
        }

        /// <summary>One LSTM cell backward for one sequence: the gate gradients into ds, dc carried back (⊙ f) in place.</summary>
        private static void LstmCellBackward<T>(ReadOnlySpan<T> g, ReadOnlySpan<T> c, ReadOnlySpan<T> cell, ReadOnlySpan<T> dOut, ReadOnlySpan<T> dh, Span<T> dc, Span<T> ds, int hidden)
            where T : unmanaged, IBinaryFloatingPointIeee754<T>
        {
            ref T gs = ref At(g), cs = ref At(c), cells = ref At(cell), os = ref At(dOut), dhs = ref At(dh), dcs = ref At(dc), dss = ref At(ds);
            nuint f0 = (nuint)hidden, g0 = (nuint)(2 * hidden), o0 = (nuint)(3 * hidden);
            int j = 0;
            if (Vector.IsHardwareAccelerated && typeof(T) == typeof(float))
            {
                for (; j <= hidden - Vector<T>.Count; j += Vector<T>.Count)
                {
                    nuint u = (nuint)j;
                    Vector<T> i = Vector.LoadUnsafe(ref gs, u), f = Vector.LoadUnsafe(ref gs, f0 + u), cg = Vector.LoadUnsafe(ref gs, g0 + u), o = Vector.LoadUnsafe(ref gs, o0 + u);
                    Vector<T> d = Vector.LoadUnsafe(ref dhs, u) + Vector.LoadUnsafe(ref os, u);
                    Vector<T> tanhCell = Tanh(Vector.LoadUnsafe(ref cells, u));
                    Vector<T> dCell = Vector.LoadUnsafe(ref dcs, u) + (d * o * (Vector<T>.One - (tanhCell * tanhCell)));
                    (dCell * cg * i * (Vector<T>.One - i)).StoreUnsafe(ref dss, u);
                    (dCell * Vector.LoadUnsafe(ref cs, u) * f * (Vector<T>.One - f)).StoreUnsafe(ref dss, f0 + u);
                    (dCell * i * (Vector<T>.One - (cg * cg))).StoreUnsafe(ref dss, g0 + u);
                    (d * tanhCell * o * (Vector<T>.One - o)).StoreUnsafe(ref dss, o0 + u);
                    (dCell * f).StoreUnsafe(ref dcs, u);
                }
            }

            for (; j < hidden; j++)
            {
                T i = g[j], f = g[hidden + j], cg = g[(2 * hidden) + j], o = g[(3 * hidden) + j];
                T d = dh[j] + dOut[j];
                T tanhCell = T.Tanh(cell[j]);
                T dCell = dc[j] + (d * o * (T.One - (tanhCell * tanhCell)));
                ds[j] = dCell * cg * i * (T.One - i);
                ds[hidden + j] = dCell * c[j] * f * (T.One - f);
                ds[(2 * hidden) + j] = dCell * i * (T.One - (cg * cg));
                ds[(3 * hidden) + j] = d * tanhCell * o * (T.One - o);
                dc[j] = dCell * f;
            }
        }

        /// <summary>σ(x) = 1/(1 + e⁻ˣ) lane by lane: 0 or 1 at the extremes (e⁻ˣ = ∞ gives 0).</summary>
        private static Vector<T> Sigmoid<T>(Vector<T> x)
            where T : unmanaged, IBinaryFloatingPointIeee754<T> =>
            Vector<T>.One / (Vector<T>.One + Exp(-x));

        /// <summary>tanh(x) = 1 − 2/(e²ˣ + 1) lane by lane: ±1 at the extremes (e²ˣ = ∞ gives 1).</summary>
        private static Vector<T> Tanh<T>(Vector<T> x)
            where T : unmanaged, IBinaryFloatingPointIeee754<T> =>
            Vector<T>.One - ((Vector<T>.One + Vector<T>.One) / (Exp(x + x) + Vector<T>.One));

        /// <summary>eˣ for float lanes (the vector paths run for float only), by <see cref="VectorMath"/> at the width of <see cref="Vector{T}"/>.</summary>
        private static Vector<T> Exp<T>(Vector<T> x)
            where T : unmanaged, IBinaryFloatingPointIeee754<T>
        {
            Vector<float> v = Vector.As<T, float>(x);
            Vector<float> y = Vector<float>.Count switch
            {
                16 => VectorMath.Exp(v.AsVector512()).AsVector(),
                8 => VectorMath.Exp(v.AsVector256()).AsVector(),
                _ => VectorMath.Exp(v.AsVector128()).AsVector(),
            };
            return Vector.As<float, T>(y);
        }

        /// <summary>The row of gate inputs for sequence b at step t, in the input's order.</summary>
        private static int Row(int b, int t, int batch, int steps, bool timeMajor) => timeMajor ? (t * batch) + b : (b * steps) + t;

        private static T Logistic<T>(T x)
            where T : unmanaged, IBinaryFloatingPointIeee754<T> =>
            x >= T.Zero ? T.One / (T.One + T.Exp(-x)) : T.Exp(x) / (T.One + T.Exp(x));

        private static void SumRows<T>(ReadOnlySpan<T> matrix, int rows, Span<T> sums)
            where T : unmanaged, IBinaryFloatingPointIeee754<T>
        {
            if (sums.IsEmpty)
            {
                return;
            }

            for (int r = 0; r < rows; r++)
            {
                ReadOnlySpan<T> row = matrix.Slice(r * sums.Length, sums.Length);
                for (int j = 0; j < row.Length; j++)
                {
                    sums[j] += row[j];
                }
            }
        }

        /// <summary>C = A·Bᵀ + bias (B stored [N×K], the weight), or without a bias when it is empty.</summary>
        private static void Affine<TShape, T>(ReadOnlySpan<T> a, ReadOnlySpan<T> weight, ReadOnlySpan<T> bias, Span<T> c, int rows)
            where TShape : struct, IGemmShape
            where T : unmanaged, IBinaryFloatingPointIeee754<T>
        {
            if (bias.IsEmpty)
            {
                Gemm.Multiply<TShape, T>(ref At(a), ref At(weight), ref At(c), rows: rows);
            }
            else
            {
                Gemm.MultiplyAddBias<TShape, T>(ref At(a), ref At(weight), ref At(bias), ref At(c), rows: rows);
            }
        }

        private static ref T At<T>(ReadOnlySpan<T> span) => ref MemoryMarshal.GetReference(span);

        private static ref T At<T>(Span<T> span) => ref MemoryMarshal.GetReference(span);
    }
}
