using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace StaticGrad.Interchange
{
    /// <summary>
    /// Saves and loads a network's parameters as safetensors, the file format of PyTorch's <c>safetensors.torch</c> and
    /// Hugging Face. Tensors are named as PyTorch names the parameters of the equivalent <c>nn.Sequential</c>
    /// (<c>0.weight</c> [out, in], <c>0.bias</c> [out], <c>2.weight</c>, …), so
    /// <c>model.load_state_dict(load_file(path))</c> reads what <see cref="Save(string, NetworkDescription, ReadOnlySpan{float})"/>
    /// writes, and <c>save_file(model.state_dict(), path)</c> writes what <c>Load</c> reads.
    /// </summary>
    /// <remarks>
    /// Generated networks call these through their <c>SaveSafetensors</c> and <c>LoadSafetensors</c> methods. Loading
    /// reads and checks the whole file before it writes a single parameter: a file that does not fit the network
    /// throws <see cref="InvalidDataException"/> naming the tensor, what the network expects and what the file holds,
    /// and the parameters stay as they were.
    /// </remarks>
    public static class Safetensors
    {
        /// <summary>Writes <paramref name="parameters"/> to <paramref name="path"/> as F32 tensors, through a temporary file that then replaces <paramref name="path"/>.</summary>
        /// <param name="path">The file to create or replace.</param>
        /// <param name="network">The network the parameters belong to.</param>
        /// <param name="parameters">The flat parameter array, <see cref="NetworkDescription.ParameterCount"/> elements.</param>
        public static void Save(string path, NetworkDescription network, ReadOnlySpan<float> parameters) =>
            AtomicFile.WriteAllBytes(path, Serialize(network, parameters, nameof(parameters)));

        /// <summary>Writes <paramref name="parameters"/> to <paramref name="path"/> as F64 tensors, through a temporary file that then replaces <paramref name="path"/>.</summary>
        /// <param name="path">The file to create or replace.</param>
        /// <param name="network">The network the parameters belong to.</param>
        /// <param name="parameters">The flat parameter array, <see cref="NetworkDescription.ParameterCount"/> elements.</param>
        public static void Save(string path, NetworkDescription network, ReadOnlySpan<double> parameters) =>
            AtomicFile.WriteAllBytes(path, Serialize(network, parameters, nameof(parameters)));

        /// <summary>Writes <paramref name="parameters"/> to <paramref name="stream"/> as F32 tensors.</summary>
        /// <param name="stream">A writable stream.</param>
        /// <param name="network">The network the parameters belong to.</param>
        /// <param name="parameters">The flat parameter array, <see cref="NetworkDescription.ParameterCount"/> elements.</param>
        public static void Save(Stream stream, NetworkDescription network, ReadOnlySpan<float> parameters) =>
            WriteTo(stream, Serialize(network, parameters, nameof(parameters)));

        /// <summary>Writes <paramref name="parameters"/> to <paramref name="stream"/> as F64 tensors.</summary>
        /// <param name="stream">A writable stream.</param>
        /// <param name="network">The network the parameters belong to.</param>
        /// <param name="parameters">The flat parameter array, <see cref="NetworkDescription.ParameterCount"/> elements.</param>
        public static void Save(Stream stream, NetworkDescription network, ReadOnlySpan<double> parameters) =>
            WriteTo(stream, Serialize(network, parameters, nameof(parameters)));

        /// <summary>Reads the parameters of <paramref name="network"/> from the safetensors file <paramref name="path"/>.</summary>
        /// <param name="path">The file to read.</param>
        /// <param name="network">The network the parameters belong to.</param>
        /// <param name="parameters">The flat parameter array to fill; unchanged when the file does not fit.</param>
        /// <param name="allowConversion">Accept F64 tensors (rounded to float); otherwise they are an error.</param>
        /// <exception cref="InvalidDataException">The file is malformed or does not hold exactly this network's tensors.</exception>
        public static void Load(string path, NetworkDescription network, Span<float> parameters, bool allowConversion = false) =>
            Load(ReadFile(path), network, parameters, allowConversion, $"'{path}'");

        /// <summary>Reads the parameters of <paramref name="network"/> from the safetensors file <paramref name="path"/>.</summary>
        /// <param name="path">The file to read.</param>
        /// <param name="network">The network the parameters belong to.</param>
        /// <param name="parameters">The flat parameter array to fill; unchanged when the file does not fit.</param>
        /// <param name="allowConversion">Accept F32 tensors (widened exactly); otherwise they are an error.</param>
        /// <exception cref="InvalidDataException">The file is malformed or does not hold exactly this network's tensors.</exception>
        public static void Load(string path, NetworkDescription network, Span<double> parameters, bool allowConversion = false) =>
            Load(ReadFile(path), network, parameters, allowConversion, $"'{path}'");

        /// <summary>Reads the parameters of <paramref name="network"/> from <paramref name="stream"/> (read to its end).</summary>
        /// <param name="stream">A readable stream positioned at the start of a safetensors file.</param>
        /// <param name="network">The network the parameters belong to.</param>
        /// <param name="parameters">The flat parameter array to fill; unchanged when the file does not fit.</param>
        /// <param name="allowConversion">Accept F64 tensors (rounded to float); otherwise they are an error.</param>
        /// <exception cref="InvalidDataException">The file is malformed or does not hold exactly this network's tensors.</exception>
        public static void Load(Stream stream, NetworkDescription network, Span<float> parameters, bool allowConversion = false) =>
            Load(AtomicFile.ReadToEnd(stream), network, parameters, allowConversion, "the stream");

        /// <summary>Reads the parameters of <paramref name="network"/> from <paramref name="stream"/> (read to its end).</summary>
        /// <param name="stream">A readable stream positioned at the start of a safetensors file.</param>
        /// <param name="network">The network the parameters belong to.</param>
        /// <param name="parameters">The flat parameter array to fill; unchanged when the file does not fit.</param>
        /// <param name="allowConversion">Accept F32 tensors (widened exactly); otherwise they are an error.</param>
        /// <exception cref="InvalidDataException">The file is malformed or does not hold exactly this network's tensors.</exception>
        public static void Load(Stream stream, NetworkDescription network, Span<double> parameters, bool allowConversion = false) =>
            Load(AtomicFile.ReadToEnd(stream), network, parameters, allowConversion, "the stream");

        private static byte[] ReadFile(string path) =>
            File.ReadAllBytes(path ?? throw new ArgumentNullException(nameof(path)));

        private static void WriteTo(Stream stream, byte[] file)
        {
            if (stream is null)
            {
                throw new ArgumentNullException(nameof(stream));
            }

            stream.Write(file, 0, file.Length);
        }

        private static string DType<T>() => typeof(T) == typeof(float) ? "F32" : "F64";

        private static byte[] Serialize<T>(NetworkDescription network, ReadOnlySpan<T> parameters, string parameterName)
            where T : unmanaged
        {
            if (network is null)
            {
                throw new ArgumentNullException(nameof(network));
            }

            CheckLength(network, parameters.Length, parameterName);
            int size = Unsafe.SizeOf<T>();
            var metadata = new Dictionary<string, string>
            {
                ["format"] = "pt",
                ["architecture"] = network.Architecture,
                ["producer"] = "StaticGrad",
            };
            byte[] header = SafetensorsHeader.Write(metadata, network.Tensors, DType<T>(), size);
            byte[] file = new byte[header.Length + ((long)parameters.Length * size)];
            header.CopyTo(file, 0);
            Span<byte> data = file.AsSpan(header.Length);
            MemoryMarshal.AsBytes(parameters).CopyTo(data);
            if (!BitConverter.IsLittleEndian)
            {
                ReverseElements(data, size);
            }

            return file;
        }

        private static void Load<T>(ReadOnlySpan<byte> file, NetworkDescription network, Span<T> parameters, bool allowConversion, string source)
            where T : unmanaged
        {
            if (network is null)
            {
                throw new ArgumentNullException(nameof(network));
            }

            CheckLength(network, parameters.Length, nameof(parameters));
            SafetensorsHeader header = SafetensorsHeader.Read(file, source);
            string wanted = DType<T>();
            string owner = $"this network ({network.Architecture})";

            // Everything is checked first; the parameters change only after the last check.
            var entries = new SafetensorsEntry[network.Tensors.Count];
            for (int i = 0; i < entries.Length; i++)
            {
                ParameterTensor tensor = network.Tensors[i];
                if (!header.Tensors.TryGetValue(tensor.Name, out SafetensorsEntry? entry))
                {
                    throw new InvalidDataException($"{source} has no tensor '{tensor.Name}' ({wanted} {tensor.ShapeText}), which {owner} needs; it has {Names(header.Tensors.Keys)}.");
                }

                if (entry.DType != wanted)
                {
                    bool convertible = entry.DType is "F32" or "F64";
                    string hint = convertible
                        ? $" Pass allowConversion: true to convert {entry.DType} to {wanted}."
                        : " StaticGrad reads F32 and F64 tensors.";
                    if (!(convertible && allowConversion))
                    {
                        throw new InvalidDataException($"{source}: tensor '{tensor.Name}' is {entry.DType}, but {owner} holds {wanted} parameters.{hint}");
                    }
                }

                if (!SameShape(entry.Shape, tensor.Shape))
                {
                    throw new InvalidDataException($"{source}: tensor '{tensor.Name}' has shape {entry.ShapeText}, but {owner} needs {tensor.ShapeText}.");
                }

                entries[i] = entry;
            }

            var expected = new HashSet<string>(network.Tensors.Select(t => t.Name), StringComparer.Ordinal);
            foreach (SafetensorsEntry entry in header.Tensors.Values)
            {
                if (!expected.Contains(entry.Name))
                {
                    throw new InvalidDataException($"{source} has a tensor '{entry.Name}' ({entry.DType} {entry.ShapeText}) that {owner} does not have; its tensors are {Names(expected)}.");
                }
            }

            int size = Unsafe.SizeOf<T>();
            for (int i = 0; i < entries.Length; i++)
            {
                ParameterTensor tensor = network.Tensors[i];
                SafetensorsEntry entry = entries[i];
                ReadOnlySpan<byte> bytes = file.Slice(header.DataStart + (int)entry.Begin, (int)(entry.End - entry.Begin));
                Span<T> destination = parameters.Slice(tensor.Offset, tensor.Count);
                if (entry.DType == wanted)
                {
                    Span<byte> target = MemoryMarshal.AsBytes(destination);
                    bytes.CopyTo(target);
                    if (!BitConverter.IsLittleEndian)
                    {
                        ReverseElements(target, size);
                    }
                }
                else if (typeof(T) == typeof(float))
                {
                    Span<float> target = MemoryMarshal.Cast<T, float>(destination);
                    for (int e = 0; e < target.Length; e++)
                    {
                        target[e] = (float)BinaryPrimitives.ReadDoubleLittleEndian(bytes.Slice(e * 8));
                    }
                }
                else
                {
                    Span<double> target = MemoryMarshal.Cast<T, double>(destination);
                    for (int e = 0; e < target.Length; e++)
                    {
                        target[e] = BinaryPrimitives.ReadSingleLittleEndian(bytes.Slice(e * 4));
                    }
                }
            }
        }

        private static void CheckLength(NetworkDescription network, int length, string parameterName)
        {
            if (length != network.ParameterCount)
            {
                throw new ArgumentException($"The network has {network.ParameterCount} parameters, but the span has length {length}.", parameterName);
            }
        }

        private static bool SameShape(long[] file, ReadOnlySpan<int> network)
        {
            if (file.Length != network.Length)
            {
                return false;
            }

            for (int d = 0; d < file.Length; d++)
            {
                if (file[d] != network[d])
                {
                    return false;
                }
            }

            return true;
        }

        private static string Names(IEnumerable<string> names)
        {
            var sorted = names.OrderBy(n => n, StringComparer.Ordinal).ToList();
            if (sorted.Count == 0)
            {
                return "no tensors";
            }

            const int Shown = 12;
            string list = string.Join(", ", sorted.Take(Shown));
            return sorted.Count > Shown ? $"{list} and {sorted.Count - Shown} more" : list;
        }

        private static void ReverseElements(Span<byte> data, int size)
        {
            for (int at = 0; at < data.Length; at += size)
            {
                data.Slice(at, size).Reverse();
            }
        }
    }
}
