using System.Linq;
using StaticGrad.Generators.Catalogue;
using StaticGrad.Generators.Model;

namespace StaticGrad.Generators.Emit.Network
{
    /// <summary>
    /// The loss and what depends on it: <c>ComputeLoss</c> (mean loss and its gradient with respect to the network's
    /// outputs), <c>TrainStep</c> and <c>EvaluateLoss</c>.
    /// </summary>
    internal static class LossEmitter
    {
        /// <summary>What the loss compares outputs with: class labels, or target values for MSE.</summary>
        public static (string Type, string Name, string Description) Targets(NetworkCode code) =>
            !ClassLabels(code)
                ? (code.ReadOnlySpan, "targets", $"Target values, [B×{code.Spec.OutputSize}] row-major")
                : ("global::System.ReadOnlySpan<int>", "labels", $"One class label per example, each in [0, {code.Spec.OutputSize}); int, byte or ushort, read where they are");

        public static void Write(SourceWriter w, NetworkCode code)
        {
            if (code.Spec.Loss == LossKind.None)
            {
                return;
            }

            WriteComputeLoss(w, code);
            WriteTrainStep(w, code);
            WriteEvaluateLoss(w, code);
        }

        private static void WriteComputeLoss(SourceWriter w, NetworkCode code)
        {
            NetworkSpec spec = code.Spec;
            string t = code.T;
            int n = spec.OutputSize;
            var (targetType, targets, targetText) = Targets(code);
            LossDefinition definition = LayerCatalogue.Of(spec.Loss);
            string formula = definition.Formula(code);
            w.Line($"/// <summary>The mean {spec.Loss} loss of a batch of outputs, and its gradient with respect to those outputs.</summary>");
            w.Line($"/// <param name=\"outputs\">Network outputs, [B×{n}] row-major.</param>");
            w.Line($"/// <param name=\"{targets}\">{Xml(targetText)}.</param>");
            w.Line($"/// <param name=\"outputGradients\">Receives ∂L/∂outputs, [B×{n}]; pass an empty span to skip the gradient.</param>");
            w.Line("/// <returns>The loss averaged over the batch.</returns>");
            w.Line($"/// <remarks><c>{Xml(formula)}</c></remarks>");
            OpenWithLabels(w, code, t, "ComputeLoss", $"{code.ReadOnlySpan} outputs, ", $", {code.Span} outputGradients", "outputs, ", ", outputGradients", $"{Cref(code.ReadOnlySpan)}, {{0}}, {Cref(code.Span)}");
            if (!definition.TakesLabels)
            {
                w.Line($"int batch = {targets}.Length / {n};");
                w.Line($"if (batch == 0 || {targets}.Length != batch * {n}) ThrowLengthMismatch(nameof({targets}), \"[B×{n}] with B ≥ 1\", {targets}.Length);");
            }
            else
            {
                w.Line($"int batch = {targets}.Length;");
                w.Line($"if (batch == 0) ThrowLengthMismatch(nameof({targets}), \"at least one label\", 0);");
            }

            w.Line($"if (outputs.Length != batch * {n}) ThrowLengthMismatch(nameof(outputs), $\"[{{batch}}×{n}] = {{batch * {n}}} elements\", outputs.Length);");
            w.Line($"if (outputGradients.Length != 0 && outputGradients.Length != batch * {n}) ThrowLengthMismatch(nameof(outputGradients), $\"[{{batch}}×{n}] = {{batch * {n}}} elements, or empty\", outputGradients.Length);");
            if (definition.TakesLabels)
            {
                w.Line("CheckLabels(labels);");
            }

            w.Line($"return RunLoss(outputs, {targets}, outputGradients, batch);");
            w.Close();
            w.Line();
            w.Line("// Callers have checked every length and label (ComputeLoss, TrainStep, EvaluateLoss), so the hot path checks nothing twice.");
            w.Open($"private {t} RunLoss({code.ReadOnlySpan} outputs, {CoreType(code)} {targets}, {code.Span} outputGradients, int batch)");
            w.Line("bool withGradient = outputGradients.Length != 0;");
            w.Line("double total = 0;");
            definition.WriteLoss(w, code);
            w.Close();
            w.Line();
        }

