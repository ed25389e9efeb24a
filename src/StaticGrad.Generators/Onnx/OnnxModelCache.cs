using System;
using System.Collections.Generic;
using System.Collections.Immutable;

namespace StaticGrad.Generators.Onnx
{
    /// <summary>
    /// A small process-wide cache of read ONNX models, so that the generator, which runs again on every edit, reads an
    /// unchanged file's content once: keyed by the file's path and its content (compared byte for byte, or by a checksum
    /// the caller already has, such as <c>SourceText.GetChecksum()</c>). It keeps the <see cref="MaxEntries"/> most recently
    /// used results, and at most <see cref="MaxBytes"/> of file content (the models' tensors are slices of it). Errors are
    /// cached too. Thread-safe; a miss reads outside the lock (two threads may read the same file once each).
    /// </summary>
    internal static class OnnxModelCache
    {
        /// <summary>The most results kept.</summary>
        public const int MaxEntries = 8;

        /// <summary>The most file content kept, in bytes (256 MB); a larger file is read and returned but not kept.</summary>
        public const long MaxBytes = 256L << 20;

        private static readonly object Gate = new();
        private static readonly LinkedList<Entry> Entries = new(); // most recently used first
        private static long _bytes;

        /// <summary>How many lookups found their model already read (for tests).</summary>
        public static long Hits { get; private set; }

        /// <summary>How many lookups read the bytes (for tests).</summary>
        public static long Misses { get; private set; }

        /// <summary>
        /// The model in <paramref name="content"/>, read once per path and content: a later call with equal bytes (a
        /// comparison that takes about a millisecond for 10 MB) returns the same result. <paramref name="content"/> must not
        /// change afterwards (the model's tensors are slices of it).
        /// </summary>
        public static OnnxResult<OnnxModel> Read(string path, byte[]? content)
        {
            if (content is null || content.Length == 0)
            {
                return OnnxReader.Read(content);
            }

            lock (Gate)
            {
                for (LinkedListNode<Entry>? node = Entries.First; node is not null; node = node.Next)
                {
                    Entry entry = node.Value;
                    if (entry.Checksum.IsDefault && entry.Path == path && (ReferenceEquals(entry.Content, content) || entry.Content.AsSpan().SequenceEqual(content)))
                    {
                        return Hit(node);
                    }
                }

                Misses++;
            }

            OnnxResult<OnnxModel> result = OnnxReader.Read(content);
            Add(new Entry(path, default, content, result));
            return result;
        }

        /// <summary>
        /// The model of the file at <paramref name="path"/> whose content has <paramref name="checksum"/> (a hash of the
        /// bytes, e.g. <c>SourceText.GetChecksum()</c>): <paramref name="content"/> is called only when no result for that
        /// path and checksum is kept, so an unchanged file costs a lookup.
        /// </summary>
        public static OnnxResult<OnnxModel> Read(string path, ImmutableArray<byte> checksum, Func<byte[]?> content)
        {
            if (checksum.IsDefaultOrEmpty)
            {
                return Read(path, content());
            }

            lock (Gate)
            {
                for (LinkedListNode<Entry>? node = Entries.First; node is not null; node = node.Next)
                {
                    Entry entry = node.Value;
                    if (!entry.Checksum.IsDefault && entry.Path == path && entry.Checksum.AsSpan().SequenceEqual(checksum.AsSpan()))
                    {
                        return Hit(node);
                    }
                }

                Misses++;
            }

            byte[]? bytes = content();
            if (bytes is null || bytes.Length == 0)
            {
                return OnnxReader.Read(bytes);
            }

            OnnxResult<OnnxModel> result = OnnxReader.Read(bytes);
            Add(new Entry(path, checksum, bytes, result));
            return result;
        }

        /// <summary>Forgets every result (for tests).</summary>
        public static void Clear()
        {
            lock (Gate)
            {
                Entries.Clear();
                _bytes = 0;
                Hits = 0;
                Misses = 0;
            }
        }

        /// <summary>How many results are kept.</summary>
        public static int Count
        {
            get
            {
                lock (Gate)
                {
                    return Entries.Count;
                }
            }
        }

        private static OnnxResult<OnnxModel> Hit(LinkedListNode<Entry> node)
        {
            Hits++;
            Entries.Remove(node);
            Entries.AddFirst(node);
            return node.Value.Result;
        }

        private static void Add(Entry entry)
        {
            if (entry.Content.Length > MaxBytes)
            {
                return;
            }

            lock (Gate)
            {
                // A newer content of the same path replaces the older one: an edited file's old model is of no more use.
                for (LinkedListNode<Entry>? node = Entries.First; node is not null;)
                {
                    LinkedListNode<Entry>? next = node.Next;
                    if (node.Value.Path == entry.Path)
                    {
                        _bytes -= node.Value.Content.Length;
                        Entries.Remove(node);
                    }

                    node = next;
                }

                Entries.AddFirst(entry);
                _bytes += entry.Content.Length;
                while (Entries.Count > MaxEntries || _bytes > MaxBytes)
                {
                    _bytes -= Entries.Last!.Value.Content.Length;
                    Entries.RemoveLast();
                }
            }
        }

        private sealed class Entry
        {
            public Entry(string path, ImmutableArray<byte> checksum, byte[] content, OnnxResult<OnnxModel> result)
            {
                Path = path;
                Checksum = checksum;
                Content = content;
                Result = result;
            }

            public string Path { get; }

            public ImmutableArray<byte> Checksum { get; }

            public byte[] Content { get; }

            public OnnxResult<OnnxModel> Result { get; }
        }
    }
}
