using System.Collections.Generic;
using System.Linq;
using StaticGrad.Generators.Helpers;

namespace StaticGrad.Generators.Graph
{
    /// <summary>Shapes per example (the batch dimension left out) and how messages name them.</summary>
    internal static class Shapes
    {
        /// <summary>Values in a shape (1 for the empty shape).</summary>
        public static int Size(IReadOnlyList<int> shape)
        {
            long size = 1;
            foreach (int d in shape)
            {
                size *= d;
            }

            return size > int.MaxValue ? int.MaxValue : (int)size;
        }

        /// <summary>Values in a shape, in 64 bits (for the array-size checks).</summary>
        public static long LongSize(IReadOnlyList<int> shape)
        {
            long size = 1;
            foreach (int d in shape)
            {
                size = System.Math.Min(size * d, long.MaxValue / 65536);
            }

            return size;
        }

        /// <summary><c>32×14×14</c>; a scalar reads <c>a scalar</c>.</summary>
        public static string Text(IReadOnlyList<int> shape) =>
            shape.Count == 0 ? "a scalar" : string.Join("×", shape.Select(d => d.ToString(System.Globalization.CultureInfo.InvariantCulture)));

        /// <summary>What dimension <paramref name="index"/> of a shape of <paramref name="rank"/> means in the usual layouts.</summary>
        public static string DimensionName(int rank, int index) => (rank, index) switch
        {
            (1, 0) => "features",
            (2, 0) => "rows",
            (2, 1) => "features",
            (3, 0) => "channels",
            (3, 1) => "height",
            (3, 2) => "width",
            (4, 0) => "dimension 0",
            _ => "the last dimension",
        };

        /// <summary>"dimension 0 (channels)".</summary>
        public static string Dimension(int rank, int index)
        {
            string name = DimensionName(rank, index);
            return name.StartsWith("dimension", System.StringComparison.Ordinal) || name.StartsWith("the", System.StringComparison.Ordinal)
                ? $"dimension {index}"
                : $"dimension {index} ({name})";
        }

        public static EquatableArray<int> Of(params int[] dims) => EquatableArray.Of(dims);
    }
}
