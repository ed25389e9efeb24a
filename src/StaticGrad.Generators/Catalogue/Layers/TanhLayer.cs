using StaticGrad.Generators.Emit;
using StaticGrad.Generators.Emit.Network;
using StaticGrad.Generators.Graph.Ops;
using StaticGrad.Generators.Model;

namespace StaticGrad.Generators.Catalogue.Layers
{
    /// <summary><c>[Tanh]</c>: <c>y = tanh(x)</c>; backward <c>dX = dY·(1 − y²)</c>.</summary>
    internal sealed class TanhLayer : ActivationLayer
    {
        public static readonly TanhLayer Instance = new();

        public override LayerKind Kind => LayerKind.Tanh;

        public override LoweredLayer? Lower(LayerSpec layer) => LoweredLayer.Plain(TanhOp.Instance);

        public override string Name => "Tanh";

        protected override string BackwardFormula => "dX = dY · (1 − y²)";

        protected override void WriteForwardElement(SourceWriter w, NetworkCode code) =>
            w.Line($"y[e] = {code.Math("Tanh", "x[e]")};");

        protected override void WriteBackwardElement(SourceWriter w, NetworkCode code) =>
            w.Line($"dX[e] = dY[e] * ({code.Literal(1)} - (y[e] * y[e]));");
    }
}
