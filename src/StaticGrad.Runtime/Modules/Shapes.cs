using System;
using System.Text;

namespace StaticGrad
{
    /// <summary>Formatting and index helpers for per-example shapes.</summary>
    internal static class Shapes
    {
        /// <summary>A shape as <c>32×14×14</c>.</summary>
        public static string Format(ReadOnlySpan<int> shape)
        {
            var text = new StringBuilder();
            for (int i = 0; i < shape.Length; i++)
            {
                if (i > 0) text.Append('×');
                text.Append(shape[i]);
            }

            return text.ToString();
        }

        /// <summary>A shape that may hold invalid sizes, as <c>[2, -1, 3]</c>.</summary>
        public static string FormatRaw(int[] shape) => "[" + string.Join(", ", shape) + "]";

        /// <summary>The product of the sizes.</summary>
        public static int Product(ReadOnlySpan<int> shape)
        {
            int product = 1;
            foreach (int size in shape) product *= size;
            return product;
        }

        /// <summary>Resolves a possibly negative per-example dimension.</summary>
        public static int Dimension(int dimension, ReadOnlySpan<int> shape, string paramName)
        {
            int rank = shape.Length;
            int resolved = dimension < 0 ? dimension + rank : dimension;
            if (resolved < 0 || resolved >= rank)
                throw new ArgumentOutOfRangeException(paramName, dimension,
                    $"Dimension {dimension} is out of range for a rank-{rank} example of shape {Format(shape)} (use 0 to {rank - 1}, or −{rank} to −1).");
            return resolved;
        }

        /// <summary>The shape with leading sizes of 1 up to 4 dimensions.</summary>
        public static int[] Pad4(ReadOnlySpan<int> shape)
        {
            int[] padded = { 1, 1, 1, 1 };
            for (int i = 0; i < shape.Length; i++) padded[4 - shape.Length + i] = shape[i];
            return padded;
        }

        /// <summary>Row-major strides of the shape padded to 4 dimensions.</summary>
        public static int[] Pad4Strides(ReadOnlySpan<int> shape)
        {
            int[] size = Pad4(shape);
            int[] strides = new int[4];
            int stride = 1;
            for (int d = 3; d >= 0; d--)
            {
                strides[d] = stride;
                stride *= size[d];
            }

            return strides;
        }
    }
}
