using StaticGrad.Generators.Model;

namespace StaticGrad.Generators.Emit.Network
{
    /// <summary>
    /// SGD (with optional momentum), Adam, and L2 weight decay on weights (not biases), as PyTorch's
    /// <c>torch.optim.SGD</c> and <c>torch.optim.Adam</c> with <c>weight_decay</c> compute them.
    /// </summary>
    internal static class OptimizerEmitter
    {
        public static void Write(SourceWriter w, NetworkCode code)
        {
            if (code.Spec.RuntimeKernels)
            {
                WriteRuntimeOptimizer(w, code);
                return;
            }

            string t = code.T;
            NetworkSpec spec = code.Spec;

            w.Line("/// <summary>The optimizer's settings and state (velocity for momentum, moments for Adam), allocated once when chosen.</summary>");
            w.Open("private sealed class OptimizerState");
            w.Line("public bool IsAdam;");
            w.Line($"public {t} LearningRate;");
            w.Line($"public {t} Momentum;");
            w.Line($"public {t} Beta1;");
            w.Line($"public {t} Beta2;");
            w.Line($"public {t} Epsilon;");
            w.Line($"public {t} WeightDecay;");
            w.Line($"public {t}[]{code.Q} Velocity;");
            w.Line($"public {t}[]{code.Q} FirstMoment;");
            w.Line($"public {t}[]{code.Q} SecondMoment;");
            w.Line("public long Steps;");
            w.Close();
            w.Line();

            w.Line("/// <summary>");
            w.Line("/// Chooses stochastic gradient descent for <see cref=\"Step\"/>: <c>v = μ·v + g</c>, <c>θ −= η·v</c> (plain <c>θ −= η·g</c> when μ = 0),");
            w.Line("/// with <c>g = ∂L/∂θ + λ·θ</c> for weights (L2 weight decay, the same as adding <c>(λ/2)·‖W‖²</c> to the loss) and <c>g = ∂L/∂θ</c> for biases.");
            w.Line("/// </summary>");
            w.Line("/// <param name=\"learningRate\">η, positive.</param>");
            w.Line("/// <param name=\"momentum\">μ in [0, 1); 0 for plain SGD.</param>");
            w.Line("/// <param name=\"weightDecay\">λ ≥ 0, applied to weights only.</param>");
            w.Open($"public void UseSgd({t} learningRate, {t} momentum = {code.Literal(0)}, {t} weightDecay = {code.Literal(0)})");
            WriteCheck(w, "learningRate", $"!(learningRate > {code.Literal(0)})", "must be positive");
            WriteCheck(w, "momentum", $"!(momentum >= {code.Literal(0)} && momentum < {code.Literal(1)})", "must be at least 0 and less than 1");
            WriteCheck(w, "weightDecay", $"!(weightDecay >= {code.Literal(0)})", "must be 0 or positive");
            w.Line("_optimizer = new OptimizerState");
            w.Line("{");
            w.Line("    LearningRate = learningRate,");
            w.Line("    Momentum = momentum,");
            w.Line("    WeightDecay = weightDecay,");
            w.Line($"    Velocity = momentum > {code.Literal(0)} ? new {t}[ParameterCount] : null,");
            w.Line("};");
            w.Close();
            w.Line();

            w.Line("/// <summary>");
            w.Line("/// Chooses Adam for <see cref=\"Step\"/>: <c>m = β₁m + (1−β₁)g</c>, <c>v = β₂v + (1−β₂)g²</c>,");
            w.Line("/// <c>θ −= η·m̂ / (√v̂ + ε)</c> with bias-corrected <c>m̂ = m/(1−β₁ᵗ)</c>, <c>v̂ = v/(1−β₂ᵗ)</c>;");
            w.Line("/// <c>g = ∂L/∂θ + λ·θ</c> for weights, <c>∂L/∂θ</c> for biases.");
            w.Line("/// </summary>");
            w.Line("/// <param name=\"learningRate\">η, positive.</param>");
            w.Line("/// <param name=\"beta1\">β₁ in [0, 1).</param>");
            w.Line("/// <param name=\"beta2\">β₂ in [0, 1).</param>");
            w.Line("/// <param name=\"epsilon\">ε, positive.</param>");
            w.Line("/// <param name=\"weightDecay\">λ ≥ 0, applied to weights only.</param>");
            w.Open($"public void UseAdam({t} learningRate = {code.Literal(0.001)}, {t} beta1 = {code.Literal(0.9)}, {t} beta2 = {code.Literal(0.999)}, {t} epsilon = {code.Literal(1e-8)}, {t} weightDecay = {code.Literal(0)})");
            WriteCheck(w, "learningRate", $"!(learningRate > {code.Literal(0)})", "must be positive");
            WriteCheck(w, "beta1", $"!(beta1 >= {code.Literal(0)} && beta1 < {code.Literal(1)})", "must be at least 0 and less than 1");
            WriteCheck(w, "beta2", $"!(beta2 >= {code.Literal(0)} && beta2 < {code.Literal(1)})", "must be at least 0 and less than 1");
            WriteCheck(w, "epsilon", $"!(epsilon > {code.Literal(0)})", "must be positive");
            WriteCheck(w, "weightDecay", $"!(weightDecay >= {code.Literal(0)})", "must be 0 or positive");
            w.Line("_optimizer = new OptimizerState");
            w.Line("{");
            w.Line("    IsAdam = true,");
            w.Line("    LearningRate = learningRate,");
            w.Line("    Beta1 = beta1,");
            w.Line("    Beta2 = beta2,");
            w.Line("    Epsilon = epsilon,");
            w.Line("    WeightDecay = weightDecay,");
            w.Line($"    FirstMoment = new {t}[ParameterCount],");
            w.Line($"    SecondMoment = new {t}[ParameterCount],");
            w.Line("};");
            w.Close();
            w.Line();

            WriteNoOptimizerMessage(w, "call UseAdam(...) or UseSgd(...)");
            w.Line("/// <summary>Updates every parameter from <see cref=\"Gradients\"/> with the chosen optimizer (the gradients stay as they are). Allocates nothing.</summary>");
            w.Line("/// <exception cref=\"global::System.InvalidOperationException\">No optimizer was chosen (<see cref=\"UseSgd\"/>, <see cref=\"UseAdam\"/>).</exception>");
            w.Line("/// <remarks>Each layer's weights (with weight decay) and biases (without) in one fused pass each.</remarks>");
            w.Open("public void Step()");
            w.Line($"OptimizerState o = _optimizer ?? throw new global::System.InvalidOperationException(NoOptimizerMessage);");
            w.Line("o.Steps++;");
            foreach (var layer in spec.Layers)
            {
                if (!layer.HasParameters)
                {
                    continue;
                }

                w.Line($"StepRange({layer.WeightOffset}, {layer.WeightCount}, o.WeightDecay); // layer {layer.Index} W");
                if (layer.HasBias)
                {
                    w.Line($"StepRange({layer.BiasOffset}, {layer.BiasCount}, {code.Literal(0)}); // layer {layer.Index} b: no weight decay");
                }
            }

            w.Close();
            w.Line();

            w.Open($"private void StepRange(int start, int count, {t} weightDecay)");
            w.Line($"OptimizerState o = _optimizer{code.Bang};");
            w.Line($"{code.Span} parameters = new {code.Span}(_parameters, start, count);");
            w.Line($"{code.Span} gradients = new {code.Span}(_gradients, start, count);");
            w.Open("if (o.IsAdam)");
            w.Line($"{code.Span} m = new {code.Span}(o.FirstMoment{code.Bang}, start, count);");
            w.Line($"{code.Span} v = new {code.Span}(o.SecondMoment{code.Bang}, start, count);");
            w.Line("// PyTorch's form: θ −= (η/(1−β₁ᵗ)) · m / (√v/√(1−β₂ᵗ) + ε), the corrections in double (as StaticGrad.Runtime computes it).");
            w.Line($"{t} stepSize = ({t})(o.LearningRate / (1 - global::System.Math.Pow(o.Beta1, o.Steps)));");
            w.Line($"{t} inverseSqrtCorrection2 = ({t})(1 / global::System.Math.Sqrt(1 - global::System.Math.Pow(o.Beta2, o.Steps)));");
            w.Open("for (int e = 0; e < count; e++)");
            w.Line($"{t} g = gradients[e] + (weightDecay * parameters[e]);");
            w.Line($"m[e] = (o.Beta1 * m[e]) + (({code.Literal(1)} - o.Beta1) * g);");
            w.Line($"v[e] = (o.Beta2 * v[e]) + (({code.Literal(1)} - o.Beta2) * g * g);");
            w.Line($"parameters[e] -= stepSize * m[e] / (({code.Math("Sqrt", "v[e]")} * inverseSqrtCorrection2) + o.Epsilon);");
            w.Close();
            w.Close();
            w.Line("else if (o.Velocity != null)");
            w.Line("{");
            w.Line($"    {code.Span} velocity = new {code.Span}(o.Velocity, start, count);");
            w.Line("    for (int e = 0; e < count; e++)");
            w.Line("    {");
            w.Line("        velocity[e] = (o.Momentum * velocity[e]) + gradients[e] + (weightDecay * parameters[e]);");
            w.Line("        parameters[e] -= o.LearningRate * velocity[e];");
            w.Line("    }");
            w.Line("}");
            w.Open("else");
            w.Open("for (int e = 0; e < count; e++)");
            w.Line("parameters[e] -= o.LearningRate * (gradients[e] + (weightDecay * parameters[e]));");
            w.Close();
            w.Close();
            w.Close();
            w.Line();
        }

