using System.Collections.Generic;
using System.Linq;
using StaticGrad.Generators.Graph;
using StaticGrad.Generators.Graph.Ops;
using StaticGrad.Generators.Model;

namespace StaticGrad.Generators.Emit.Graph
{
    /// <summary>Evaluation: Predict of any number of examples in chunks, the class probabilities, and the shared input counting.</summary>
    internal static partial class ModelEmitter
    {
        /// <summary>Predict(inputs, outputs) for any number of examples, and the class probabilities of a softmax classifier.</summary>
        private static void WriteScores(SourceWriter w, GraphCode code)
        {
            GraphSpec spec = code.Spec;
            bool classifier = spec.Loss == LossKind.SoftmaxCrossEntropy;
            int classes = Classes(spec);
            foreach (bool probabilities in classifier ? new[] { false, true } : new[] { false })
            {
                if (!probabilities && !spec.SingleOutput)
                {
                    WritePredictOutputs(w, code);
                    continue;
                }

                string name = probabilities ? "probabilities" : "outputs";
                w.Line(probabilities
                    ? $"/// <summary>The probabilities of the classes for any number of examples: the softmax, <c>exp(z_j − max z) / Σ_k exp(z_k − max z)</c>, of the scores, each row{(Positions(spec) > 1 ? " (a position)" : string.Empty)} summing to 1."
                    : "/// <summary>The outputs of any number of examples in evaluation mode, as Forward computes them (Forward takes at most <see cref=\"MaxBatchSize\"/>).");
                w.Line("/// Runs in chunks of <see cref=\"MaxBatchSize\"/> examples; allocates nothing; replaces the stored values, so Backward needs a new forward pass.</summary>");
                w.Line($"/// <exception cref=\"global::System.ArgumentException\">An input is not whole examples, the inputs disagree on their count, or <paramref name=\"{name}\"/> does not hold <see cref=\"OutputSize\"/> values per example; nothing is written.</exception>");
                w.Open($"public void {(probabilities ? "PredictProbabilities" : "Predict")}({InputParameters(spec)}, global::System.Span<{E(spec)}> {name})");
                w.Line($"int count = CountExamples({InputArguments(spec)});");
                w.Line($"CheckLength({name}.Length, count * OutputSize, nameof({name}), \"OutputSize\");");
                w.Open("for (int start = 0; start < count; start += MaxBatchSize)");
                w.Line("int batch = global::System.Math.Min(MaxBatchSize, count - start);");
                w.Line($"ForwardChunk({InputArguments(spec)}, start, batch);");
                w.Line($"global::System.Span<{E(spec)}> chunk = {name}.Slice(start * OutputSize, batch * OutputSize);");
                w.Line($"{code.ValueSpan(spec.Output)}.CopyTo(chunk);");
                if (probabilities)
                {
                    w.Open($"for (int b = 0; b < {Rows(spec, "batch")}; b++)");
                    w.Line($"global::System.Span<{E(spec)}> row = chunk.Slice(b * {classes}, {classes});");
                    w.Line($"{E(spec)} max = row[0]; // softmax(z) = softmax(z − max z): no exponential overflows");
                    w.Open($"for (int j = 1; j < {classes}; j++)");
                    w.Line($"max = {Math(spec)}.Max(max, row[j]);");
                    w.Close();
                    w.Line("double sum = 0;");
                    w.Open($"for (int j = 0; j < {classes}; j++)");
                    w.Line($"row[j] = {Math(spec)}.Exp(row[j] - max);");
                    w.Line("sum += row[j];");
                    w.Close();
                    w.Line($"{E(spec)} inverse = ({E(spec)})(1 / sum);");
                    w.Open($"for (int j = 0; j < {classes}; j++)");
                    w.Line("row[j] *= inverse;");
                    w.Close();
                    w.Close();
                }

                w.Close();
                w.Close();
                w.Line();
            }

            WriteCountExamples(w, spec);
        }

        /// <summary>Predict of a model with several outputs: each output span gets its values for every example.</summary>
        private static void WritePredictOutputs(SourceWriter w, GraphCode code)
        {
            GraphSpec spec = code.Spec;
            w.Line("/// <summary>The outputs of any number of examples in evaluation mode, as Forward computes them (Forward takes at most <see cref=\"MaxBatchSize\"/>).");
            w.Line("/// Runs in chunks of <see cref=\"MaxBatchSize\"/> examples; allocates nothing; replaces the stored values, so Backward needs a new forward pass.</summary>");
            w.Line($"/// <exception cref=\"global::System.ArgumentException\">An input is not whole examples, the inputs disagree on their count, or {OutputReferences(spec, OutputParameter)} does not hold its size's values per example; nothing is written.</exception>");
            w.Open($"public void Predict({InputParameters(spec)}, {OutputParameters(spec)})");
            w.Line($"int count = CountExamples({InputArguments(spec)});");
            for (int i = 0; i < spec.Outputs.Count; i++)
            {
                w.Line($"CheckLength({OutputParameter(spec, i)}.Length, count * {OutputSizeConstant(spec, i)}, nameof({OutputParameter(spec, i)}), \"{OutputSizeConstant(spec, i)}\");");
            }

            w.Open("for (int start = 0; start < count; start += MaxBatchSize)");
            w.Line("int batch = global::System.Math.Min(MaxBatchSize, count - start);");
            w.Line($"ForwardChunk({InputArguments(spec)}, start, batch);");
            for (int i = 0; i < spec.Outputs.Count; i++)
            {
                string size = OutputSizeConstant(spec, i);
                w.Line($"{code.ValueSpan(spec.Outputs[i].Node)}.CopyTo({OutputParameter(spec, i)}.Slice(start * {size}, batch * {size}));");
            }

            w.Close();
            w.Close();
            w.Line();
        }

        /// <summary>CountExamples and ForwardChunk, which Predict and the evaluations run on.</summary>
        private static void WriteCountExamples(SourceWriter w, GraphSpec spec)
        {
            w.Line("/// <summary>How many whole examples the inputs hold (any number, 0 included); throws when they are not whole or disagree.</summary>");
            WriteInputCount(w, spec, "CountExamples", "count");
            w.Line();
            w.Line("/// <summary>Evaluation mode's forward pass over examples <paramref name=\"start\"/> to start + batch of inputs already counted.</summary>");
            w.Open($"private void ForwardChunk({InputParameters(spec)}, int start, int batch)");
            w.Line("_training = false;");
            w.Line($"CopyInputs({InputArguments(spec, "start")}, batch);");
            w.Line("RunForward(batch);");
            w.Close();
            w.Line();
        }
    }
}
