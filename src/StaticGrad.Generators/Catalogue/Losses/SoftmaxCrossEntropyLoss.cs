using StaticGrad.Generators.Emit;
using StaticGrad.Generators.Emit.Network;
using StaticGrad.Generators.Model;

namespace StaticGrad.Generators.Catalogue.Losses
{
    /// <summary><c>[SoftmaxCrossEntropy]</c>: PyTorch's <c>nn.CrossEntropyLoss()</c> on the scores, mean over the batch.</summary>
    internal sealed class SoftmaxCrossEntropyLoss : LossDefinition
    {
        public static readonly SoftmaxCrossEntropyLoss Instance = new();

        public override LossKind Kind => LossKind.SoftmaxCrossEntropy;

        public override string Name => "SoftmaxCrossEntropy";

        public override string Formula(NetworkCode code) =>
            "L = −(1/B) Σ_b log softmax(z_b)[label_b]; dz = (softmax(z) − onehot(label)) / B";

        public override bool HasProbabilities => true;

        public override string ProbabilitiesText => "the softmax, <c>exp(z_j − max z) / Σ_k exp(z_k − max z)</c>,";

        public override void WriteProbabilities(SourceWriter w, NetworkCode code)
        {
            string t = code.T;
            int n = code.Spec.OutputSize;
            w.Line("// softmax(z) = softmax(z − max z): no exponential overflows.");
            w.Line($"{t} max = row[0];");
            w.Open($"for (int j = 1; j < {n}; j++)");
            w.Line("if (row[j] > max) max = row[j];");
            w.Close();
            w.Line();
            w.Line($"{t} sum = 0;");
            w.Open($"for (int j = 0; j < {n}; j++)");
            w.Line($"{t} e = {code.Math("Exp", "row[j] - max")};");
            w.Line("row[j] = e;");
            w.Line("sum += e;");
            w.Close();
            w.Line();
            w.Line($"{t} inverse = {code.Literal(1)} / sum;");
            w.Open($"for (int j = 0; j < {n}; j++)");
            w.Line("row[j] *= inverse;");
            w.Close();
        }

        public override void WriteLoss(SourceWriter w, NetworkCode code)
        {
            string t = code.T;
            int n = code.Spec.OutputSize;
            w.Line($"{t} scale = {code.Literal(1)} / batch;");
            w.Open("for (int b = 0; b < batch; b++)");
            w.Line($"{code.ReadOnlySpan} z = outputs.Slice(b * {n}, {n});");
            w.Line("// Subtract the row maximum so no exponential overflows: softmax(z) = softmax(z − max z).");
            w.Line($"{t} max = z[0];");
            w.Open($"for (int j = 1; j < {n}; j++)");
            w.Line("if (z[j] > max) max = z[j];");
            w.Close();
            w.Line();
            w.Line("// Each exponential is computed once; the gradient row holds them until the sum is known.");
            w.Line($"{code.Span} g = withGradient ? outputGradients.Slice(b * {n}, {n}) : default;");
            w.Line($"{t} sum = 0;");
            w.Open($"for (int j = 0; j < {n}; j++)");
            w.Line($"{t} e = {code.Math("Exp", "z[j] - max")};");
            w.Line("sum += e;");
            w.Line("if (withGradient) g[j] = e;");
            w.Close();
            w.Line();
            w.Line("int label = labels[b];");
            w.Line($"total += {code.Math("Log", "sum")} - (z[label] - max); // −log softmax(z)[label]");
            w.Open("if (withGradient)");
            w.Line($"{t} perExample = scale / sum;");
            w.Open($"for (int j = 0; j < {n}; j++)");
            w.Line("g[j] *= perExample; // softmax(z)[j] / B");
            w.Close();
            w.Line();
            w.Line("g[label] -= scale; // (softmax − onehot) / B");
            w.Close();
            w.Close();
            w.Line();
            w.Line($"return ({t})(total / batch);");
        }
    }
}