        /// <summary>
        /// .NET 8+ targets: the optimizer is an object of StaticGrad.Runtime (<c>StaticGrad.Training.Optimizer</c>) that the
        /// user can steer between steps (learning rate, schedule, clipping, non-finite guard) without losing its state.
        /// </summary>
        private static void WriteRuntimeOptimizer(SourceWriter w, NetworkCode code)
        {
            string t = code.T;
            const string training = "global::StaticGrad.Training.";
            w.Line("/// <summary>");
            w.Line("/// The optimizer <see cref=\"Step\"/> and TrainStep use; <see langword=\"null\"/> until you choose one (training without one throws:");
            w.Line("/// StaticGrad never picks an optimizer for you). Its learning rate, schedule, clipping and other settings can change between");
            w.Line("/// steps without losing its state. Assigning allocates the optimizer's state once; an optimizer belongs to one network.");
            w.Line("/// </summary>");
            w.Line("/// <example><c>net.Optimizer = new AdamW(learningRate: 3e-3) { Schedule = new CosineAnnealing(totalSteps: 10 * 469, warmupSteps: 200), MaxGradientNorm = 1 };</c></example>");
            w.Line("/// <exception cref=\"global::System.InvalidOperationException\">The optimizer already belongs to another network.</exception>");
            w.Line($"public {training}Optimizer{code.Q} Optimizer");
            w.Line("{");
            w.Line("    get => _optimizer;");
            w.Line("    set");
            w.Line("    {");
            w.Line($"        value?.Attach<{t}>(this, Description);");
            w.Line("        _optimizer = value;");
            w.Line("    }");
            w.Line("}");
            w.Line();
            w.Line("/// <summary>Chooses a new <see cref=\"global::StaticGrad.Training.Sgd\"/> (fresh state): <c>v = μ·v + g</c>, <c>θ −= η·v</c>, with <c>g = ∂L/∂θ + λ·θ</c> for weights.</summary>");
            w.Line("/// <param name=\"learningRate\">η, positive.</param>");
            w.Line("/// <param name=\"momentum\">μ in [0, 1); 0 for plain SGD.</param>");
            w.Line("/// <param name=\"weightDecay\">λ ≥ 0, applied to weights only.</param>");
            w.Line($"public void UseSgd(double learningRate, double momentum = 0, double weightDecay = 0) => Optimizer = new {training}Sgd(learningRate, momentum, weightDecay);");
            w.Line();
            w.Line("/// <summary>Chooses a new <see cref=\"global::StaticGrad.Training.Adam\"/> (fresh moments) with PyTorch's defaults; to change the learning rate later and keep the moments, set <c>Optimizer.LearningRate</c>.</summary>");
            w.Line("/// <param name=\"learningRate\">η, positive.</param>");
            w.Line("/// <param name=\"beta1\">β₁ in [0, 1).</param>");
            w.Line("/// <param name=\"beta2\">β₂ in [0, 1).</param>");
            w.Line("/// <param name=\"epsilon\">ε, positive.</param>");
            w.Line("/// <param name=\"weightDecay\">λ ≥ 0, L2 on weights only.</param>");
            w.Line($"public void UseAdam(double learningRate = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-8, double weightDecay = 0) => Optimizer = new {training}Adam(learningRate, beta1, beta2, epsilon, weightDecay);");
            w.Line();
            w.Line("/// <summary>Chooses a new <see cref=\"global::StaticGrad.Training.AdamW\"/> (decoupled weight decay, PyTorch's defaults).</summary>");
            w.Line("/// <param name=\"learningRate\">η, positive.</param>");
            w.Line("/// <param name=\"beta1\">β₁ in [0, 1).</param>");
            w.Line("/// <param name=\"beta2\">β₂ in [0, 1).</param>");
            w.Line("/// <param name=\"epsilon\">ε, positive.</param>");
            w.Line("/// <param name=\"weightDecay\">λ ≥ 0; weights shrink by η·λ of themselves each step.</param>");
            w.Line($"public void UseAdamW(double learningRate = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-8, double weightDecay = 1e-2) => Optimizer = new {training}AdamW(learningRate, beta1, beta2, epsilon, weightDecay);");
            w.Line();
            WriteNoOptimizerMessage(w, "call UseAdam(...), UseSgd(...) or UseAdamW(...), or set Optimizer,");
            w.Line("/// <summary>Updates every parameter from <see cref=\"Gradients\"/> with <see cref=\"Optimizer\"/> (clipping and the schedule included). Allocates nothing.</summary>");
            w.Line("/// <exception cref=\"global::System.InvalidOperationException\">No optimizer was chosen.</exception>");
            w.Line($"public void Step() => RequireOptimizer().Step<{t}>(this, _parameters, _gradients, _team);");
            w.Line();
            w.Line($"private {training}Optimizer RequireOptimizer() => _optimizer ?? throw new global::System.InvalidOperationException(NoOptimizerMessage);");
            w.Line();
        }

        private static void WriteNoOptimizerMessage(SourceWriter w, string choices)
        {
            w.Line($"private const string NoOptimizerMessage = \"No optimizer chosen: {choices} before TrainStep or Step. StaticGrad does not pick one for you.\";");
            w.Line();
        }

        private static void WriteCheck(SourceWriter w, string parameter, string condition, string rule) =>
            w.Line($"if ({condition}) throw new global::System.ArgumentOutOfRangeException(nameof({parameter}), {parameter}, \"{parameter} {rule}.\");");
    }
}
