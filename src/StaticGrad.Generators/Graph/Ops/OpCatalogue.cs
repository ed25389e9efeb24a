using System;
using System.Collections.Immutable;
using System.Linq;
using System.Reflection;

namespace StaticGrad.Generators.Graph.Ops
{
    /// <summary>
    /// Every op a model's graph may hold, and how the front end finds one from a module class, function or tensor member.
    /// The ops are found, not listed: every public static field of an <see cref="OpDefinition"/> subclass that holds one
    /// (<c>LinearOp.Instance</c>, <c>BinaryOp.Add</c>) is an op, so adding an op touches its own file only.
    /// </summary>
    internal static class OpCatalogue
    {
        /// <summary>The ops, ordered by key.</summary>
        public static readonly ImmutableArray<OpDefinition> Ops = typeof(OpDefinition).Assembly.GetTypes()
            .Where(type => typeof(OpDefinition).IsAssignableFrom(type) && !type.IsAbstract)
            .SelectMany(type => type.GetFields(BindingFlags.Public | BindingFlags.Static))
            .Where(field => typeof(OpDefinition).IsAssignableFrom(field.FieldType))
            .Select(field => (OpDefinition)field.GetValue(null)!)
            .Distinct()
            .OrderBy(op => op.Key, StringComparer.Ordinal)
            .ToImmutableArray();

        public static OpDefinition Of(string key) => Ops.First(op => op.Key == key);

        public static OpDefinition? ForModule(string className) => Ops.FirstOrDefault(op => op.ModuleClass == className);

        public static OpDefinition? ForFunction(string name) => Ops.FirstOrDefault(op => op.Function == name);

        public static OpDefinition? ForTensorMember(string name) => Ops.FirstOrDefault(op => op.TensorMember == name);

        /// <summary>The op that imports the ONNX operator type <paramref name="opType"/> (<c>Conv</c>), or null.</summary>
        public static OpDefinition? ForOnnx(string opType) => Ops.FirstOrDefault(op => op.OnnxImports.Contains(opType));

        /// <summary>Every ONNX operator type some op imports, sorted.</summary>
        public static ImmutableArray<string> OnnxOpTypes { get; } = Ops.SelectMany(op => op.OnnxImports).Distinct().OrderBy(t => t, StringComparer.Ordinal).ToImmutableArray();

        /// <summary>The module classes, functions and tensor members the front end understands, for the "not supported" messages.</summary>
        public static string Supported(Func<OpDefinition, string?> name) =>
            string.Join(", ", Ops.Select(name).Where(n => n is not null).Select(n => n!.StartsWith("op_", StringComparison.Ordinal) ? n.Substring(3) : n));
    }
}
