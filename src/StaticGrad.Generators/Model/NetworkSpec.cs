using StaticGrad.Generators.Helpers;

namespace StaticGrad.Generators.Model
{
    /// <summary>The kinds of layer a sequential network holds.</summary>
    internal enum LayerKind
    {
        Linear,
        ReLU,
        Sigmoid,
        Tanh,
    }

    /// <summary>The losses a network may end with.</summary>
    internal enum LossKind
    {
        None,
        SoftmaxCrossEntropy,
        MulticlassSvm,
        MeanSquaredError,
    }

    /// <summary>One layer, as plain values.</summary>
    /// <param name="Index">Position among the network's attributes (0-based), as in PyTorch's <c>nn.Sequential</c> names.</param>
    /// <param name="Kind">What the layer computes.</param>
    /// <param name="Inputs">Features in.</param>
    /// <param name="Outputs">Features out (equal to <paramref name="Inputs"/> for activations).</param>
    /// <param name="HasBias">Linear only: whether <c>b</c> exists.</param>
    /// <param name="WeightOffset">Linear only: where W starts in the flat parameter array.</param>
    /// <param name="BiasOffset">Linear only: where b starts in the flat parameter array.</param>
    /// <param name="HeInit">Linear only: He-normal initialisation (followed by ReLU) instead of Xavier-uniform.</param>
    internal readonly record struct LayerSpec(
        int Index,
        LayerKind Kind,
        int Inputs,
        int Outputs,
        bool HasBias,
        int WeightOffset,
        int BiasOffset,
        bool HeInit)
    {
        public int WeightCount => Kind == LayerKind.Linear ? Inputs * Outputs : 0;

        public int BiasCount => Kind == LayerKind.Linear && HasBias ? Outputs : 0;

        /// <summary>How the layer reads in attribute syntax: <c>Linear(64, 32)</c>, <c>ReLU</c>.</summary>
        public string Describe() => Catalogue.LayerCatalogue.Of(Kind).Describe(this);
    }

    /// <summary>Everything the emitter needs to write one network class.</summary>
    /// <param name="Type">Where the generated code goes.</param>
    /// <param name="Element">float or double.</param>
    /// <param name="Layers">The layers in order (no loss).</param>
    /// <param name="Loss">The loss, or <see cref="LossKind.None"/>.</param>
    /// <param name="Margin">MulticlassSvm's Δ.</param>
    /// <param name="ParameterCount">Weights and biases of every Linear layer, in one flat array.</param>
    /// <param name="NullableDirective">Whether the consumer's language version accepts <c>#nullable enable</c>.</param>
    /// <param name="HasMathF">Whether <c>System.MathF</c> exists (float math without round trips through double).</param>
    /// <param name="RuntimeKernels">Whether the compilation references StaticGrad.Runtime (a .NET 8+ target): the Linear layers and the optimizer call its kernels.</param>
    internal sealed record NetworkSpec(
        TypeHierarchy Type,
        ElementKind Element,
        EquatableArray<LayerSpec> Layers,
        LossKind Loss,
        double Margin,
        int ParameterCount,
        bool NullableDirective,
        bool HasMathF,
        bool RuntimeKernels)
    {
        public int InputSize => Layers[0].Inputs;

        public int OutputSize => Layers[Layers.Count - 1].Outputs;

        /// <summary>The architecture as one line; saved files record it, and loading checks it.</summary>
        public string Architecture
        {
            get
            {
                var parts = new System.Collections.Generic.List<string>();
                foreach (var layer in Layers)
                {
                    parts.Add(layer.Describe());
                }

                if (Loss != LossKind.None)
                {
                    parts.Add(Catalogue.LayerCatalogue.Of(Loss).Describe(this));
                }

                return $"{Element.Keyword()}: {string.Join(", ", parts)}";
            }
        }
    }
}
