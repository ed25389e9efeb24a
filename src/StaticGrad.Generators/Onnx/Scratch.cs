using System;
using System.Collections.Immutable;

namespace StaticGrad.Generators.Onnx
{
    /// <summary>
    /// A growable array the reader shares between all messages of one kind: a message pushes its repeated elements, then
    /// <see cref="Pop"/> copies them out as an immutable array and drops them. One scratch per repeated field kind, so
    /// reading N messages allocates their final arrays and not N lists.
    /// </summary>
    internal sealed class Scratch<T>
    {
        private T[] _items = new T[8];

        /// <summary>How many elements are pushed.</summary>
        public int Count { get; private set; }

        public void Push(T item)
        {
            if (Count == _items.Length)
            {
                Array.Resize(ref _items, _items.Length * 2);
            }

            _items[Count++] = item;
        }

        /// <summary>The elements pushed since <see cref="Count"/> was <paramref name="start"/>, removed from the scratch.</summary>
        public ImmutableArray<T> Pop(int start)
        {
            if (Count == start)
            {
                return ImmutableArray<T>.Empty;
            }

            ImmutableArray<T> items = ImmutableArray.Create(_items, start, Count - start);
            Array.Clear(_items, start, Count - start);
            Count = start;
            return items;
        }

        /// <summary>Drops the elements pushed since <see cref="Count"/> was <paramref name="start"/>.</summary>
        public void Drop(int start)
        {
            Array.Clear(_items, start, Count - start);
            Count = start;
        }
    }
}
