using StaticGrad.Generators.Emit;
using StaticGrad.Generators.Emit.Network;
using StaticGrad.Generators.Graph.Ops;
using StaticGrad.Generators.Model;

namespace StaticGrad.Generators.Catalogue.Layers
{
    /// <summary><c>[Sigmoid]</c>: <c>y = 1 / (1 + e^(−x))</c>, never overflowing for either sign; backward <c>dX = dY·y(1 − y)</c>.</summary>
    internal sealed class SigmoidLayer : ActivationLayer
    {
        public static readonly SigmoidLayer Instance = new();

        public override LayerKind Kind => LayerKind.Sigmoid;

        public override LoweredLayer? Lower(LayerSpec layer) => LoweredLayer.Plain(SigmoidOp.Instance);

        public override string Name => "Sigmoid";

        protected override string BackwardFormula => "dX = dY · y · (1 − y)";

        protected override void WriteForwardElement(SourceWriter w, NetworkCode code)
        {
            string zero = code.Literal(0), one = code.Literal(1);
            w.Line("// 1 / (1 + e^(−x)), written so that e^(…) never overflows: for x < 0 use e^x / (1 + e^x).");
            w.Line($"{code.T} v = x[e];");
            w.Open($"if (v >= {zero})");
            w.Line($"y[e] = {one} / ({one} + {code.Math("Exp", "-v")});");
            w.Close();
            w.Open("else");
            w.Line($"{code.T} ev = {code.Math("Exp", "v")};");
            w.Line($"y[e] = ev / ({one} + ev);");
            w.Close();
        }

        protected override void WriteBackwardElement(SourceWriter w, NetworkCode code) =>
            w.Line($"dX[e] = dY[e] * y[e] * ({code.Literal(1)} - y[e]);");
    }
}
