using System;
using System.Collections.Generic;

namespace StaticGrad.Interchange
{
    /// <summary>A float buffer of a <see cref="StateDescription"/>: state that is saved but not trained (BatchNorm's <c>running_mean</c>).</summary>
    /// <param name="Name">The name in safetensors files and PyTorch's <c>state_dict</c> (<c>bn1.running_mean</c>).</param>
    /// <param name="Offset">Where the buffer starts in the flat buffer array.</param>
    /// <param name="Shape">The shape, outermost dimension first; empty for a scalar. The description keeps a copy.</param>
    public readonly record struct BufferSpec(string Name, int Offset, int[] Shape);

    /// <summary>An int64 counter of a <see cref="StateDescription"/> (BatchNorm's <c>num_batches_tracked</c>), a scalar: shape [], dtype I64.</summary>
    /// <param name="Name">The name in safetensors files and PyTorch's <c>state_dict</c> (<c>bn1.num_batches_tracked</c>).</param>
    /// <param name="Index">Its index in the counter array.</param>
    public readonly record struct CounterSpec(string Name, int Index);

    /// <summary>
    /// The non-trainable state a model saves beside its parameters, as PyTorch's <c>state_dict()</c> holds it: float
    /// buffers in one flat array (the model's element type, like the parameters) and int64 scalar counters in a
    /// <see cref="long"/> array. <see cref="Safetensors"/> saves and loads it together with a <see cref="NetworkDescription"/>.
    /// </summary>
    public sealed class StateDescription
    {
        private readonly ParameterTensor[] _buffers;
        private readonly ParameterTensor[] _counters;
        private readonly CounterSpec[] _counterSpecs;

        /// <summary>Describes the state and checks that the buffers tile their array and the counters are numbered in order.</summary>
        /// <param name="bufferCount">The length of the flat buffer array.</param>
        /// <param name="buffers">The buffers in the array's order: each starts where the previous one ends, the first at 0, the last ending at <paramref name="bufferCount"/>.</param>
        /// <param name="counters">The counters, the one at position i with index i.</param>
        /// <exception cref="ArgumentException">A name is empty or repeated, a shape is missing or has a negative dimension, the buffers do not tile [0, <paramref name="bufferCount"/>), or a counter's index is not its position.</exception>
        public StateDescription(int bufferCount, IReadOnlyList<BufferSpec> buffers, IReadOnlyList<CounterSpec> counters)
        {
            if (buffers is null)
            {
                throw new ArgumentNullException(nameof(buffers));
            }

            if (counters is null)
            {
                throw new ArgumentNullException(nameof(counters));
            }

            var names = new HashSet<string>(StringComparer.Ordinal);
            _buffers = new ParameterTensor[buffers.Count];
            long next = 0;
            for (int i = 0; i < _buffers.Length; i++)
            {
                BufferSpec spec = buffers[i];
                _buffers[i] = TensorLayout.Tile(ref next, names, spec.Name, spec.Offset, isWeight: false, spec.Shape, "buffer", nameof(buffers));
            }

            if (next != bufferCount)
            {
                throw new ArgumentException($"The buffers take {next} elements, but the state declares {bufferCount}.", nameof(bufferCount));
            }

            _counters = new ParameterTensor[counters.Count];
            _counterSpecs = new CounterSpec[counters.Count];
            long index = 0;
            for (int i = 0; i < _counters.Length; i++)
            {
                CounterSpec spec = counters[i];
                _counters[i] = TensorLayout.Tile(ref index, names, spec.Name, spec.Index, isWeight: false, Array.Empty<int>(), "counter", nameof(counters));
                _counterSpecs[i] = spec;
            }

            BufferCount = bufferCount;
        }

        /// <summary>No buffers and no counters.</summary>
        public static StateDescription Empty { get; } = new(0, Array.Empty<BufferSpec>(), Array.Empty<CounterSpec>());

        /// <summary>The length of the flat buffer array.</summary>
        public int BufferCount { get; }

        /// <summary>The length of the counter array.</summary>
        public int CounterCount => _counters.Length;

        /// <summary>The buffers in the flat array's order (<see cref="ParameterTensor.IsWeight"/> is false).</summary>
        public IReadOnlyList<ParameterTensor> Buffers => _buffers;

        /// <summary>The counters in index order.</summary>
        public IReadOnlyList<CounterSpec> Counters => _counterSpecs;

        /// <summary>The buffers as an array.</summary>
        internal ParameterTensor[] BufferArray => _buffers;

        /// <summary>The counters as shape-[] tensors whose offset is their index.</summary>
        internal ParameterTensor[] CounterArray => _counters;
    }

    /// <summary>The checks shared by the tensor-list descriptions.</summary>
    internal static class TensorLayout
    {
        /// <summary>Checks one tensor of a list (its name, shape, and that it starts where the previous ends) and moves <paramref name="next"/> past it.</summary>
        public static ParameterTensor Tile(ref long next, HashSet<string> names, string? name, int offset, bool isWeight, int[]? shape, string kind, string parameterName)
        {
            if (string.IsNullOrEmpty(name))
            {
                throw new ArgumentException($"The {kind} at position {names.Count} has no name.", parameterName);
            }

            if (name == "__metadata__")
            {
                throw new ArgumentException($"A {kind} cannot be called '__metadata__': safetensors files use that key for their metadata.", parameterName);
            }

            if (!names.Add(name))
            {
                throw new ArgumentException($"The name '{name}' appears twice.", parameterName);
            }

            if (shape is null)
            {
                throw new ArgumentException($"The {kind} '{name}' has no shape (a scalar's shape is empty, not null).", parameterName);
            }

            long count = 1;
            foreach (int dimension in shape)
            {
                if (dimension < 0)
                {
                    throw new ArgumentException($"The {kind} '{name}' has a negative dimension in its shape [{string.Join(", ", shape)}].", parameterName);
                }

                count = Math.Min(count * dimension, (long)int.MaxValue + 1);
            }

            if (offset != next)
            {
                string where = kind == "counter" ? "has index" : "starts at";
                string previous = kind == "counter" ? $"the previous counter has index {next - 1}" : $"the previous {kind} ends at {next}";
                throw new ArgumentException($"The {kind} '{name}' {where} {offset}, but {(next == 0 ? $"the first must {(kind == "counter" ? "have index" : "start at")} 0" : previous)}: the layout must be contiguous, in list order.", parameterName);
            }

            if (next + count > int.MaxValue)
            {
                throw new ArgumentException($"The {kind} '{name}' ends past element {int.MaxValue} of the flat array.", parameterName);
            }

            next += count;
            return new ParameterTensor(name, offset, isWeight, (int[])shape.Clone());
        }
    }
}
