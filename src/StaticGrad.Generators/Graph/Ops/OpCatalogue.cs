using System.Collections.Immutable;
using System.Linq;

namespace StaticGrad.Generators.Graph.Ops
{
    /// <summary>Every op a model's graph may hold, and how the front end finds one from a module class, function or tensor member.</summary>
    internal static class OpCatalogue
    {
        /// <summary>The ops, in the order the README's table lists them.</summary>
        public static readonly ImmutableArray<OpDefinition> Ops = ImmutableArray.Create<OpDefinition>(
            InputOp.Instance,
            LinearOp.Instance,
            Conv2dOp.Instance,
            BatchNormOp.OneD,
            BatchNormOp.TwoD,
            LayerNormOp.Instance,
            DropoutOp.Instance,
            ReluOp.Instance,
            GeluOp.Instance,
            SiluOp.Instance,
            SigmoidOp.Instance,
            TanhOp.Instance,
            Pool2dOp.Max,
            Pool2dOp.Average,
            AdaptiveAvgPool2dOp.Instance,
            ReshapeOp.Flatten,
            ReshapeOp.Reshape,
            TransposeOp.Instance,
            ConcatOp.Instance,
            BinaryOp.Add,
            BinaryOp.Subtract,
            BinaryOp.Multiply);

        public static OpDefinition Of(string key) => Ops.First(op => op.Key == key);

        public static OpDefinition? ForModule(string className) => Ops.FirstOrDefault(op => op.ModuleClass == className);

        public static OpDefinition? ForFunction(string name) => Ops.FirstOrDefault(op => op.Function == name);

        public static OpDefinition? ForTensorMember(string name) => Ops.FirstOrDefault(op => op.TensorMember == name);

        /// <summary>The module classes, functions and tensor members the front end understands, for the "not supported" messages.</summary>
        public static string Supported(System.Func<OpDefinition, string?> name) =>
            string.Join(", ", Ops.Select(name).Where(n => n is not null).Select(n => n!.StartsWith("op_", System.StringComparison.Ordinal) ? n.Substring(3) : n));
    }
}
