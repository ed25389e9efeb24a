using System;
using System.Numerics.Tensors;
using MathNet.Numerics.LinearAlgebra;

namespace StaticGrad.Benchmarks;

/// <summary>Forward + Backward of D = W·X written the way each peer would: the same three products, row-major where the peer allows.</summary>
internal static class Peers
{
    /// <summary>Plain C# loops, the textbook i-j-k order, no SIMD.</summary>
    public static void PlainLoops(int m, int k, int n, float[] w, float[] x, float[] dD, float[] d, float[] dW, float[] dX)
    {
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                float s = 0;
                for (int p = 0; p < k; p++) s += w[(i * k) + p] * x[(p * n) + j];
                d[(i * n) + j] = s;
            }
        }

        for (int i = 0; i < m; i++)
        {
            for (int p = 0; p < k; p++)
            {
                float s = 0;
                for (int j = 0; j < n; j++) s += dD[(i * n) + j] * x[(p * n) + j];
                dW[(i * k) + p] = s;
            }
        }

        for (int p = 0; p < k; p++)
        {
            for (int j = 0; j < n; j++)
            {
                float s = 0;
                for (int i = 0; i < m; i++) s += w[(i * k) + p] * dD[(i * n) + j];
                dX[(p * n) + j] = s;
            }
        }
    }

    /// <summary>System.Numerics.Tensors: rows updated with MultiplyAdd (axpy), dot products with Dot; all SIMD inside.</summary>
    public static void TensorPrimitivesRows(int m, int k, int n, float[] w, float[] x, float[] dD, float[] d, float[] dW, float[] dX)
    {
        for (int i = 0; i < m; i++)
        {
            Span<float> dRow = d.AsSpan(i * n, n);
            dRow.Clear();
            for (int p = 0; p < k; p++)
            {
                TensorPrimitives.MultiplyAdd(x.AsSpan(p * n, n), w[(i * k) + p], dRow, dRow);
            }
        }

        for (int i = 0; i < m; i++)
        {
            ReadOnlySpan<float> dDRow = dD.AsSpan(i * n, n);
            for (int p = 0; p < k; p++)
            {
                dW[(i * k) + p] = TensorPrimitives.Dot(dDRow, x.AsSpan(p * n, n));
            }
        }

        Array.Clear(dX);
        for (int i = 0; i < m; i++)
        {
            ReadOnlySpan<float> dDRow = dD.AsSpan(i * n, n);
            for (int p = 0; p < k; p++)
            {
                Span<float> dXRow = dX.AsSpan(p * n, n);
                TensorPrimitives.MultiplyAdd(dDRow, w[(i * k) + p], dXRow, dXRow);
            }
        }
    }

    /// <summary>MathNet.Numerics with its managed provider, into preallocated matrices (it is column-major).</summary>
    public sealed class MathNet
    {
        private readonly Matrix<float> _w, _x, _dD, _d, _dW, _dX;

        public MathNet(int m, int k, int n, float[] w, float[] x, float[] dD)
        {
            _w = Matrix<float>.Build.Dense(m, k, (i, j) => w[(i * k) + j]);
            _x = Matrix<float>.Build.Dense(k, n, (i, j) => x[(i * n) + j]);
            _dD = Matrix<float>.Build.Dense(m, n, (i, j) => dD[(i * n) + j]);
            _d = Matrix<float>.Build.Dense(m, n);
            _dW = Matrix<float>.Build.Dense(m, k);
            _dX = Matrix<float>.Build.Dense(k, n);
        }

        public void Run()
        {
            _w.Multiply(_x, _d);                   // D = W·X
            _dD.TransposeAndMultiply(_x, _dW);     // dW = dD·Xᵀ
            _w.TransposeThisAndMultiply(_dD, _dX); // dX = Wᵀ·dD
        }

        public float[] D => ToRowMajor(_d);

        public float[] DW => ToRowMajor(_dW);

        public float[] DX => ToRowMajor(_dX);

        private static float[] ToRowMajor(Matrix<float> matrix)
        {
            var result = new float[matrix.RowCount * matrix.ColumnCount];
            for (int i = 0; i < matrix.RowCount; i++)
            {
                for (int j = 0; j < matrix.ColumnCount; j++) result[(i * matrix.ColumnCount) + j] = matrix[i, j];
            }

            return result;
        }
    }
}
