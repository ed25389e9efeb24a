using System;
using System.Buffers.Binary;
using System.IO;
using System.Runtime.InteropServices;
using System.Text;

namespace StaticGrad.Interchange
{
    /// <summary>
    /// The binary file of a <c>[Model]</c>'s <c>Save</c> and <c>Load</c>: its whole state (parameters, float buffers such as
    /// BatchNorm's running statistics, and counters such as <c>num_batches_tracked</c>), tied to its architecture. Little-endian:
    /// <c>"SGRM"</c>, format version (uint16), element size (byte: 4 for float, 8 for a <c>[Model&lt;double&gt;]</c>), reserved (byte, 0), architecture length (int32) and its
    /// UTF-8 text, parameter, buffer and counter counts (int32 each), the parameters and buffers (IEEE 754 bits), the
    /// counters (int64), and an FNV-1a 64-bit checksum of everything before it. Loading checks the whole file before it
    /// writes anything; saving writes a temporary file beside the target and then replaces it.
    /// </summary>
    public static class ModelFile
    {
        /// <summary>The first four bytes: <c>SGRM</c>.</summary>
        public const int Magic = 0x4D524753;

        /// <summary>The version this code writes and reads.</summary>
        public const ushort Version = 1;

        private const int HeaderSize = 4 + 2 + 1 + 1 + 4; // magic, version, element size, reserved, architecture length

        /// <summary>Saves a model's state to <paramref name="path"/> (created or replaced as a whole).</summary>
        /// <param name="path">The file.</param>
        /// <param name="architecture">The model's architecture text; <see cref="Load(string, string, Span{float}, Span{float}, Span{long})"/> accepts only the same.</param>
        /// <param name="parameters">The parameters.</param>
        /// <param name="buffers">The float buffers.</param>
        /// <param name="counters">The counters.</param>
        public static void Save(string path, string architecture, ReadOnlySpan<float> parameters, ReadOnlySpan<float> buffers, ReadOnlySpan<long> counters) =>
            AtomicFile.WriteAllBytes(path, Write(architecture, parameters, buffers, counters));

        /// <summary>Writes a model's state to <paramref name="stream"/>.</summary>
        /// <param name="stream">A writable stream.</param>
        /// <param name="architecture">The model's architecture text.</param>
        /// <param name="parameters">The parameters.</param>
        /// <param name="buffers">The float buffers.</param>
        /// <param name="counters">The counters.</param>
        public static void Save(Stream stream, string architecture, ReadOnlySpan<float> parameters, ReadOnlySpan<float> buffers, ReadOnlySpan<long> counters)
        {
            if (stream is null)
            {
                throw new ArgumentNullException(nameof(stream));
            }

            stream.Write(Write(architecture, parameters, buffers, counters));
        }

        /// <summary>
        /// Loads a state saved by <see cref="Save(string, string, ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{long})"/>
        /// into the spans, which must have the counts the file declares. Nothing is written unless the whole file checks out.
        /// </summary>
        /// <param name="path">The file.</param>
        /// <param name="architecture">The model's architecture text: the file must hold the same.</param>
        /// <param name="parameters">Receives the parameters.</param>
        /// <param name="buffers">Receives the float buffers.</param>
        /// <param name="counters">Receives the counters.</param>
        /// <exception cref="InvalidDataException">The file is not a model file, is of another architecture or version, truncated or corrupt.</exception>
        public static void Load(string path, string architecture, Span<float> parameters, Span<float> buffers, Span<long> counters)
        {
            if (path is null)
            {
                throw new ArgumentNullException(nameof(path));
            }

            Read(File.ReadAllBytes(path), $"'{path}'", architecture, parameters, buffers, counters);
        }

        /// <summary>Loads a state from <paramref name="stream"/> (read to its end); see <see cref="Load(string, string, Span{float}, Span{float}, Span{long})"/>.</summary>
        /// <param name="stream">A readable stream at the start of a saved model.</param>
        /// <param name="architecture">The model's architecture text.</param>
        /// <param name="parameters">Receives the parameters.</param>
        /// <param name="buffers">Receives the float buffers.</param>
        /// <param name="counters">Receives the counters.</param>
        /// <exception cref="InvalidDataException">The stream does not hold a model file of this architecture, or it is damaged.</exception>
        public static void Load(Stream stream, string architecture, Span<float> parameters, Span<float> buffers, Span<long> counters) =>
            Read(AtomicFile.ReadToEnd(stream), "the stream", architecture, parameters, buffers, counters);

