using StaticGrad.Generators.Emit;
using StaticGrad.Generators.Emit.Network;
using StaticGrad.Generators.Graph.Ops;
using StaticGrad.Generators.Model;

namespace StaticGrad.Generators.Catalogue.Layers
{
    /// <summary><c>[ReLU]</c>: <c>y = max(0, x)</c>; backward <c>dX = dY·[y &gt; 0]</c>. A Linear layer before it gets He initialisation.</summary>
    internal sealed class ReLULayer : ActivationLayer
    {
        public static readonly ReLULayer Instance = new();

        public override LayerKind Kind => LayerKind.ReLU;

        public override LoweredLayer? Lower(LayerSpec layer) => LoweredLayer.Plain(ReluOp.Instance);

        public override string Name => "ReLU";

        /// <summary>He et al.'s rule for the weights before a ReLU (half the values are zeroed).</summary>
        public override bool WantsHeInitialisation => true;

        protected override string BackwardFormula => "dX = dY · [y > 0] (y > 0 exactly where x > 0)";

        protected override void WriteForwardElement(SourceWriter w, NetworkCode code)
        {
            string zero = code.Literal(0);
            w.Line($"y[e] = x[e] < {zero} ? {zero} : x[e]; // max(0, x); a NaN stays NaN, as in PyTorch");
        }

        protected override void WriteBackwardElement(SourceWriter w, NetworkCode code)
        {
            string zero = code.Literal(0);
            w.Line($"dX[e] = y[e] > {zero} ? dY[e] : {zero};");
        }
    }
}
