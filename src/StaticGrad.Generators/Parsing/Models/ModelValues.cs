using System.Collections.Generic;
using Microsoft.CodeAnalysis;
using StaticGrad.Generators.Graph;
using StaticGrad.Generators.Graph.Ops;

namespace StaticGrad.Generators.Parsing.Models
{
    /// <summary>What an expression of a module's constructor or forward pass evaluates to while the front end reads it.</summary>
    internal abstract class ModelValue
    {
        /// <summary>How the value reads in messages: <c>a tensor of 32×14×14</c>, <c>the int 3</c>.</summary>
        public abstract string Describe();
    }

    /// <summary>A compile-time constant: an int, a real number, a bool, a string or null.</summary>
    internal sealed class ConstantModelValue : ModelValue
    {
        public ConstantModelValue(object? value) => Value = value;

        public object? Value { get; }

        public override string Describe() => Value switch
        {
            null => "null",
            string text => $"\"{text}\"",
            bool flag => flag ? "true" : "false",
            _ => System.Convert.ToString(Value, System.Globalization.CultureInfo.InvariantCulture) ?? "?",
        };
    }

    /// <summary>A tensor: the value of a node of the graph.</summary>
    internal sealed class TensorModelValue : ModelValue
    {
        public TensorModelValue(int node, Helpers.EquatableArray<int> shape)
        {
            Node = node;
            Shape = shape;
        }

        public int Node { get; }

        public Helpers.EquatableArray<int> Shape { get; }

        public override string Describe() => $"a tensor of {Shapes.Text(Shape)}";
    }

    /// <summary>A module object: a StaticGrad module (an op with settings) or an instance of a <c>[Module]</c> class (its fields).</summary>
    internal sealed class ModuleModelValue : ModelValue
    {
        private ModuleModelValue(INamedTypeSymbol type, OpDefinition? op, OpSettings settings, string display)
        {
            Type = type;
            Op = op;
            Settings = settings;
            Display = display;
        }

        public static ModuleModelValue BuiltIn(INamedTypeSymbol type, OpDefinition op, OpSettings settings) => new(type, op, settings, op.Describe(settings));

        public static ModuleModelValue User(INamedTypeSymbol type) => new(type, null, OpSettings.None, type.Name);

        public INamedTypeSymbol Type { get; }

        /// <summary>The op of a StaticGrad module; null for a <c>[Module]</c> class.</summary>
        public OpDefinition? Op { get; }

        public OpSettings Settings { get; }

        public string Display { get; }

        /// <summary>PyTorch's dotted name, set when the module is first stored in a field (null until then).</summary>
        public string? Path { get; set; }

        /// <summary>The module's index among the model's stateful modules, once registered (−1 before).</summary>
        public int Index { get; set; } = -1;

        /// <summary>Where each constructor argument of a StaticGrad module is written (by parameter name), for code fixes.</summary>
        public Dictionary<string, Location> Arguments { get; } = new();

        /// <summary>The fields of a <c>[Module]</c> instance.</summary>
        public Dictionary<IFieldSymbol, ModelValue> Fields { get; } = new(SymbolEqualityComparer.Default);

        public override string Describe() => Path is null ? Display : $"{Path} ({Display})";
    }

    /// <summary>An array (of modules, or of ints).</summary>
    internal sealed class ArrayModelValue : ModelValue
    {
        public ArrayModelValue(List<ModelValue?> items) => Items = items;

        public List<ModelValue?> Items { get; }

        /// <summary>The dotted name of the field holding the array, once stored.</summary>
        public string? Path { get; set; }

        public override string Describe() => $"an array of {Items.Count}";
    }

    /// <summary>A C# tuple of values: what a recurrent module's Forward returns, or a helper's <c>return (a, b);</c>.</summary>
    internal sealed class TupleModelValue : ModelValue
    {
        public TupleModelValue(List<ModelValue> items) => Items = items;

        public List<ModelValue> Items { get; }

        public override string Describe() => $"a tuple of {Items.Count}";
    }
}
