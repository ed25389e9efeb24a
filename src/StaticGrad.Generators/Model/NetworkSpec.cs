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
        Conv2d,
        MaxPool2d,
        AvgPool2d,
        Flatten,
        Dropout,

        /// <summary>The <c>[Input(c, h, w)]</c> attribute: it sets the shape and is never a layer of a spec.</summary>
        Input,
    }

    /// <summary>An image shape, channels × height × width (NCHW per example); <see cref="IsImage"/> is false for a plain vector.</summary>
    internal readonly record struct SpatialShape(int Channels, int Height, int Width)
    {
        public bool IsImage => Height > 0;

        public long Size => (long)Channels * Height * Width;

        public override string ToString() => $"{Channels}×{Height}×{Width}";
    }

    /// <summary>The losses a network may end with.</summary>
    internal enum LossKind
    {
        None,
        SoftmaxCrossEntropy,
        MulticlassSvm,
        MeanSquaredError,
    }

    /// <summary>
    /// One layer: its position, kind, sizes (flat features in and out), parameter layout, and for the image layers the
    /// shapes in and out and the window (kernel, stride, padding); <c>Rate</c> is Dropout's probability.
    /// </summary>
    /// <param name="Index">Position among the layers (Input is not one), as in PyTorch's nn.Sequential.</param>
    /// <param name="Kind">The catalogue entry.</param>
    /// <param name="Inputs">Flat features in (C·H·W for an image).</param>
    /// <param name="Outputs">Flat features out.</param>
    /// <param name="HasBias">Whether a parameterised layer has a bias.</param>
    /// <param name="WeightOffset">Where the weights start in the flat parameters.</param>
    /// <param name="BiasOffset">Where the bias starts.</param>
    /// <param name="HeInit">He initialisation (a ReLU follows) rather than Xavier.</param>
    /// <param name="In">The image in; default for vectors.</param>
    /// <param name="Out">The image out; default for vectors.</param>
    /// <param name="Kernel">The window's side (Conv2d, pooling).</param>
    /// <param name="Stride">The step between windows.</param>
    /// <param name="Padding">Conv2d's zero padding.</param>
    /// <param name="Rate">Dropout's probability of zeroing a value.</param>
    internal readonly record struct LayerSpec(
        int Index,
        LayerKind Kind,
        int Inputs,
        int Outputs,
        bool HasBias,
        int WeightOffset,
        int BiasOffset,
        bool HeInit,
        SpatialShape In = default,
        SpatialShape Out = default,
        int Kernel = 0,
        int Stride = 0,
        int Padding = 0,
        double Rate = 0)
    {
        /// <summary>The layer's file in the catalogue (Catalogue/Layers/…), which answers everything below.</summary>
        public Catalogue.LayerDefinition Definition => Catalogue.LayerCatalogue.Of(Kind);

        public int WeightCount => Definition.WeightCount(this);

        public int BiasCount => Definition.BiasCount(this);

        /// <summary>Inputs that feed one output: what initialisation scales by (in, or in·k·k for Conv2d).</summary>
        public int FanIn => Definition.FanIn(this);

        /// <summary>Outputs one input feeds (out, or out·k·k for Conv2d).</summary>
        public int FanOut => Definition.FanOut(this);

        /// <summary>The weights' shape as the docs give it: <c>32×64</c>, or <c>16×1×3×3</c> for Conv2d (PyTorch's order).</summary>
        public string WeightShapeText => Definition.WeightShapeText(this);

        /// <summary>Whether the layer has weights (Linear, Conv2d).</summary>
        public bool HasParameters => Definition.HasParameters;

        /// <summary>How the layer reads in attribute syntax: <c>Linear(64, 32)</c>, <c>ReLU</c>.</summary>
        public string Describe() => Definition.Describe(this);
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

                if (Layers[0].In.IsImage)
                {
                    SpatialShape input = Layers[0].In;
                    parts.Insert(0, $"Input({input.Channels}, {input.Height}, {input.Width})");
                }

                return $"{Element.Keyword()}: {string.Join(", ", parts)}";
            }
        }
    }
}
