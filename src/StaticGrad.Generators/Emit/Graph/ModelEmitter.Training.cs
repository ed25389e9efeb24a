using System.Collections.Generic;
using System.Linq;
using StaticGrad.Generators.Graph;
using StaticGrad.Generators.Graph.Ops;
using StaticGrad.Generators.Model;

namespace StaticGrad.Generators.Emit.Graph
{
    /// <summary>Training: the loss, TrainStep, EvaluateLoss, Accuracy, ComputeLoss and the optimizer members.</summary>
    internal static partial class ModelEmitter
    {
        private static void WriteTraining(SourceWriter w, GraphCode code)
        {
            GraphSpec spec = code.Spec;
            bool classifier = spec.HasClassLabels;
            string output = code.ValueSpan(spec.Output), gradient = $"new global::System.Span<{E(spec)}>({code.Gradient(spec.Output)}, 0, batch * OutputSize)";
            int classes = Classes(spec);
            string rows = Rows(spec, "batch"), unit = LabelUnit(spec);
            if (classifier)
            {
                w.Line("/// <summary>");
                w.Line(spec.Loss == LossKind.MulticlassSvm
                    ? $"/// One training step on a batch, as PyTorch's <c>model.train()</c>, <c>loss = {Classes(spec)} * F.multi_margin_loss(model(x), labels, margin={GraphCode.Real(spec.Margin)})</c> (CS231n's sum over classes),"
                    : "/// One training step on a batch, as PyTorch's <c>model.train()</c>, <c>loss = F.cross_entropy(model(x), labels)</c>,");
                w.Line("/// <c>optimizer.zero_grad()</c>, <c>loss.backward()</c>, <c>optimizer.step()</c>: batch statistics (running ones updated) and dropout.");
                w.Line("/// Returns the batch's mean loss before the update. Allocates nothing.");
                w.Line("/// </summary>");
                w.Line($"/// <exception cref=\"global::System.ArgumentException\">A length does not fit, or a label is outside 0 to {classes - 1}.</exception>");
                w.Line("/// <exception cref=\"global::System.InvalidOperationException\">No optimizer was chosen.</exception>");
                w.Line($"public {E(spec)} TrainStep({InputParameters(spec)}, global::System.ReadOnlySpan<int> labels) => TrainStepCore({InputArguments(spec)}, labels);");
                w.Line();
                w.Line("/// <summary>One training step with labels stored as bytes (as Fashion-MNIST's are); see the <c>int</c> overload.</summary>");
                w.Line($"public {E(spec)} TrainStep({InputParameters(spec)}, global::System.ReadOnlySpan<byte> labels) => TrainStepCore({InputArguments(spec)}, Widen(labels));");
                w.Line();
                w.Line("/// <summary>One training step with labels stored as 16-bit values; see the <c>int</c> overload.</summary>");
                w.Line($"public {E(spec)} TrainStep({InputParameters(spec)}, global::System.ReadOnlySpan<ushort> labels) => TrainStepCore({InputArguments(spec)}, Widen(labels));");
                w.Line();
                w.Open($"private {E(spec)} TrainStepCore({InputParameters(spec)}, global::System.ReadOnlySpan<int> labels)");
            }
            else
            {
                w.Line("/// <summary>");
                w.Line("/// One training step on a batch, as PyTorch's <c>model.train()</c>, <c>loss = F.mse_loss(model(x), targets)</c>, <c>zero_grad()</c>,");
                w.Line("/// <c>backward()</c>, <c>step()</c>. Returns the batch's mean loss before the update. Allocates nothing.");
                w.Line("/// </summary>");
                w.Line("/// <exception cref=\"global::System.ArgumentException\">A length does not fit.</exception>");
                w.Line("/// <exception cref=\"global::System.InvalidOperationException\">No optimizer was chosen.</exception>");
                w.Open($"public {E(spec)} TrainStep({InputParameters(spec)}, global::System.ReadOnlySpan<{E(spec)}> targets)");
            }

            w.Line($"int batch = CheckInputs({InputArguments(spec)});");
            w.Line($"CheckLength({(classifier ? "labels" : "targets")}.Length, {(classifier ? rows : "batch * OutputSize")}, nameof({(classifier ? "labels" : "targets")}), \"{(classifier ? unit : "OutputSize")}\");");
            w.Line("global::StaticGrad.Training.Optimizer optimizer = RequireOptimizer();");
            if (classifier)
            {
                w.Line("// Labels are checked before the forward pass, which would update the running statistics.");
                w.Open($"for (int i = 0; i < {rows}; i++)");
                w.Open($"if ((uint)labels[i] >= {classes})");
                w.Line($"throw new global::System.ArgumentOutOfRangeException(nameof(labels), labels[i], $\"labels[{{i}}] is {{labels[i]}}, outside 0 to {classes - 1} (one class per score).\");");
                w.Close();
                w.Close();
            }

            w.Line("_training = true;");
            w.Line($"CopyInputs({InputArguments(spec)}, batch);");
            w.Line("RunForward(batch);");
            w.Line(classifier
                ? $"double loss = {ClassLoss(spec, output, "labels", rows, gradient)};"
                : $"double loss = global::StaticGrad.Kernels.Losses.MeanSquaredError({output}, targets.Slice(0, batch * OutputSize), batch, OutputSize, {gradient});");
            if (code.ReplacingNodes.Count == 0)
            {
                w.Line("ZeroGradients();");
                w.Line("RunBackward(batch);");
            }
            else
            {
                w.Line("// This batch's gradients replace Gradients: the nodes that can write theirs do, and the rest are cleared first.");
                w.Line($"{code.ReplaceGradients} = true;");
                WriteClearUnreplaced(w, code, condition: null);
                w.Line("RunBackward(batch);");
                w.Line($"{code.ReplaceGradients} = false;");
            }
            w.Line($"optimizer.Step<{E(spec)}>(this, _parameters, _gradients, _team, loss);");
            w.Line($"return ({E(spec)})loss;");
            w.Close();
            w.Line();
            if (classifier)
            {
                foreach (string label in new[] { "byte", "ushort" })
                {
                    w.Open($"private global::System.ReadOnlySpan<int> Widen(global::System.ReadOnlySpan<{label}> labels)");
                    w.Open("if (labels.Length > _labels.Length)");
                    w.Line($"throw new global::System.ArgumentException($\"labels must hold at most {{{Rows(spec, "MaxBatchSize")}}} labels, but it has {{labels.Length}}.\", nameof(labels));");
                    w.Close();
                    w.Open("for (int i = 0; i < labels.Length; i++)");
                    w.Line("_labels[i] = labels[i];");
                    w.Close();
                    w.Line("return new global::System.ReadOnlySpan<int>(_labels, 0, labels.Length);");
                    w.Close();
                    w.Line();
                }
            }

            // Evaluation over any number of examples, in batches of MaxBatchSize.
            foreach (string label in classifier ? new[] { "int", "byte", "ushort" } : new[] { E(spec) })
            {
                string target = classifier ? $"global::System.ReadOnlySpan<{label}> labels" : $"global::System.ReadOnlySpan<{E(spec)}> targets";
                w.Line(label is "int" or "float" or "double"
                    ? $"/// <summary>The mean loss over any number of examples in evaluation mode (batches of <see cref=\"MaxBatchSize\"/>); changes no state. Allocates nothing.</summary>"
                    : $"/// <summary>The mean loss with labels stored as {(label == "byte" ? "bytes" : "16-bit values")}; see the <c>int</c> overload.</summary>");
                w.Open($"public double EvaluateLoss({InputParameters(spec)}, {target})");
                w.Line($"int count = CountExamples({InputArguments(spec)});");
                w.Line($"CheckLength({(classifier ? "labels" : "targets")}.Length, {(classifier ? Rows(spec, "count") : "count * OutputSize")}, nameof({(classifier ? "labels" : "targets")}), \"{(classifier ? unit : "OutputSize")}\");");
                w.Line("double total = 0;");
                w.Open("for (int start = 0; start < count; start += MaxBatchSize)");
                w.Line("int batch = global::System.Math.Min(MaxBatchSize, count - start);");
                w.Line($"ForwardChunk({InputArguments(spec)}, start, batch);");
                string chunk = label == "int" ? $"labels.Slice({Rows(spec, "start")}, {rows})" : $"Widen(labels.Slice({Rows(spec, "start")}, {rows}))";
                w.Line(classifier
                    ? $"total += batch * {ClassLoss(spec, output, chunk, rows, "default")};"
                    : $"total += batch * global::StaticGrad.Kernels.Losses.MeanSquaredError({output}, targets.Slice(start * OutputSize, batch * OutputSize), batch, OutputSize, default);");
                w.Close();
                w.Line();
                w.Line("return count == 0 ? 0 : total / count;");
                w.Close();
                w.Line();
            }

            WriteComputeLoss(w, spec);
            if (!classifier && !ImplementsInterface(spec))
            {
                return;
            }

            string each = Positions(spec) == 1 ? "each example" : "each position of each example";
            w.Line($"/// <summary>The class with the highest score for {each} (any number of examples, in batches of <see cref=\"MaxBatchSize\"/>), in evaluation mode. Allocates nothing.</summary>");
            w.Open($"public void Predict({InputParameters(spec)}, global::System.Span<int> predictions)");
            w.Line($"int count = CountExamples({InputArguments(spec)});");
            w.Line($"CheckLength(predictions.Length, {Rows(spec, "count")}, nameof(predictions), \"{(Positions(spec) == 1 ? "1 prediction per example" : $"{Int(Positions(spec))} predictions per example, one per position")}\");");
            w.Open("for (int start = 0; start < count; start += MaxBatchSize)");
            w.Line("int batch = global::System.Math.Min(MaxBatchSize, count - start);");
            w.Line($"ForwardChunk({InputArguments(spec)}, start, batch);");
            w.Line($"ArgMax({code.ValueSpan(spec.Output)}, predictions.Slice({Rows(spec, "start")}, {rows}));");
            w.Close();
            w.Close();
            w.Line();
            w.Line("/// <summary>The index of the highest score in each row of classes (the first of equal ones).</summary>");
            w.Open($"private static void ArgMax(global::System.ReadOnlySpan<{E(spec)}> scores, global::System.Span<int> classes)");
            w.Open("for (int r = 0; r < classes.Length; r++)");
            w.Line($"global::System.ReadOnlySpan<{E(spec)}> row = scores.Slice(r * {classes}, {classes});");
            w.Line("int best = 0;");
            w.Open($"for (int c = 1; c < {classes}; c++)");
            w.Open("if (row[c] > row[best])");
            w.Line("best = c;");
            w.Close();
            w.Close();
            w.Line("classes[r] = best;");
            w.Close();
            w.Close();
            w.Line();
            if (Positions(spec) == 1)
            {
                w.Line("/// <summary>The class with the highest score for one example.</summary>");
                w.Open($"public int Predict({InputParameters(spec)})");
                w.Line("global::System.Span<int> prediction = stackalloc int[1];");
                w.Line($"Predict({InputArguments(spec)}, prediction);");
                w.Line("return prediction[0];");
                w.Close();
                w.Line();
            }

            foreach (string label in new[] { "int", "byte", "ushort" })
            {
                w.Line(label == "int"
                    ? $"/// <summary>The fraction of {(Positions(spec) == 1 ? "examples" : "positions")} whose predicted class is their label (evaluation mode, batches of <see cref=\"MaxBatchSize\"/>). Allocates nothing.</summary>"
                    : $"/// <summary>Accuracy with labels stored as {(label == "byte" ? "bytes (as Fashion-MNIST's are)" : "16-bit values")}.</summary>");
                w.Open($"public double Accuracy({InputParameters(spec)}, global::System.ReadOnlySpan<{label}> labels)");
                w.Line($"int count = CountExamples({InputArguments(spec)});");
                w.Line($"CheckLength(labels.Length, {Rows(spec, "count")}, nameof(labels), \"{unit}\");");
                w.Line("long correct = 0;");
                w.Line("global::System.Span<int> predictions = _predictions;");
                w.Open("for (int start = 0; start < count; start += MaxBatchSize)");
                w.Line("int batch = global::System.Math.Min(MaxBatchSize, count - start);");
                w.Line($"ForwardChunk({InputArguments(spec)}, start, batch);");
                w.Line($"ArgMax({code.ValueSpan(spec.Output)}, predictions.Slice(0, {rows}));");
                w.Open($"for (int r = 0; r < {rows}; r++)");
                w.Line($"correct += predictions[r] == labels[{Rows(spec, "start")} + r] ? 1 : 0;");
                w.Close();
                w.Close();
                w.Line();
                w.Line($"return count == 0 ? 0 : (double)correct / {(Positions(spec) == 1 ? "count" : $"({Rows(spec, "count")})")};");
                w.Close();
                w.Line();
            }
        }

        /// <summary>
        /// Whether the model implements <c>IClassifier&lt;T&gt;</c> (softmax cross-entropy or the SVM loss) or <c>IRegressor&lt;T&gt;</c> (mean
        /// squared error) of its element type, as the attribute networks do: one float input and one label or target row per example.
        /// </summary>
        private static bool ImplementsInterface(GraphSpec spec) =>
            OneFloatInput(spec) && spec.Loss != LossKind.None && Positions(spec) == 1;

        /// <summary>Whether the model implements <c>ITokenClassifier&lt;T&gt;</c>: one token input, one output and a class-label loss.</summary>
        private static bool ImplementsTokenClassifier(GraphSpec spec) =>
            SingleInput(spec) && spec.Inputs[0].Tokens && spec.SingleOutput && spec.HasClassLabels;

        private static string? InterfaceName(GraphSpec spec) =>
            ImplementsTokenClassifier(spec) ? $"global::StaticGrad.ITokenClassifier<{E(spec)}>"
            : !ImplementsInterface(spec) ? null
            : spec.HasClassLabels ? $"global::StaticGrad.IClassifier<{E(spec)}>" : $"global::StaticGrad.IRegressor<{E(spec)}>";

        /// <summary>The call of the class-label loss's kernel: softmax cross-entropy, or the multiclass SVM loss with the model's margin.</summary>
        private static string ClassLoss(GraphSpec spec, string scores, string labels, string rows, string gradient) =>
            spec.Loss == LossKind.MulticlassSvm
                ? $"global::StaticGrad.Kernels.Losses.MulticlassSvm({scores}, {labels}, {rows}, {Classes(spec)}, margin: {GraphCode.Real(spec.Margin)}, {gradient})"
                : $"global::StaticGrad.Kernels.Losses.SoftmaxCrossEntropy({scores}, {labels}, {rows}, {Classes(spec)}, {gradient})";

        /// <summary>ComputeLoss(outputs, labels or targets, outputGradients): the loss of outputs computed elsewhere, and its gradient.</summary>
        private static void WriteComputeLoss(SourceWriter w, GraphSpec spec)
        {
            bool classifier = spec.HasClassLabels;
            int classes = Classes(spec);
            string target = classifier ? "labels" : "targets";
            w.Line("/// <summary>");
            w.Line(spec.Loss == LossKind.MulticlassSvm
                ? "/// The mean multiclass SVM (hinge) loss of scores computed elsewhere (by Forward, or another model) against their labels, as"
                : classifier
                ? "/// The mean softmax cross-entropy of scores computed elsewhere (by Forward, or another model) against their labels, as"
                : "/// The mean squared error of outputs computed elsewhere (by Forward, or another model) against their targets, as");
            w.Line($"/// TrainStep computes it; writes its gradient with respect to the {(classifier ? "scores" : "outputs")} unless <paramref name=\"outputGradients\"/> is empty (then pass it to Backward).");
            w.Line("/// Changes no state. Allocates nothing.");
            w.Line("/// </summary>");
            w.Line($"/// <exception cref=\"global::System.ArgumentException\">A length does not fit{(classifier ? $", or a label is outside 0 to {classes - 1}" : string.Empty)}.</exception>");
            w.Open($"public {E(spec)} ComputeLoss(global::System.ReadOnlySpan<{E(spec)}> outputs, global::System.ReadOnlySpan<{(classifier ? "int" : E(spec))}> {target}, global::System.Span<{E(spec)}> outputGradients)");
            w.Open("if (outputs.Length == 0 || outputs.Length % OutputSize != 0)");
            w.Line("throw new global::System.ArgumentException($\"outputs must hold whole examples of {OutputSize} values, but its length is {outputs.Length}.\", nameof(outputs));");
            w.Close();
            w.Line();
            w.Line("int batch = outputs.Length / OutputSize;");
            w.Line(classifier
                ? $"CheckLength(labels.Length, {Rows(spec, "batch")}, nameof(labels), \"{LabelUnit(spec)}\");"
                : "CheckLength(targets.Length, outputs.Length, nameof(targets), \"OutputSize\");");
            w.Open("if (!outputGradients.IsEmpty)");
            w.Line("CheckLength(outputGradients.Length, outputs.Length, nameof(outputGradients), \"OutputSize\");");
            w.Close();
            w.Line();
            if (classifier)
            {
                w.Open("for (int i = 0; i < labels.Length; i++)");
                w.Open($"if ((uint)labels[i] >= {classes})");
                w.Line($"throw new global::System.ArgumentOutOfRangeException(nameof(labels), labels[i], $\"labels[{{i}}] is {{labels[i]}}, outside 0 to {classes - 1} (one class per score).\");");
                w.Close();
                w.Close();
                w.Line();
                w.Line($"return ({E(spec)}){ClassLoss(spec, "outputs", "labels", Rows(spec, "batch"), "outputGradients")};");
            }
            else
            {
                w.Line($"return ({E(spec)})global::StaticGrad.Kernels.Losses.MeanSquaredError(outputs, targets, batch, OutputSize, outputGradients);");
            }

            w.Close();
            w.Line();
        }

        private static void WriteOptimizer(SourceWriter w, GraphSpec spec)
        {
            w.Lines("""
                /// <summary>The optimizer TrainStep and Step use; setting it binds it to this model (an optimizer serves one model).</summary>
                public global::StaticGrad.Training.Optimizer? Optimizer
                {
                    get => _optimizer;
                    set
                    {
                        value?.Attach<ELEMENT>(this, Description);
                        _optimizer = value;
                    }
                }

                /// <summary>Stochastic gradient descent, as <c>torch.optim.SGD(lr, momentum, weight_decay)</c> (weight decay on weights only).</summary>
                public void UseSgd(double learningRate, double momentum = 0, double weightDecay = 0) => Optimizer = new global::StaticGrad.Training.Sgd(learningRate, momentum, weightDecay);

                /// <summary>Adam, as <c>torch.optim.Adam</c>.</summary>
                public void UseAdam(double learningRate = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-8, double weightDecay = 0) => Optimizer = new global::StaticGrad.Training.Adam(learningRate, beta1, beta2, epsilon, weightDecay);

                /// <summary>AdamW (decoupled weight decay), as <c>torch.optim.AdamW</c>.</summary>
                public void UseAdamW(double learningRate = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-8, double weightDecay = 1e-2) => Optimizer = new global::StaticGrad.Training.AdamW(learningRate, beta1, beta2, epsilon, weightDecay);

                /// <summary>One update of the parameters from <see cref="Gradients"/> by the chosen optimizer.</summary>
                /// <exception cref="global::System.InvalidOperationException">No optimizer was chosen.</exception>
                public void Step() => RequireOptimizer().Step<ELEMENT>(this, _parameters, _gradients, _team);

                private global::StaticGrad.Training.Optimizer RequireOptimizer() => _optimizer ?? throw new global::System.InvalidOperationException("No optimizer chosen: call UseAdam(...), UseSgd(...) or UseAdamW(...), or set Optimizer, before TrainStep or Step. StaticGrad does not pick one for you.");

                """.Replace("ELEMENT", E(spec)));
        }
    }
}
