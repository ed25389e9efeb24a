using System.Collections.Generic;
using StaticGrad.Generators.Emit.Kernels;
using StaticGrad.Generators.Model;

namespace StaticGrad.Generators.Emit.Network
{
    /// <summary>
    /// Forward and backward of a Linear layer on a batch. Row-major everywhere; W is out×in like PyTorch's nn.Linear.
    /// Forward: <c>Y = X·Wᵀ + b</c>. Backward: <c>dW += dYᵀ·X</c>, <c>db += Σ_b dY[b,:]</c>, <c>dX = dY·W</c>.
    /// </summary>
    internal static class LinearLayerEmitter
    {
        public static void WriteForward(SourceWriter w, NetworkCode code, LayerSpec layer)
        {
            if (code.Spec.Simd)
            {
                WriteForwardWithKernel(w, code, layer);
                return;
            }

            string t = code.T;
            int i = layer.Index, inputs = layer.Inputs, outputs = layer.Outputs;
            w.Line($"/// <summary>Layer {i}, {layer.Describe()}: <c>Y = X·Wᵀ{(layer.HasBias ? " + b" : string.Empty)}</c> on a batch, X [batch×{inputs}] → Y [batch×{outputs}].</summary>");
            w.Open($"private void Layer{i}Forward(int batch)");
            w.Line($"// y[b,o] = Σᵢ x[b,i]·W[o,i]{(layer.HasBias ? " + bias[o]" : string.Empty)}: the dot product of row b of X and row o of W, both contiguous.");
            w.Line($"{t}[] x = _activations[{i}], y = _activations[{i + 1}], parameters = _parameters;");
            w.Open("for (int b = 0; b < batch; b++)");
            w.Line($"{code.ReadOnlySpan} xRow = new {code.ReadOnlySpan}(x, b * {inputs}, {inputs});");
            w.Open($"for (int o = 0; o < {outputs}; o++)");
            w.Line($"{code.ReadOnlySpan} wRow = new {code.ReadOnlySpan}(parameters, {layer.WeightOffset} + (o * {inputs}), {inputs});");
            w.Line($"{t} sum = {(layer.HasBias ? $"parameters[{layer.BiasOffset} + o]" : "0")};");
            w.Open($"for (int k = 0; k < {inputs}; k++)");
            w.Line("sum += xRow[k] * wRow[k];");
            w.Close();
            w.Line();
            w.Line($"y[(b * {outputs}) + o] = sum;");
            w.Close();
            w.Close();
            w.Close();
            w.Line();
        }

        public static void WriteBackward(SourceWriter w, NetworkCode code, LayerSpec layer)
        {
            if (code.Spec.Simd)
            {
                WriteBackwardWithKernels(w, code, layer);
                return;
            }

            string t = code.T;
            int i = layer.Index, inputs = layer.Inputs, outputs = layer.Outputs;
            w.Line($"/// <summary>Layer {i}, {layer.Describe()}, backward: accumulates <c>dW += dYᵀ·X</c>{(layer.HasBias ? ", <c>db += Σ_b dY[b,:]</c>" : string.Empty)}; writes <c>dX = dY·W</c> when asked.</summary>");
            w.Open($"private void Layer{i}Backward(int batch, {t}[] dY, {t}[] dX, bool computeInputGradient)");
            w.Line($"{t}[] x = _activations[{i}], parameters = _parameters, gradients = _gradients;");
            w.Line($"// dW[o,k] += Σ_b dY[b,o]·X[b,k] (dW = dYᵀ·X){(layer.HasBias ? "; db[o] += Σ_b dY[b,o]" : string.Empty)}: row o of dW += dY[b,o] · row b of X.");
            w.Open("for (int b = 0; b < batch; b++)");
            w.Line($"{code.ReadOnlySpan} xRow = new {code.ReadOnlySpan}(x, b * {inputs}, {inputs});");
            w.Open($"for (int o = 0; o < {outputs}; o++)");
            w.Line($"{t} g = dY[(b * {outputs}) + o];");
            w.Line($"{code.Span} dWRow = new {code.Span}(gradients, {layer.WeightOffset} + (o * {inputs}), {inputs});");
            w.Open($"for (int k = 0; k < {inputs}; k++)");
            w.Line("dWRow[k] += g * xRow[k];");
            w.Close();
            if (layer.HasBias)
            {
                w.Line();
                w.Line($"gradients[{layer.BiasOffset} + o] += g;");
            }

            w.Close();
            w.Close();
            w.Line();
            w.Open("if (!computeInputGradient)");
            w.Line("return;");
            w.Close();
            w.Line();
            w.Line("// dX[b,k] = Σ_o dY[b,o]·W[o,k] (dX = dY·W): row b of dX += dY[b,o] · row o of W.");
            w.Open("for (int b = 0; b < batch; b++)");
            w.Line($"{code.Span} dXRow = new {code.Span}(dX, b * {inputs}, {inputs});");
            w.Line("dXRow.Clear();");
            w.Open($"for (int o = 0; o < {outputs}; o++)");
            w.Line($"{t} g = dY[(b * {outputs}) + o];");
            w.Line($"{code.ReadOnlySpan} wRow = new {code.ReadOnlySpan}(parameters, {layer.WeightOffset} + (o * {inputs}), {inputs});");
            w.Open($"for (int k = 0; k < {inputs}; k++)");
            w.Line("dXRow[k] += g * wRow[k];");
            w.Close();
            w.Close();
            w.Close();
            w.Close();
            w.Line();
        }
    