        /// <summary>Saves the state of a <c>[Model&lt;double&gt;]</c> (element size 8); see <see cref="Save(string, string, ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{long})"/>.</summary>
        /// <param name="path">The file.</param>
        /// <param name="architecture">The model's architecture text.</param>
        /// <param name="parameters">The parameters.</param>
        /// <param name="buffers">The buffers.</param>
        /// <param name="counters">The counters.</param>
        public static void Save(string path, string architecture, ReadOnlySpan<double> parameters, ReadOnlySpan<double> buffers, ReadOnlySpan<long> counters) =>
            AtomicFile.WriteAllBytes(path, Write(architecture, parameters, buffers, counters));

        /// <summary>Writes the state of a <c>[Model&lt;double&gt;]</c> to <paramref name="stream"/>.</summary>
        /// <param name="stream">A writable stream.</param>
        /// <param name="architecture">The model's architecture text.</param>
        /// <param name="parameters">The parameters.</param>
        /// <param name="buffers">The buffers.</param>
        /// <param name="counters">The counters.</param>
        public static void Save(Stream stream, string architecture, ReadOnlySpan<double> parameters, ReadOnlySpan<double> buffers, ReadOnlySpan<long> counters)
        {
            if (stream is null)
            {
                throw new ArgumentNullException(nameof(stream));
            }

            stream.Write(Write(architecture, parameters, buffers, counters));
        }

        /// <summary>Loads the state of a <c>[Model&lt;double&gt;]</c>; a file of float values is refused (its architecture text differs too).</summary>
        /// <param name="path">The file.</param>
        /// <param name="architecture">The model's architecture text: the file must hold the same.</param>
        /// <param name="parameters">Receives the parameters.</param>
        /// <param name="buffers">Receives the buffers.</param>
        /// <param name="counters">Receives the counters.</param>
        /// <exception cref="InvalidDataException">The file is not a model file, is of another architecture or version, truncated or corrupt.</exception>
        public static void Load(string path, string architecture, Span<double> parameters, Span<double> buffers, Span<long> counters)
        {
            if (path is null)
            {
                throw new ArgumentNullException(nameof(path));
            }

            Read(File.ReadAllBytes(path), $"'{path}'", architecture, parameters, buffers, counters);
        }

        /// <summary>Loads the state of a <c>[Model&lt;double&gt;]</c> from <paramref name="stream"/> (read to its end).</summary>
        /// <param name="stream">A readable stream at the start of a saved model.</param>
        /// <param name="architecture">The model's architecture text.</param>
        /// <param name="parameters">Receives the parameters.</param>
        /// <param name="buffers">Receives the buffers.</param>
        /// <param name="counters">Receives the counters.</param>
        /// <exception cref="InvalidDataException">The stream does not hold a model file of this architecture, or it is damaged.</exception>
        public static void Load(Stream stream, string architecture, Span<double> parameters, Span<double> buffers, Span<long> counters) =>
            Read(AtomicFile.ReadToEnd(stream), "the stream", architecture, parameters, buffers, counters);

        private static byte[] Write<T>(string architecture, ReadOnlySpan<T> parameters, ReadOnlySpan<T> buffers, ReadOnlySpan<long> counters)
            where T : unmanaged
        {
            byte[] text = Encoding.UTF8.GetBytes(architecture ?? throw new ArgumentNullException(nameof(architecture)));
            int size = System.Runtime.CompilerServices.Unsafe.SizeOf<T>();
            long length = (long)HeaderSize + text.Length + 12 + ((long)size * (parameters.Length + buffers.Length)) + (8L * counters.Length) + 8;
            if (length > Array.MaxLength)
            {
                throw new ArgumentException($"The state takes {length} bytes, more than one array can hold.", nameof(parameters));
            }

            byte[] file = new byte[length];
            Span<byte> s = file;
            BinaryPrimitives.WriteInt32LittleEndian(s, Magic);
            BinaryPrimitives.WriteUInt16LittleEndian(s.Slice(4), Version);
            s[6] = (byte)size;
            BinaryPrimitives.WriteInt32LittleEndian(s.Slice(8), text.Length);
            text.CopyTo(s.Slice(HeaderSize));
            int at = HeaderSize + text.Length;
            BinaryPrimitives.WriteInt32LittleEndian(s.Slice(at), parameters.Length);
            BinaryPrimitives.WriteInt32LittleEndian(s.Slice(at + 4), buffers.Length);
            BinaryPrimitives.WriteInt32LittleEndian(s.Slice(at + 8), counters.Length);
            at += 12;
            at = WriteBits(s, at, parameters);
            at = WriteBits(s, at, buffers);

            for (int i = 0; i < counters.Length; i++, at += 8)
            {
                BinaryPrimitives.WriteInt64LittleEndian(s.Slice(at), counters[i]);
            }

            BinaryPrimitives.WriteUInt64LittleEndian(s.Slice(at), Fnv1a(s.Slice(0, at)));
            return file;
        }

