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
    }
}
