using StaticGrad.Generators.Diagnostics;
using StaticGrad.Generators.Emit;
using StaticGrad.Generators.Emit.Network;
using StaticGrad.Generators.Model;
using StaticGrad.Generators.Parsing;

namespace StaticGrad.Generators.Catalogue.Losses
{
    /// <summary><c>[MulticlassSvm(Margin = 1)]</c>: CS231n's multiclass hinge loss, mean over the batch.</summary>
    internal sealed class MulticlassSvmLoss : LossDefinition
    {
        public static readonly MulticlassSvmLoss Instance = new();

        public override LossKind Kind => LossKind.MulticlassSvm;

        public override string Name => "MulticlassSvm";

        /// <summary><c>Margin</c>: positive and finite (SGR0013 on the argument otherwise).</summary>
        public override double ParseMargin(NetworkChain chain, NetworkEntry entry)
        {
            double margin = 1.0;
            foreach (var named in entry.Data.NamedArguments)
            {
                if (named.Key == "Margin" && named.Value.Value is double value)
                {
                    margin = value;
                    if (!(value > 0) || double.IsInfinity(value))
                    {
                        chain.Sink.Report(
                            DiagnosticDescriptors.InvalidLossSetting,
                            AttributeArguments.NamedLocation(entry.Syntax, "Margin") ?? entry.Location,
                            "MulticlassSvm Margin",
                            value.ToString("R", System.Globalization.CultureInfo.InvariantCulture));
                    }
                }
            }

            return margin;
        }

        public override string Describe(NetworkSpec spec) =>
            $"MulticlassSvm(Margin = {spec.Margin.ToString("R", System.Globalization.CultureInfo.InvariantCulture)})";

        public override string Formula(NetworkCode code) =>
            $"L = (1/B) Σ_b Σ_(j≠y) max(0, z_j − z_y + Δ), Δ = {code.Literal(code.Spec.Margin)}; dz_j = [margin_j > 0] / B, dz_y = −(count of positive margins) / B";

        public override void WriteLoss(SourceWriter w, NetworkCode code)
        {
            string t = code.T;
            int n = code.Spec.OutputSize;
            w.Line($"{t} scale = {code.Literal(1)} / batch;");
            w.Line($"{t} margin = {code.Literal(code.Spec.Margin)};");
            w.Open("for (int b = 0; b < batch; b++)");
            w.Line($"{code.ReadOnlySpan} z = outputs.Slice(b * {n}, {n});");
            w.Line("int label = labels[b];");
            w.Line("int positive = 0;");
            w.Open($"for (int j = 0; j < {n}; j++)");
            w.Line($"{t} m = j == label ? {code.Literal(0)} : z[j] - z[label] + margin;");
            w.Open($"if (m > {code.Literal(0)})");
            w.Line("total += m;");
            w.Line("positive++;");
            w.Close();
            w.Line();
            w.Open("if (withGradient)");
            w.Line($"outputGradients[(b * {n}) + j] = m > {code.Literal(0)} ? scale : {code.Literal(0)};");
            w.Close();
            w.Close();
            w.Line();
            w.Open("if (withGradient)");
            w.Line($"outputGradients[(b * {n}) + label] = -positive * scale;");
            w.Close();
            w.Close();
            w.Line();
            w.Line($"return ({t})(total / batch);");
        }
    }
}
