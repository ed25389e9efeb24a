using System;
using System.Collections;
using System.Collections.Generic;
using System.Collections.Immutable;

namespace StaticGrad.Generators.Helpers
{
    /// <summary>
    /// An immutable array that compares by content, so pipeline models that hold one stay cacheable.
    /// </summary>
    internal readonly struct EquatableArray<T> : IEquatable<EquatableArray<T>>, IReadOnlyList<T>
        where T : IEquatable<T>
    {
        private readonly ImmutableArray<T> _items;

        public EquatableArray(ImmutableArray<T> items) => _items = items;

        public int Count => _items.IsDefault ? 0 : _items.Length;

        public T this[int index] => _items[index];

        public bool Equals(EquatableArray<T> other)
        {
            if (Count != other.Count)
            {
                return false;
            }

            for (int i = 0; i < Count; i++)
            {
                if (!EqualityComparer<T>.Default.Equals(_items[i], other._items[i]))
                {
                    return false;
                }
            }

            return true;
        }

        public override bool Equals(object? obj) => obj is EquatableArray<T> other && Equals(other);

        public override int GetHashCode()
        {
            int hash = 17;
            for (int i = 0; i < Count; i++)
            {
                hash = unchecked((hash * 31) + EqualityComparer<T>.Default.GetHashCode(_items[i]));
            }

            return hash;
        }

        public IEnumerator<T> GetEnumerator() =>
            ((IEnumerable<T>)(_items.IsDefault ? ImmutableArray<T>.Empty : _items)).GetEnumerator();

        IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

        public static bool operator ==(EquatableArray<T> left, EquatableArray<T> right) => left.Equals(right);

        public static bool operator !=(EquatableArray<T> left, EquatableArray<T> right) => !left.Equals(right);
    }
}

namespace StaticGrad.Generators.Helpers
{
    /// <summary>Builds <see cref="EquatableArray{T}"/> values.</summary>
    internal static class EquatableArray
    {
        public static EquatableArray<T> Empty<T>()
            where T : System.IEquatable<T> => new(System.Collections.Immutable.ImmutableArray<T>.Empty);

        public static EquatableArray<T> Of<T>(params T[] items)
            where T : System.IEquatable<T> => new(System.Collections.Immutable.ImmutableArray.Create(items));

        public static EquatableArray<T> From<T>(System.Collections.Generic.IEnumerable<T> items)
            where T : System.IEquatable<T> => new(System.Collections.Immutable.ImmutableArray.CreateRange(items));
    }
}
