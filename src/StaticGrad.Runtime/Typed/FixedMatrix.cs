using System;

namespace StaticGrad.Typed
{
    /// <summary>
    /// The storage and accessors of a generated fixed-shape matrix (<c>Scores.WMatrix</c>, …): a row-major array on the heap,
    /// a by-reference indexer and spans. Each generated matrix type derives from this once per operand, so a W cannot be
    /// passed where an X is expected, while the code lives here once.
    /// </summary>
    /// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
    public abstract class FixedMatrix<T>
        where T : unmanaged
    {
        private readonly T[] _elements;
        private readonly int _rows;
        private readonly int _columns;

        /// <summary>Creates a matrix of zeros.</summary>
        /// <param name="rows">Rows, positive.</param>
        /// <param name="columns">Columns, positive.</param>
        protected FixedMatrix(int rows, int columns)
        {
            _rows = rows;
            _columns = columns;
            _elements = new T[rows * columns];
        }

        /// <summary>Creates a matrix holding a copy of <paramref name="values"/>, row-major.</summary>
        /// <param name="rows">Rows, positive.</param>
        /// <param name="columns">Columns, positive.</param>
        /// <param name="values">rows × columns elements.</param>
        /// <param name="operand">The operand's name for the error message (W, X, D, …).</param>
        /// <exception cref="ArgumentException"><paramref name="values"/> does not hold rows × columns elements.</exception>
        protected FixedMatrix(int rows, int columns, ReadOnlySpan<T> values, string operand)
        {
            if (values.Length != rows * columns)
            {
                throw new ArgumentException($"{operand} must be {rows}×{columns} = {rows * columns} elements (row-major), but the span has length {values.Length}.", nameof(values));
            }

            _rows = rows;
            _columns = columns;
            _elements = values.ToArray();
        }

        /// <summary>The element at <paramref name="row"/>, <paramref name="column"/>, by reference.</summary>
        /// <param name="row">Zero-based row.</param>
        /// <param name="column">Zero-based column.</param>
        /// <exception cref="ArgumentOutOfRangeException">An index is outside the matrix.</exception>
        public ref T this[int row, int column]
        {
            get
            {
                if ((uint)row >= (uint)_rows)
                {
                    throw new ArgumentOutOfRangeException(nameof(row), row, $"Row must be at least 0 and less than {_rows}.");
                }

                if ((uint)column >= (uint)_columns)
                {
                    throw new ArgumentOutOfRangeException(nameof(column), column, $"Column must be at least 0 and less than {_columns}.");
                }

                return ref _elements[(row * _columns) + column];
            }
        }

        /// <summary>The elements, row-major, writable.</summary>
        public Span<T> AsSpan() => _elements;

        /// <summary>The elements, row-major, read-only.</summary>
        public ReadOnlySpan<T> AsReadOnlySpan() => _elements;
    }

    /// <summary>
    /// The storage and accessors of a generated fixed-width vector (a network's <c>InputVector</c> and <c>OutputVector</c>).
    /// </summary>
    /// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
    public abstract class FixedVector<T>
        where T : unmanaged
    {
        private readonly T[] _elements;

        /// <summary>Creates a vector of zeros.</summary>
        /// <param name="length">Values, positive.</param>
        protected FixedVector(int length) => _elements = new T[length];

        /// <summary>Creates a vector holding a copy of <paramref name="values"/>.</summary>
        /// <param name="length">Values, positive.</param>
        /// <param name="values"><paramref name="length"/> values.</param>
        /// <exception cref="ArgumentException"><paramref name="values"/> does not hold <paramref name="length"/> values.</exception>
        protected FixedVector(int length, ReadOnlySpan<T> values)
        {
            if (values.Length != length)
            {
                throw new ArgumentException($"values must hold {length} values, but has length {values.Length}.", nameof(values));
            }

            _elements = values.ToArray();
        }

        /// <summary>The value at <paramref name="index"/>, by reference.</summary>
        /// <param name="index">Zero-based, less than the length.</param>
        /// <exception cref="IndexOutOfRangeException"><paramref name="index"/> is outside the vector.</exception>
        public ref T this[int index] => ref _elements[index];

        /// <summary>The values, writable.</summary>
        public Span<T> AsSpan() => _elements;

        /// <summary>The values, read-only.</summary>
        public ReadOnlySpan<T> AsReadOnlySpan() => _elements;
    }
}
