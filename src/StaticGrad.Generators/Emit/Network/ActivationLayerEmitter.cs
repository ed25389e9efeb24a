using StaticGrad.Generators.Model;

namespace StaticGrad.Generators.Emit.Network
{
    /// <summary>Forward and backward of the element-wise activations: ReLU, Sigmoid, Tanh.</summary>
    internal static class ActivationLayerEmitter
    {
        public static void WriteForward(SourceWriter w, NetworkCode code, LayerSpec layer)
        {
            string t = code.T;
            int i = layer.Index;
            string zero = code.Literal(0), one = code.Literal(1);
            w.Line($"/// <summary>Layer {i}, {layer.Describe()}, element-wise on [batch×{layer.Outputs}].</summary>");
            w.Open($"private void Layer{i}Forward(int batch)");
            if (layer.Kind == LayerKind.ReLU && code.Spec.RuntimeKernels)
            {
                w.Line($"// y = max(0, x), vectorised by StaticGrad.Runtime; a NaN stays NaN, as in PyTorch.");
                w.Line($"global::StaticGrad.Kernels.Elementwise.Relu(new {code.ReadOnlySpan}(_activations[{i}], 0, batch * {layer.Outputs}), _activations[{i + 1}]);");
                w.Close();
                w.Line();
                return;
            }

            w.Line($"{t}[] x = _activations[{i}], y = _activations[{i + 1}];");
            w.Open($"for (int e = 0; e < batch * {layer.Outputs}; e++)");
            switch (layer.Kind)
            {
                case LayerKind.ReLU:
                    w.Line($"y[e] = x[e] < {zero} ? {zero} : x[e]; // max(0, x); a NaN stays NaN, as in PyTorch");
                    break;
                case LayerKind.Sigmoid:
                    w.Line("// 1 / (1 + e^(−x)), written so that e^(…) never overflows: for x < 0 use e^x / (1 + e^x).");
                    w.Line($"{t} v = x[e];");
                    w.Open($"if (v >= {zero})");
                    w.Line($"y[e] = {one} / ({one} + {code.Math("Exp", "-v")});");
                    w.Close();
                    w.Open("else");
                    w.Line($"{t} ev = {code.Math("Exp", "v")};");
                    w.Line($"y[e] = ev / ({one} + ev);");
                    w.Close();
                    break;
                default:
                    w.Line($"y[e] = {code.Math("Tanh", "x[e]")};");
                    break;
            }

            w.Close();
            w.Close();
            w.Line();
        }

        public static void WriteBackward(SourceWriter w, NetworkCode code, LayerSpec layer)
        {
            string t = code.T;
            int i = layer.Index;
            string zero = code.Literal(0), one = code.Literal(1);
            string formula = layer.Kind switch
            {
                LayerKind.ReLU => "dX = dY · [y > 0] (y > 0 exactly where x > 0)",
                LayerKind.Sigmoid => "dX = dY · y · (1 − y)",
                _ => "dX = dY · (1 − y²)",
            };
            w.Line($"/// <summary>Layer {i}, {layer.Describe()}, backward: <c>{formula}</c>, from the stored output y.</summary>");
            w.Open($"private void Layer{i}Backward(int batch, {t}[] dY, {t}[] dX)");
            if (layer.Kind == LayerKind.ReLU && code.Spec.RuntimeKernels)
            {
                w.Line($"global::StaticGrad.Kernels.Elementwise.ReluBackward(new {code.ReadOnlySpan}(_activations[{i + 1}], 0, batch * {layer.Outputs}), dY, dX);");
                w.Close();
                w.Line();
                return;
            }

            w.Line($"{t}[] y = _activations[{i + 1}];");
            w.Open($"for (int e = 0; e < batch * {layer.Outputs}; e++)");
            switch (layer.Kind)
            {
                case LayerKind.ReLU:
                    w.Line($"dX[e] = y[e] > {zero} ? dY[e] : {zero};");
                    break;
                case LayerKind.Sigmoid:
                    w.Line($"dX[e] = dY[e] * y[e] * ({one} - y[e]);");
                    break;
                default:
                    w.Line($"dX[e] = dY[e] * ({one} - (y[e] * y[e]));");
                    break;
            }

            w.Close();
            w.Close();
            w.Line();
        }
    }
}
