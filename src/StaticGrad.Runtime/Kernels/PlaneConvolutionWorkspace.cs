using System;
using System.Numerics;

namespace StaticGrad.Kernels
{
    /// <summary>
    /// The scratch memory of one convolution layer for <see cref="PlaneConvolution"/>: padded planes and register-tile
    /// buffers for the calling thread, allocated here, and one more region for each further thread of a
    /// <see cref="WorkerTeam"/>, allocated the first time a team of that size runs the layer (never per call). Regions past
    /// the first also hold that thread's share of the weight and bias gradients.
    /// </summary>
    /// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
    public sealed class PlaneConvolutionWorkspace<T>
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        private T[][] _parts;

        /// <summary>Allocates the calling thread's scratch for <paramref name="shape"/>.</summary>
        /// <param name="shape">The convolution this workspace serves.</param>
        /// <exception cref="ArgumentException"><paramref name="shape"/> is <c>default</c>.</exception>
        public PlaneConvolutionWorkspace(in PlaneConvolutionShape shape)
        {
            if (shape.ScratchLength == 0)
            {
                throw new ArgumentException("The shape is default(PlaneConvolutionShape); construct it with the convolution's sizes.", nameof(shape));
            }

            Shape = shape;
            _parts = new[] { new T[shape.ScratchLength] };
        }

        /// <summary>The convolution this workspace serves.</summary>
        public PlaneConvolutionShape Shape { get; }

        /// <summary>Elements held, over every thread's region (for tests and diagnostics).</summary>
        public long Length
        {
            get
            {
                long total = 0;
                foreach (T[] part in _parts)
                {
                    total += part.Length;
                }

                return total;
            }
        }

        /// <summary>Part <paramref name="part"/>'s scratch.</summary>
        internal Span<T> Part(int part) => _parts[part].AsSpan(0, Shape.ScratchLength);

        /// <summary>Part <paramref name="part"/>'s (≥ 1) own weight and bias gradients, after its scratch.</summary>
        internal Span<T> Partial(int part) => _parts[part].AsSpan(Shape.ScratchLength, Shape.WeightCount + Shape.OutChannels);

        /// <summary>Makes sure <paramref name="parts"/> regions exist; called by the calling thread before the team starts.</summary>
        internal void Prepare(int parts)
        {
            if (_parts.Length >= parts)
            {
                return;
            }

            var grown = new T[parts][];
            Array.Copy(_parts, grown, _parts.Length);
            for (int part = _parts.Length; part < parts; part++)
            {
                grown[part] = new T[Shape.ScratchLength + Shape.WeightCount + Shape.OutChannels];
            }

            _parts = grown;
        }
    }
}