        private static void WriteTrainStep(SourceWriter w, NetworkCode code)
        {
            NetworkSpec spec = code.Spec;
            var (targetType, targets, targetText) = Targets(code);
            w.Line("/// <summary>");
            bool inPlace = code.Graph is not { InputSpan: null };
            string readsInPlace = inPlace ? "reads the caller's batch where it is: no copy" : "copies the caller's batch into _activations[0] first";
            w.Line($"/// One training step on a batch: Forward{(inPlace ? " (reading <paramref name=\"inputs\"/> where they are)" : string.Empty)}, the loss and its gradient,");
            w.Line("/// Backward, which writes this batch's gradients into <see cref=\"Gradients\"/> (replacing what was there), then one");
            w.Line("/// optimizer step with the optimizer you chose (<see cref=\"UseAdam\"/>, <see cref=\"UseSgd\"/>" + (spec.RuntimeKernels ? ", <see cref=\"Optimizer\"/>" : string.Empty) + ").");
            w.Line("/// Allocates nothing.");
            w.Line("/// </summary>");
            w.Line($"/// <param name=\"inputs\">A batch [B×{spec.InputSize}], row-major, 1 ≤ B ≤ <see cref=\"MaxBatchSize\"/>.</param>");
            w.Line($"/// <param name=\"{targets}\">{Xml(targetText)}.</param>");
            w.Line("/// <returns>The mean loss of the batch before the step.</returns>");
            w.Line("/// <exception cref=\"global::System.InvalidOperationException\">No optimizer was chosen; nothing changes.</exception>");
            OpenWithLabels(w, code, code.T, "TrainStep", $"{code.ReadOnlySpan} inputs, ", string.Empty, "inputs, ", string.Empty, $"{Cref(code.ReadOnlySpan)}, {{0}}");
            w.Line("int batch = CheckBatch(inputs.Length, nameof(inputs));");
            bool labels = ClassLabels(code);
            string expected = labels ? "batch" : "batch * OutputSize";
            string unit = labels ? "labels" : "target values";
            w.Line($"if ({targets}.Length != {expected}) ThrowLengthMismatch(nameof({targets}), $\"{{{expected}}} {unit} for a batch of {{batch}}\", {targets}.Length);");
            if (labels)
            {
                w.Line("CheckLabels(labels); // before anything changes: a bad label leaves activations, gradients and parameters as they were");
            }

            w.Line(spec.RuntimeKernels
                ? "global::StaticGrad.Training.Optimizer optimizer = RequireOptimizer(); // before anything changes"
                : "if (_optimizer == null) throw new global::System.InvalidOperationException(NoOptimizerMessage); // before anything changes");
            if (spec.Layers.Any(l => l.Definition.DropsInTraining))
            {
                w.Line("_training = true; // Dropout drops values in this forward pass only");
                w.Open("try");
                w.Line($"RunForward(inputs, batch); // {readsInPlace}");
                w.Close();
                w.Open("finally");
                w.Line("_training = false;");
                w.Close();
                w.Line();
            }
            else
            {
                w.Line($"RunForward(inputs, batch); // {readsInPlace}");
            }

            w.Line($"{code.ReadOnlySpan} outputs = new {code.ReadOnlySpan}(_activations[{spec.Layers.Count}], 0, batch * OutputSize);");
            w.Line($"{code.Span} outputGradients = new {code.Span}(_gradientScratch[0], 0, batch * OutputSize);");
            w.Line($"{code.T} loss = RunLoss(outputs, {targets}, outputGradients, batch);");
            w.Line("// The gradients of this batch replace Gradients (accumulateGradients: false), then one optimizer step.");
            w.Line("RunBackward(inputs, batch, computeInputGradient: false, accumulateGradients: false);");
            w.Line(spec.RuntimeKernels ? $"optimizer.Step<{code.T}>(this, _parameters, _gradients, _team, loss); // skipped if the optimizer guards against a non-finite loss" : "Step();");
            w.Line("return loss;");
            w.Close();
            w.Line();
        }