        private static int WriteBits<T>(Span<byte> file, int at, ReadOnlySpan<T> values)
            where T : unmanaged
        {
            if (typeof(T) == typeof(double))
            {
                ReadOnlySpan<long> wide = MemoryMarshal.Cast<T, long>(values);
                for (int i = 0; i < wide.Length; i++, at += 8)
                {
                    BinaryPrimitives.WriteInt64LittleEndian(file.Slice(at), wide[i]);
                }

                return at;
            }

            ReadOnlySpan<int> bits = MemoryMarshal.Cast<T, int>(values);
            for (int i = 0; i < bits.Length; i++, at += 4)
            {
                BinaryPrimitives.WriteInt32LittleEndian(file.Slice(at), bits[i]);
            }

            return at;
        }

        private static int ReadBits<T>(ReadOnlySpan<byte> file, int at, Span<T> values)
            where T : unmanaged
        {
            if (typeof(T) == typeof(double))
            {
                Span<long> wide = MemoryMarshal.Cast<T, long>(values);
                for (int i = 0; i < wide.Length; i++, at += 8)
                {
                    wide[i] = BinaryPrimitives.ReadInt64LittleEndian(file.Slice(at));
                }

                return at;
            }

            Span<int> bits = MemoryMarshal.Cast<T, int>(values);
            for (int i = 0; i < bits.Length; i++, at += 4)
            {
                bits[i] = BinaryPrimitives.ReadInt32LittleEndian(file.Slice(at));
            }

            return at;
        }

        private static void Read<T>(byte[] file, string source, string architecture, Span<T> parameters, Span<T> buffers, Span<long> counters)
            where T : unmanaged
        {
            int size = System.Runtime.CompilerServices.Unsafe.SizeOf<T>();
            ReadOnlySpan<byte> s = file;
            if (s.Length < HeaderSize || BinaryPrimitives.ReadInt32LittleEndian(s) != Magic)
            {
                throw new InvalidDataException($"{source} is not a StaticGrad model file (it does not start with 'SGRM'{(s.Length >= 4 && BinaryPrimitives.ReadInt32LittleEndian(s) == 0x44524753 ? "; it is an attribute network's 'SGRD' file" : string.Empty)}).");
            }

            ushort version = BinaryPrimitives.ReadUInt16LittleEndian(s.Slice(4));
            if (version != Version)
            {
                throw new InvalidDataException($"{source} uses model file format version {version}; this code reads version {Version}.");
            }

            if (s[6] != size)
            {
                throw new InvalidDataException($"{source} holds {s[6]}-byte values, but this model uses {(size == 8 ? "double (8 bytes)" : "float (4 bytes)")}.");
            }

            int textLength = BinaryPrimitives.ReadInt32LittleEndian(s.Slice(8));
            if (textLength < 0 || textLength > s.Length - HeaderSize - 12 - 8)
            {
                throw new InvalidDataException($"{source} is truncated or corrupt: its architecture text is cut off.");
            }

            string stored = Encoding.UTF8.GetString(file, HeaderSize, textLength);
            if (stored != architecture)
            {
                throw new InvalidDataException($"{source} holds a model of architecture '{stored}', but this model is '{architecture}'.");
            }

            int at = HeaderSize + textLength;
            int p = BinaryPrimitives.ReadInt32LittleEndian(s.Slice(at)), b = BinaryPrimitives.ReadInt32LittleEndian(s.Slice(at + 4)), c = BinaryPrimitives.ReadInt32LittleEndian(s.Slice(at + 8));
            if (p != parameters.Length || b != buffers.Length || c != counters.Length)
            {
                throw new InvalidDataException($"{source} is corrupt: it declares {p} parameters, {b} buffer values and {c} counters, but this model has {parameters.Length}, {buffers.Length} and {counters.Length}.");
            }

            at += 12;
            long expected = (long)at + ((long)size * (p + b)) + (8L * c) + 8;
            if (s.Length != expected)
            {
                throw new InvalidDataException($"{source} is {(s.Length < expected ? "truncated" : "corrupt")}: {s.Length} bytes, but a model of this architecture takes {expected}.");
            }

            if (BinaryPrimitives.ReadUInt64LittleEndian(s.Slice(s.Length - 8)) != Fnv1a(s.Slice(0, s.Length - 8)))
            {
                throw new InvalidDataException($"{source} is corrupt: its checksum does not match its contents.");
            }

            // Everything checked: now the model's state changes.
            at = ReadBits(s, at, parameters);
            at = ReadBits(s, at, buffers);

            for (int i = 0; i < c; i++, at += 8)
            {
                counters[i] = BinaryPrimitives.ReadInt64LittleEndian(s.Slice(at));
            }
        }

        private static ulong Fnv1a(ReadOnlySpan<byte> bytes)
        {
            ulong hash = 14695981039346656037UL;
            foreach (byte value in bytes)
            {
                hash = (hash ^ value) * 1099511628211UL;
            }

            return hash;
        }
    }
}
