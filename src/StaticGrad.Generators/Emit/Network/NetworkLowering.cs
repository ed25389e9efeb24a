using System.Collections.Generic;
using StaticGrad.Generators.Catalogue;
using StaticGrad.Generators.Graph;
using StaticGrad.Generators.Graph.Ops;
using StaticGrad.Generators.Helpers;
using StaticGrad.Generators.Model;

namespace StaticGrad.Generators.Emit.Network
{
    /// <summary>
    /// Lowers an attribute network (<c>[Linear(784, 128), ReLU, …]</c>) onto the model graph: node 0 is the input, node
    /// i + 1 is layer i as the op its definition names (<see cref="LayerDefinition.Lower"/>), and the parameters keep the
    /// network's flat layout (for each layer with weights, W then b), named as PyTorch names an <c>nn.Sequential</c>'s
    /// (<c>0.weight</c>). The network's passes are then written by the ops (Graph/Ops/…), as a <c>[Model]</c>'s are;
    /// its public members, initialisation, loss, files and ONNX export stay the network's own.
    /// </summary>
    internal static class NetworkLowering
    {
        /// <summary>
        /// The graph of <paramref name="spec"/>, or null where the network keeps its layers' own writers: a target without
        /// StaticGrad.Runtime (netstandard2.0), or (not expected) a layer whose op disagrees with it on shape or state.
        /// </summary>
        public static GraphSpec? Lower(NetworkSpec spec)
        {
            if (!spec.RuntimeKernels || spec.Layers.Count == 0)
            {
                return null;
            }

            SpatialShape first = spec.Layers[0].In;
            EquatableArray<int> inputShape = first.IsImage ? Shapes.Of(first.Channels, first.Height, first.Width) : Shapes.Of(spec.InputSize);
            var nodes = new List<GraphNode>
            {
                new(0, InputOp.Instance.Key, EquatableArray.Empty<int>(), inputShape, new OpSettings(inputShape, EquatableArray.Empty<double>(), string.Empty), -1, "the network's input"),
            };
            var modules = new List<ModuleEntry>();
            var parameters = new List<StateTensor>();
            int offset = 0;
            foreach (LayerSpec layer in spec.Layers)
            {
                if (layer.Definition.Lower(layer) is not { } lowered)
                {
                    return null;
                }

                var errors = new ShapeErrors();
                EquatableArray<int>? shape = lowered.Op.InferShape(lowered.Settings, new[] { nodes[nodes.Count - 1].Shape }, errors);
                if (shape is not { } output || errors.Any || Shapes.Size(output) != layer.Outputs)
                {
                    return null;
                }

                int module = -1;
                foreach (StateDeclaration declaration in lowered.Op.State(lowered.Settings))
                {
                    int expected = declaration.Name == "weight" ? layer.WeightOffset : declaration.Name == "bias" ? layer.BiasOffset : -1;
                    if (declaration.Kind != StateKind.Parameter || expected != offset)
                    {
                        return null;
                    }

                    if (module < 0)
                    {
                        module = modules.Count;
                        modules.Add(new ModuleEntry(Index(layer), lowered.Op.Key, lowered.Settings, layer.Describe()));
                    }

                    parameters.Add(new StateTensor($"{Index(layer)}.{declaration.Name}", declaration.Shape, offset, declaration.IsWeight, declaration.Init, declaration.FanIn));
                    offset += Shapes.Size(declaration.Shape);
                }

                nodes.Add(new GraphNode(layer.Index + 1, lowered.Op.Key, EquatableArray.Of(layer.Index), output, lowered.Settings, module, $"layer {Index(layer)}, {layer.Describe()}"));
            }

            if (offset != spec.ParameterCount)
            {
                return null;
            }

            return new GraphSpec(
                spec.Type,
                EquatableArray.Of(new GraphInput("inputs", inputShape, 0, Tokens: false)),
                EquatableArray.Of(nodes.ToArray()),
                EquatableArray.Of(new GraphOutput("outputs", spec.Layers.Count)),
                EquatableArray.Of(modules.ToArray()),
                EquatableArray.Of(parameters.ToArray()),
                EquatableArray.Empty<StateTensor>(),
                EquatableArray.Empty<StateTensor>(),
                LossKind.None,
                HasUserConstructor: false,
                spec.NullableDirective)
            {
                Element = spec.Element,
            };
        }

        private static string Index(LayerSpec layer) => layer.Index.ToString(System.Globalization.CultureInfo.InvariantCulture);

        /// <summary>Collects what an op's shape rule reports; the network's parser has checked the chain, so any report means "do not lower".</summary>
        private sealed class ShapeErrors : IShapeErrors
        {
            public bool Any { get; private set; }

            public void Error(string message) => Any = true;

            public void Error(string message, string argument, int expected) => Any = true;
        }
    }
}
