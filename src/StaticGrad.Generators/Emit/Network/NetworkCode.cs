using System.Globalization;
using StaticGrad.Generators.Model;

namespace StaticGrad.Generators.Emit.Network
{
    /// <summary>Small text helpers shared by the network emitters: the element type, literals, math calls.</summary>
    internal sealed class NetworkCode
    {
        public NetworkCode(NetworkSpec spec)
        {
            Spec = spec;
            T = spec.Element.Keyword();
            Graph = NetworkLowering.Lower(spec) is { } graph ? Emit.Graph.ModelEmitter.NetworkGraphCode(graph) : null;
        }

        public NetworkSpec Spec { get; }

        /// <summary>
        /// The network lowered onto the model graph, whose ops write its passes (with StaticGrad.Runtime); null on targets
        /// without the runtime, where each layer's definition writes its own.
        /// </summary>
        public Emit.Graph.GraphCode? Graph { get; }

        /// <summary><c>float</c> or <c>double</c>.</summary>
        public string T { get; }

        public string Span => $"global::System.Span<{T}>";

        public string ReadOnlySpan => $"global::System.ReadOnlySpan<{T}>";

        /// <summary><c>?</c> on a nullable reference type where the consumer's language version has them, else nothing.</summary>
        public string Q => Spec.NullableDirective ? "?" : string.Empty;

        /// <summary>The null-forgiving <c>!</c> where the consumer's language version has it, else nothing.</summary>
        public string Bang => Spec.NullableDirective ? "!" : string.Empty;

        /// <summary>A literal of the element type: <c>0.5f</c> or <c>0.5</c>.</summary>
        public string Literal(double value)
        {
            string text = value.ToString("R", CultureInfo.InvariantCulture);
            if (!text.Contains(".") && !text.Contains("E"))
            {
                text += ".0";
            }

            return Spec.Element == ElementKind.Float ? text + "f" : text;
        }

        /// <summary>A call of <c>Math.{name}</c> in the element type, through <c>MathF</c> for float where it exists.</summary>
        public string Math(string name, string argument) => Spec.Element switch
        {
            ElementKind.Double => $"global::System.Math.{name}({argument})",
            _ when Spec.HasMathF => $"global::System.MathF.{name}({argument})",
            _ => $"(float)global::System.Math.{name}({argument})",
        };

        /// <summary>The width of activation buffer <paramref name="boundary"/> (0 = network input, i + 1 = output of layer i).</summary>
        public int Width(int boundary) => boundary == 0 ? Spec.InputSize : Spec.Layers[boundary - 1].Outputs;

        public static string Int(int value) => value.ToString(CultureInfo.InvariantCulture);
    }
}
