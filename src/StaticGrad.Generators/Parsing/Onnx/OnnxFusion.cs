using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using StaticGrad.Generators.Onnx;

namespace StaticGrad.Generators.Parsing.Onnx
{
    /// <summary>
    /// Before the import, replaces the chains exporters write for an op ONNX gained late by that op, so the op's own
    /// <see cref="Graph.Ops.OpDefinition.ImportOnnx"/> takes them: the exact GELU (ONNX's <c>Gelu</c> arrives in opset 20), as
    /// PyTorch writes it, <c>Mul(Mul(x, Add(Erf(Div(x, √2)), 1)), 0.5)</c>, and as StaticGrad's ExportOnnx writes it,
    /// <c>Mul(Mul(x, 0.5), Add(Erf(Mul(x, 1/√2)), 1))</c>. A chain whose intermediate values something else reads is left as
    /// it is (and its <c>Erf</c> is then reported as unsupported).
    /// </summary>
    internal static class OnnxFusion
    {
        public static ImmutableArray<OnnxNode> Fuse(ImmutableArray<OnnxNode> nodes, OnnxGraph graph)
        {
            var producer = new Dictionary<string, OnnxNode>(StringComparer.Ordinal);
            var consumers = new Dictionary<string, List<OnnxNode>>(StringComparer.Ordinal);
            foreach (OnnxNode node in nodes)
            {
                foreach (string output in node.Outputs)
                {
                    producer[output] = node;
                }

                foreach (string input in node.Inputs)
                {
                    if (!consumers.TryGetValue(input, out List<OnnxNode>? list))
                    {
                        consumers[input] = list = new List<OnnxNode>();
                    }

                    list.Add(node);
                }
            }

            var graphOutputs = new HashSet<string>(graph.Outputs.Select(o => o.Name), StringComparer.Ordinal);
            var initializers = graph.Initializers.ToDictionary(t => t.Name, StringComparer.Ordinal);

            double? Scalar(string name)
            {
                OnnxTensor? tensor = initializers.TryGetValue(name, out OnnxTensor? t) ? t
                    : producer.TryGetValue(name, out OnnxNode? c) && c.OpType == "Constant" ? c.Attribute("value")?.T : null;
                if (tensor is { DataType: OnnxDataType.Float, ElementCount: 1 } && tensor.DecodeFloats() is { IsSuccess: true } values)
                {
                    return values.Value![0];
                }

                return null;
            }

            OnnxNode? Only(string value) =>
                !graphOutputs.Contains(value) && consumers.TryGetValue(value, out List<OnnxNode>? list) && list.Count == 1 ? list[0] : null;

            // The other operand of a two-input node, when one of them is `value`.
            string? Other(OnnxNode node, string value) =>
                node.Inputs.Length == 2 && node.Inputs[0] == value ? node.Inputs[1] : node.Inputs.Length == 2 && node.Inputs[1] == value ? node.Inputs[0] : null;

            bool Near(double? value, double expected) => value is double v && Math.Abs(v - expected) <= 1e-6 * Math.Abs(expected);

            var replaced = new Dictionary<OnnxNode, OnnxNode?>(); // a fused chain's Erf → its Gelu; the chain's other nodes → null
            foreach (OnnxNode erf in nodes.Where(n => n.OpType == "Erf" && n.Inputs.Length == 1 && n.Outputs.Length == 1))
            {
                if (!producer.TryGetValue(erf.Inputs[0], out OnnxNode? scale) || Only(scale.Outputs[0]) != erf || scale.Inputs.Length != 2)
                {
                    continue;
                }

                string x = scale.Inputs[0];
                bool scaled = (scale.OpType == "Div" && Near(Scalar(scale.Inputs[1]), Math.Sqrt(2))) || (scale.OpType == "Mul" && Near(Scalar(scale.Inputs[1]), 1 / Math.Sqrt(2)));
                if (!scaled || Only(erf.Outputs[0]) is not { OpType: "Add" } add || !Near(Scalar(Other(add, erf.Outputs[0]) ?? string.Empty), 1) || Only(add.Outputs[0]) is not { OpType: "Mul" } product)
                {
                    continue;
                }

                string? factor = Other(product, add.Outputs[0]);
                OnnxNode[] chain;
                string output;
                if (factor == x && Only(product.Outputs[0]) is { OpType: "Mul" } half && Near(Scalar(Other(half, product.Outputs[0]) ?? string.Empty), 0.5))
                {
                    chain = new[] { scale, erf, add, product, half }; // PyTorch: (x·(1 + erf(x/√2)))·0.5
                    output = half.Outputs[0];
                }
                else if (factor is not null && producer.TryGetValue(factor, out OnnxNode? halfX) && halfX.OpType == "Mul" && Only(factor) == product
                    && Other(halfX, x) is { } h && Near(Scalar(h), 0.5))
                {
                    chain = new[] { halfX, scale, erf, add, product }; // StaticGrad: (0.5·x)·(1 + erf(x·(1/√2)))
                    output = product.Outputs[0];
                }
                else
                {
                    continue;
                }

                var gelu = new OnnxNode(erf.Index, ImmutableArray.Create(x), ImmutableArray.Create(output), erf.Name.Length > 0 ? erf.Name : "Gelu", "Gelu", string.Empty, ImmutableArray<OnnxAttribute>.Empty);
                foreach (OnnxNode node in chain)
                {
                    replaced[node] = null;
                }

                replaced[erf] = gelu;
            }

            if (replaced.Count == 0)
            {
                return nodes;
            }

            // The Gelu goes where its chain ended, so every value it reads is defined before it.
            var result = new List<OnnxNode>();
            var pendingGelu = replaced.Where(p => p.Value is not null).ToDictionary(p => p.Value!.Outputs[0], p => p.Value!, StringComparer.Ordinal);
            foreach (OnnxNode node in nodes)
            {
                if (!replaced.ContainsKey(node))
                {
                    result.Add(node);
                    continue;
                }

                if (node.Outputs.Length > 0 && pendingGelu.TryGetValue(node.Outputs[0], out OnnxNode? gelu))
                {
                    result.Add(gelu);
                }
            }

            return result.ToImmutableArray();
        }
    }
}
