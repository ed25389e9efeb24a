using System.Linq;
using StaticGrad.Generators.Diagnostics;
using StaticGrad.Generators.Model;
using StaticGrad.Generators.Parsing;

namespace StaticGrad.Generators.Catalogue.Layers
{
    /// <summary>What the image layers share: they need an image in, StaticGrad.Runtime, and read int arguments.</summary>
    internal abstract class SpatialLayer : LayerDefinition
    {
        public override bool NeedsRuntime => true;

        /// <summary>The image the layer receives, or <see langword="null"/> after reporting why there is none.</summary>
        protected static SpatialShape? RequireImage(NetworkChain chain, NetworkEntry entry, string description)
        {
            if (chain.Shape is { } image)
            {
                return image;
            }

            if (chain.ChainValid)
            {
                string why = chain.HasPrevious
                    ? $"but {chain.LastDescription} produces a vector of {chain.Width}"
                    : "but nothing before it says what the image is: put [Input(channels, height, width)] first";
                chain.Sink.Report(DiagnosticDescriptors.LayerShape, entry.Location, $"{description} works on images (channels × height × width), {why}");
            }

            chain.ChainValid = false;
            return null;
        }

        /// <summary>The constructor's int arguments, or <see langword="null"/> (reported) when they are not all ints.</summary>
        protected static int[]? IntArguments(NetworkChain chain, NetworkEntry entry, int count, string usage)
        {
            if (entry.Data.ConstructorArguments.Length != count || entry.Data.ConstructorArguments.Any(a => a.Value is not int))
            {
                chain.Sink.Report(DiagnosticDescriptors.AttributeNotUsable, entry.Location, chain.Type.Name, usage);
                return null;
            }

            return entry.Data.ConstructorArguments.Select(a => (int)a.Value!).ToArray();
        }

        /// <summary>An int named argument, or <paramref name="otherwise"/>.</summary>
        protected static int Named(NetworkEntry entry, string name, int otherwise) =>
            entry.Data.NamedArguments.FirstOrDefault(n => n.Key == name).Value.Value is int value ? value : otherwise;

        /// <summary>(size − kernel) / stride + 1, as PyTorch computes a pooling output side (the remainder dropped).</summary>
        protected static int OutputSide(int size, int kernel, int stride) => ((size - kernel) / stride) + 1;
    }
}