        private static void WriteEvaluateLoss(SourceWriter w, NetworkCode code)
        {
            NetworkSpec spec = code.Spec;
            var (targetType, targets, targetText) = Targets(code);
            bool mse = !ClassLabels(code);
            w.Line("/// <summary>The mean loss over a whole data set, computed in batches of <see cref=\"MaxBatchSize\"/>. Replaces the stored activations.</summary>");
            w.Line($"/// <param name=\"inputs\">Examples [count×{spec.InputSize}], row-major.</param>");
            w.Line($"/// <param name=\"{targets}\">{Xml(targetText)}.</param>");
            OpenWithLabels(w, code, "double", "EvaluateLoss", $"{code.ReadOnlySpan} inputs, ", string.Empty, "inputs, ", string.Empty, $"{Cref(code.ReadOnlySpan)}, {{0}}");
            w.Line("int count = inputs.Length / InputSize;");
            w.Line("if (count == 0 || inputs.Length != count * InputSize) ThrowLengthMismatch(nameof(inputs), $\"[count×{InputSize}] with count ≥ 1\", inputs.Length);");
            w.Line($"if ({targets}.Length != count{(mse ? " * OutputSize" : string.Empty)}) ThrowLengthMismatch(nameof({targets}), $\"{{count{(mse ? " * OutputSize" : string.Empty)}}} for {{count}} examples\", {targets}.Length);");
            if (!mse)
            {
                w.Line("CheckLabels(labels);");
            }

            w.Line("double total = 0;");
            w.Open("for (int start = 0; start < count; start += MaxBatchSize)");
            w.Line("int batch = global::System.Math.Min(MaxBatchSize, count - start);");
            w.Line("RunForward(inputs.Slice(start * InputSize, batch * InputSize), batch);");
            w.Line($"{code.ReadOnlySpan} outputs = new {code.ReadOnlySpan}(_activations[{spec.Layers.Count}], 0, batch * OutputSize);");
            w.Line($"total += (double)RunLoss(outputs, {targets}.Slice(start{(mse ? " * OutputSize" : string.Empty)}, batch{(mse ? " * OutputSize" : string.Empty)}), default, batch) * batch;");
            w.Close();
            w.Line();
            w.Line("return total / count;");
            w.Close();
            w.Line();
        }

        /// <summary>Whether the loss takes class labels (byte, ushort or int, read through <c>LabelSpan</c>) rather than target values.</summary>
        public static bool ClassLabels(NetworkCode code) => code.Spec.Loss == LossKind.None || LayerCatalogue.Of(code.Spec.Loss).TakesLabels;

        /// <summary>The type the private cores take the targets as.</summary>
        private static string CoreType(NetworkCode code) => ClassLabels(code) ? "LabelSpan" : code.ReadOnlySpan;

        /// <summary>A type as a cref names it: <c>global::System.ReadOnlySpan{float}</c>.</summary>
        public static string Cref(string type) => type.Replace('<', '{').Replace('>', '}');

        /// <summary>
        /// Opens a public method that takes the loss's targets. With class labels it writes the public overload for
        /// <c>ReadOnlySpan&lt;int&gt;</c> (the XML docs written before it belong to it), those for byte and ushort, and opens the
        /// private core they call, which reads the labels in place through a <c>LabelSpan</c>: no copies, one body.
        /// </summary>
        /// <param name="w">The writer.</param>
        /// <param name="code">The network.</param>
        /// <param name="returnType">The method's return type.</param>
        /// <param name="name">The method's name; the core is <c>{name}Core</c>.</param>
        /// <param name="before">Parameters before the labels, with a trailing ", ".</param>
        /// <param name="after">Parameters after the labels, with a leading ", ".</param>
        /// <param name="callBefore">Arguments before the labels in the call of the core.</param>
        /// <param name="callAfter">Arguments after the labels in the call of the core.</param>
        /// <param name="crefFormat">The overload's parameter list as a cref, with {0} where the labels go.</param>
        /// <param name="classLabels">Whether the targets are class labels; by default, whether the loss takes them.</param>
        public static void OpenWithLabels(SourceWriter w, NetworkCode code, string returnType, string name, string before, string after, string callBefore, string callAfter, string crefFormat, bool? classLabels = null)
        {
            var (targetType, targets, _) = Targets(code);
            if (!(classLabels ?? ClassLabels(code)))
            {
                w.Open($"public {returnType} {name}({before}{targetType} {targets}{after})");
                return;
            }

            w.Line($"public {returnType} {name}({before}global::System.ReadOnlySpan<int> labels{after}) => {name}Core({callBefore}Labels(labels){callAfter});");
            w.Line();
            string cref = crefFormat.Replace("{0}", "global::System.ReadOnlySpan{int}");
            foreach (string type in new[] { "byte", "ushort" })
            {
                w.Line($"/// <inheritdoc cref=\"{name}({cref})\"/>");
                w.Line($"public {returnType} {name}({before}global::System.ReadOnlySpan<{type}> labels{after}) => {name}Core({callBefore}Labels(labels){callAfter});");
                w.Line();
            }

            w.Open($"private {returnType} {name}Core({before}LabelSpan labels{after})");
        }

        private static string Xml(string text) => text.Replace("&", "&amp;").Replace("<", "&lt;").Replace(">", "&gt;");
    }
}