        private static void WriteForwardWithKernel(SourceWriter w, NetworkCode code, LayerSpec layer)
        {
            int i = layer.Index;
            w.Line($"/// <summary>Layer {i}, {layer.Describe()}: <c>Y = X·Wᵀ{(layer.HasBias ? " + b" : string.Empty)}</c> on a batch, X [batch×{layer.Inputs}] → Y [batch×{layer.Outputs}].</summary>");
            w.Open($"private void Layer{i}Forward(int batch)");
            w.Line($"// y[b,o] = Σₖ x[b,k]·W[o,k]{(layer.HasBias ? " + bias[o]" : string.Empty)}: dot products of rows of X and rows of W, both contiguous ({ForwardKernelName(layer)}).");
            string bias = layer.HasBias ? $", ref _parameters[{layer.BiasOffset}]" : string.Empty;
            w.Line($"{ForwardKernelName(layer)}(ref _activations[{i}][0], ref _parameters[{layer.WeightOffset}], ref _activations[{i + 1}][0]{bias}, batch);");
            w.Close();
            w.Line();
        }

        private static void WriteBackwardWithKernels(SourceWriter w, NetworkCode code, LayerSpec layer)
        {
            string t = code.T;
            int i = layer.Index, inputs = layer.Inputs, outputs = layer.Outputs;
            w.Line($"/// <summary>Layer {i}, {layer.Describe()}, backward: accumulates <c>dW += dYᵀ·X</c>{(layer.HasBias ? ", <c>db += Σ_b dY[b,:]</c>" : string.Empty)}; writes <c>dX = dY·W</c> when asked.</summary>");
            w.Open($"private void Layer{i}Backward(int batch, {t}[] dY, {t}[] dX, bool computeInputGradient)");
            w.Line($"// dW[o,k] += Σ_b dY[b,o]·X[b,k] (dW = dYᵀ·X): {WeightGradientKernelName(layer)} reads dY by columns, so no transpose is formed.");
            w.Line($"{WeightGradientKernelName(layer)}(ref dY[0], ref _activations[{i}][0], ref _gradients[{layer.WeightOffset}], batch);");
            if (layer.HasBias)
            {
                w.Line("// db[o] += Σ_b dY[b,o]");
                w.Line($"{code.Span} db = new {code.Span}(_gradients, {layer.BiasOffset}, {outputs});");
                w.Open("for (int b = 0; b < batch; b++)");
                w.Line($"{code.ReadOnlySpan} dYRow = new {code.ReadOnlySpan}(dY, b * {outputs}, {outputs});");
                w.Open($"for (int o = 0; o < {outputs}; o++)");
                w.Line("db[o] += dYRow[o];");
                w.Close();
                w.Close();
            }

            w.Line();
            w.Open("if (computeInputGradient)");
            w.Line($"// dX[b,k] = Σ_o dY[b,o]·W[o,k] (dX = dY·W): {InputGradientKernelName(layer)} broadcasts dY[b,o] across row o of W.");
            w.Line($"{InputGradientKernelName(layer)}(ref dY[0], ref _parameters[{layer.WeightOffset}], ref dX[0], batch);");
            w.Close();
            w.Close();
            w.Line();
        }

        /// <summary>
        /// The three kernels a Linear layer uses (SIMD builds only), each written once per shape: layers of the same shape
        /// share them, and <paramref name="written"/> remembers which are already in the file.
        /// </summary>
        public static void WriteKernels(SourceWriter w, NetworkCode code, LayerSpec layer, HashSet<string> written)
        {
            if (!code.Spec.Simd)
            {
                return;
            }

            int inputs = layer.Inputs, outputs = layer.Outputs;
            string o = outputs.ToString(System.Globalization.CultureInfo.InvariantCulture);
            string shape = $"W[{outputs}×{inputs}]";
            if (written.Add(ForwardKernelName(layer)))
            {
                w.Line();
                KernelEmitter.Write(w, code.Spec.Element, new KernelEmitter.DotKernel(
                    ForwardKernelName(layer), $"Linear {inputs} → {outputs}: Y[batch×{outputs}] = X[batch×{inputs}]·Wᵀ{(layer.HasBias ? " + b" : string.Empty)}, {shape}",
                    Rows: "batch", P: inputs, Q: outputs, Accumulate: false, Bias: layer.HasBias));
            }

            if (written.Add(WeightGradientKernelName(layer)))
            {
                w.Line();
                KernelEmitter.Write(w, code.Spec.Element, new KernelEmitter.BroadcastKernel(
                    WeightGradientKernelName(layer), $"Linear {inputs} → {outputs}: dW[{outputs}×{inputs}] += dYᵀ·X, dY[batch×{outputs}] read by columns",
                    Rows: o, P: "batch", N: inputs, RowStride: 1, PStride: outputs, Accumulate: true));
            }

            if (written.Add(InputGradientKernelName(layer)))
            {
                w.Line();
                KernelEmitter.Write(w, code.Spec.Element, new KernelEmitter.BroadcastKernel(
                    InputGradientKernelName(layer), $"Linear {inputs} → {outputs}: dX[batch×{inputs}] = dY[batch×{outputs}]·{shape}",
                    Rows: "batch", P: o, N: inputs, RowStride: outputs, PStride: 1, Accumulate: false));
            }
        }

        /// <summary>Kernel names carry the shape (and the bias for the forward one), so equal layers share a kernel.</summary>
        public static string ForwardKernelName(LayerSpec layer) =>
            $"Linear{layer.Inputs}To{layer.Outputs}{(layer.HasBias ? "WithBias" : string.Empty)}ForwardKernel";

        public static string WeightGradientKernelName(LayerSpec layer) => $"Linear{layer.Inputs}To{layer.Outputs}WeightGradientKernel";

        public static string InputGradientKernelName(LayerSpec layer) => $"Linear{layer.Inputs}To{layer.Outputs}InputGradientKernel";
    }
}
