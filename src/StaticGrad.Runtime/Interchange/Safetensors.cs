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
    /// <para>The overloads with a <see cref="StateDescription"/> save and load a model's whole <c>state_dict()</c>: the
    /// parameters, the float buffers (BatchNorm's <c>running_mean</c>, <c>running_var</c>) in the same dtype, and the
    /// counters (<c>num_batches_tracked</c>) as I64 scalars of shape []. The data section holds the counters first, so their
    /// 8-byte elements stay aligned.</para>
    /// </remarks>
    public static class Safetensors
    {
        /// <summary>Writes <paramref name="parameters"/> to <paramref name="path"/> as F32 tensors, through a temporary file that then replaces <paramref name="path"/>.</summary>
        /// <param name="path">The file to create or replace.</param>
        /// <param name="network">The network the parameters belong to.</param>
        /// <param name="parameters">The flat parameter array, <see cref="NetworkDescription.ParameterCount"/> elements.</param>
        public static void Save(string path, NetworkDescription network, ReadOnlySpan<float> parameters) =>
            AtomicFile.WriteAllBytes(path, Serialize(network, StateDescription.Empty, parameters, default, default, nameof(parameters)));

        /// <summary>Writes <paramref name="parameters"/> to <paramref name="path"/> as F64 tensors, through a temporary file that then replaces <paramref name="path"/>.</summary>
        /// <param name="path">The file to create or replace.</param>
        /// <param name="network">The network the parameters belong to.</param>
        /// <param name="parameters">The flat parameter array, <see cref="NetworkDescription.ParameterCount"/> elements.</param>
        public static void Save(string path, NetworkDescription network, ReadOnlySpan<double> parameters) =>
            AtomicFile.WriteAllBytes(path, Serialize(network, StateDescription.Empty, parameters, default, default, nameof(parameters)));

        /// <summary>Writes <paramref name="parameters"/> to <paramref name="stream"/> as F32 tensors.</summary>
        /// <param name="stream">A writable stream.</param>
        /// <param name="network">The network the parameters belong to.</param>
        /// <param name="parameters">The flat parameter array, <see cref="NetworkDescription.ParameterCount"/> elements.</param>
        public static void Save(Stream stream, NetworkDescription network, ReadOnlySpan<float> parameters) =>
            WriteTo(stream, Serialize(network, StateDescription.Empty, parameters, default, default, nameof(parameters)));

        /// <summary>Writes <paramref name="parameters"/> to <paramref name="stream"/> as F64 tensors.</summary>
        /// <param name="stream">A writable stream.</param>
        /// <param name="network">The network the parameters belong to.</param>
        /// <param name="parameters">The flat parameter array, <see cref="NetworkDescription.ParameterCount"/> elements.</param>
        public static void Save(Stream stream, NetworkDescription network, ReadOnlySpan<double> parameters) =>
            WriteTo(stream, Serialize(network, StateDescription.Empty, parameters, default, default, nameof(parameters)));

        /// <summary>Reads the parameters of <paramref name="network"/> from the safetensors file <paramref name="path"/>.</summary>
        /// <param name="path">The file to read.</param>
        /// <param name="network">The network the parameters belong to.</param>
        /// <param name="parameters">The flat parameter array to fill; unchanged when the file does not fit.</param>
        /// <param name="allowConversion">Accept F64 tensors (rounded to float); otherwise they are an error.</param>
        /// <exception cref="InvalidDataException">The file is malformed or does not hold exactly this network's tensors.</exception>
        public static void Load(string path, NetworkDescription network, Span<float> parameters, bool allowConversion = false) =>
            Load(ReadFile(path), network, StateDescription.Empty, parameters, default, default, allowConversion, $"'{path}'", nameof(parameters));

        /// <summary>Reads the parameters of <paramref name="network"/> from the safetensors file <paramref name="path"/>.</summary>
        /// <param name="path">The file to read.</param>
        /// <param name="network">The network the parameters belong to.</param>
        /// <param name="parameters">The flat parameter array to fill; unchanged when the file does not fit.</param>
        /// <param name="allowConversion">Accept F32 tensors (widened exactly); otherwise they are an error.</param>
        /// <exception cref="InvalidDataException">The file is malformed or does not hold exactly this network's tensors.</exception>
        public static void Load(string path, NetworkDescription network, Span<double> parameters, bool allowConversion = false) =>
            Load(ReadFile(path), network, StateDescription.Empty, parameters, default, default, allowConversion, $"'{path}'", nameof(parameters));

        /// <summary>Reads the parameters of <paramref name="network"/> from <paramref name="stream"/> (read to its end).</summary>
        /// <param name="stream">A readable stream positioned at the start of a safetensors file.</param>
        /// <param name="network">The network the parameters belong to.</param>
        /// <param name="parameters">The flat parameter array to fill; unchanged when the file does not fit.</param>
        /// <param name="allowConversion">Accept F64 tensors (rounded to float); otherwise they are an error.</param>
        /// <exception cref="InvalidDataException">The file is malformed or does not hold exactly this network's tensors.</exception>
        public static void Load(Stream stream, NetworkDescription network, Span<float> parameters, bool allowConversion = false) =>
            Load(AtomicFile.ReadToEnd(stream), network, StateDescription.Empty, parameters, default, default, allowConversion, "the stream", nameof(parameters));

        /// <summary>Reads the parameters of <paramref name="network"/> from <paramref name="stream"/> (read to its end).</summary>
        /// <param name="stream">A readable stream positioned at the start of a safetensors file.</param>
        /// <param name="network">The network the parameters belong to.</param>
        /// <param name="parameters">The flat parameter array to fill; unchanged when the file does not fit.</param>
        /// <param name="allowConversion">Accept F32 tensors (widened exactly); otherwise they are an error.</param>
        /// <exception cref="InvalidDataException">The file is malformed or does not hold exactly this network's tensors.</exception>
        public static void Load(Stream stream, NetworkDescription network, Span<double> parameters, bool allowConversion = false) =>
            Load(AtomicFile.ReadToEnd(stream), network, StateDescription.Empty, parameters, default, default, allowConversion, "the stream", nameof(parameters));

        /// <summary>
        /// Writes <paramref name="parameterValues"/>, <paramref name="buffers"/> and <paramref name="counters"/> to
        /// <paramref name="path"/> as PyTorch's <c>state_dict()</c> holds them: parameters and buffers F32, counters I64 of
        /// shape []; through a temporary file that then replaces <paramref name="path"/>.
        /// </summary>
        /// <param name="path">The file to create or replace.</param>
        /// <param name="parameters">The parameter layout.</param>
        /// <param name="state">The buffers' and counters' layout.</param>
        /// <param name="parameterValues">The flat parameter array, <see cref="NetworkDescription.ParameterCount"/> elements.</param>
        /// <param name="buffers">The flat buffer array, <see cref="StateDescription.BufferCount"/> elements.</param>
        /// <param name="counters">The counters, <see cref="StateDescription.CounterCount"/> elements.</param>
        /// <exception cref="ArgumentException">A span has the wrong length, or a name is both a parameter and a buffer or counter.</exception>
        public static void Save(string path, NetworkDescription parameters, StateDescription state, ReadOnlySpan<float> parameterValues, ReadOnlySpan<float> buffers, ReadOnlySpan<long> counters) =>
            AtomicFile.WriteAllBytes(path, Serialize(parameters, state, parameterValues, buffers, counters, nameof(parameterValues)));

        /// <summary>As <see cref="Save(string, NetworkDescription, StateDescription, ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{long})"/>, with parameters and buffers F64.</summary>
        /// <param name="path">The file to create or replace.</param>
        /// <param name="parameters">The parameter layout.</param>
        /// <param name="state">The buffers' and counters' layout.</param>
        /// <param name="parameterValues">The flat parameter array, <see cref="NetworkDescription.ParameterCount"/> elements.</param>
        /// <param name="buffers">The flat buffer array, <see cref="StateDescription.BufferCount"/> elements.</param>
        /// <param name="counters">The counters, <see cref="StateDescription.CounterCount"/> elements.</param>
        /// <exception cref="ArgumentException">A span has the wrong length, or a name is both a parameter and a buffer or counter.</exception>
        public static void Save(string path, NetworkDescription parameters, StateDescription state, ReadOnlySpan<double> parameterValues, ReadOnlySpan<double> buffers, ReadOnlySpan<long> counters) =>
            AtomicFile.WriteAllBytes(path, Serialize(parameters, state, parameterValues, buffers, counters, nameof(parameterValues)));

        /// <summary>Writes parameters (F32), buffers (F32) and counters (I64, shape []) to <paramref name="stream"/>, as PyTorch's <c>state_dict()</c> holds them.</summary>
        /// <param name="stream">A writable stream.</param>
        /// <param name="parameters">The parameter layout.</param>
        /// <param name="state">The buffers' and counters' layout.</param>
        /// <param name="parameterValues">The flat parameter array, <see cref="NetworkDescription.ParameterCount"/> elements.</param>
        /// <param name="buffers">The flat buffer array, <see cref="StateDescription.BufferCount"/> elements.</param>
        /// <param name="counters">The counters, <see cref="StateDescription.CounterCount"/> elements.</param>
        /// <exception cref="ArgumentException">A span has the wrong length, or a name is both a parameter and a buffer or counter.</exception>
        public static void Save(Stream stream, NetworkDescription parameters, StateDescription state, ReadOnlySpan<float> parameterValues, ReadOnlySpan<float> buffers, ReadOnlySpan<long> counters) =>
            WriteTo(stream, Serialize(parameters, state, parameterValues, buffers, counters, nameof(parameterValues)));

        /// <summary>Writes parameters (F64), buffers (F64) and counters (I64, shape []) to <paramref name="stream"/>, as PyTorch's <c>state_dict()</c> holds them.</summary>
        /// <param name="stream">A writable stream.</param>
        /// <param name="parameters">The parameter layout.</param>
        /// <param name="state">The buffers' and counters' layout.</param>
        /// <param name="parameterValues">The flat parameter array, <see cref="NetworkDescription.ParameterCount"/> elements.</param>
        /// <param name="buffers">The flat buffer array, <see cref="StateDescription.BufferCount"/> elements.</param>
        /// <param name="counters">The counters, <see cref="StateDescription.CounterCount"/> elements.</param>
        /// <exception cref="ArgumentException">A span has the wrong length, or a name is both a parameter and a buffer or counter.</exception>
        public static void Save(Stream stream, NetworkDescription parameters, StateDescription state, ReadOnlySpan<double> parameterValues, ReadOnlySpan<double> buffers, ReadOnlySpan<long> counters) =>
            WriteTo(stream, Serialize(parameters, state, parameterValues, buffers, counters, nameof(parameterValues)));

        /// <summary>
        /// Reads parameters, buffers and counters from the safetensors file <paramref name="path"/> (a PyTorch
        /// <c>state_dict</c>): every tensor of both descriptions must be there with its shape, parameters and buffers
        /// F32, counters I64 of shape [], and nothing else. Everything is checked before anything is written.
        /// </summary>
        /// <param name="path">The file to read.</param>
        /// <param name="parameters">The parameter layout.</param>
        /// <param name="state">The buffers' and counters' layout.</param>
        /// <param name="parameterValues">The flat parameter array to fill; unchanged when the file does not fit.</param>
        /// <param name="buffers">The flat buffer array to fill; unchanged when the file does not fit.</param>
        /// <param name="counters">The counters to fill; unchanged when the file does not fit.</param>
        /// <param name="allowConversion">Accept F64 parameters and buffers (rounded to float); otherwise they are an error. Counters are read only from I64.</param>
        /// <exception cref="InvalidDataException">The file is malformed or does not hold exactly these tensors.</exception>
        public static void Load(string path, NetworkDescription parameters, StateDescription state, Span<float> parameterValues, Span<float> buffers, Span<long> counters, bool allowConversion = false) =>
            Load(ReadFile(path), parameters, state, parameterValues, buffers, counters, allowConversion, $"'{path}'", nameof(parameterValues));

        /// <summary>As <see cref="Load(string, NetworkDescription, StateDescription, Span{float}, Span{float}, Span{long}, bool)"/>, for F64 parameters and buffers.</summary>
        /// <param name="path">The file to read.</param>
        /// <param name="parameters">The parameter layout.</param>
        /// <param name="state">The buffers' and counters' layout.</param>
        /// <param name="parameterValues">The flat parameter array to fill; unchanged when the file does not fit.</param>
        /// <param name="buffers">The flat buffer array to fill; unchanged when the file does not fit.</param>
        /// <param name="counters">The counters to fill; unchanged when the file does not fit.</param>
        /// <param name="allowConversion">Accept F32 parameters and buffers (widened exactly); otherwise they are an error. Counters are read only from I64.</param>
        /// <exception cref="InvalidDataException">The file is malformed or does not hold exactly these tensors.</exception>
        public static void Load(string path, NetworkDescription parameters, StateDescription state, Span<double> parameterValues, Span<double> buffers, Span<long> counters, bool allowConversion = false) =>
            Load(ReadFile(path), parameters, state, parameterValues, buffers, counters, allowConversion, $"'{path}'", nameof(parameterValues));

        /// <summary>As <see cref="Load(string, NetworkDescription, StateDescription, Span{float}, Span{float}, Span{long}, bool)"/>, from <paramref name="stream"/> (read to its end).</summary>
        /// <param name="stream">A readable stream positioned at the start of a safetensors file.</param>
        /// <param name="parameters">The parameter layout.</param>
        /// <param name="state">The buffers' and counters' layout.</param>
        /// <param name="parameterValues">The flat parameter array to fill; unchanged when the file does not fit.</param>
        /// <param name="buffers">The flat buffer array to fill; unchanged when the file does not fit.</param>
        /// <param name="counters">The counters to fill; unchanged when the file does not fit.</param>
        /// <param name="allowConversion">Accept F64 parameters and buffers (rounded to float); otherwise they are an error. Counters are read only from I64.</param>
        /// <exception cref="InvalidDataException">The file is malformed or does not hold exactly these tensors.</exception>
        public static void Load(Stream stream, NetworkDescription parameters, StateDescription state, Span<float> parameterValues, Span<float> buffers, Span<long> counters, bool allowConversion = false) =>
            Load(AtomicFile.ReadToEnd(stream), parameters, state, parameterValues, buffers, counters, allowConversion, "the stream", nameof(parameterValues));

        /// <summary>As <see cref="Load(string, NetworkDescription, StateDescription, Span{double}, Span{double}, Span{long}, bool)"/>, from <paramref name="stream"/> (read to its end).</summary>
        /// <param name="stream">A readable stream positioned at the start of a safetensors file.</param>
        /// <param name="parameters">The parameter layout.</param>
        /// <param name="state">The buffers' and counters' layout.</param>
        /// <param name="parameterValues">The flat parameter array to fill; unchanged when the file does not fit.</param>
        /// <param name="buffers">The flat buffer array to fill; unchanged when the file does not fit.</param>
        /// <param name="counters">The counters to fill; unchanged when the file does not fit.</param>
        /// <param name="allowConversion">Accept F32 parameters and buffers (widened exactly); otherwise they are an error. Counters are read only from I64.</param>
        /// <exception cref="InvalidDataException">The file is malformed or does not hold exactly these tensors.</exception>
        public static void Load(Stream stream, NetworkDescription parameters, StateDescription state, Span<double> parameterValues, Span<double> buffers, Span<long> counters, bool allowConversion = false) =>
            Load(AtomicFile.ReadToEnd(stream), parameters, state, parameterValues, buffers, counters, allowConversion, "the stream", nameof(parameterValues));

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

        private static byte[] Serialize<T>(NetworkDescription network, StateDescription state, ReadOnlySpan<T> parameters, ReadOnlySpan<T> buffers, ReadOnlySpan<long> counters, string parameterName)
            where T : unmanaged
        {
            if (network is null)
            {
                throw new ArgumentNullException(nameof(network));
            }

            if (state is null)
            {
                throw new ArgumentNullException(nameof(state));
            }

            CheckLength(network, parameters.Length, parameterName);
            CheckState(network, state, buffers.Length, counters.Length);
            int size = Unsafe.SizeOf<T>();
            string dtype = DType<T>();
            var metadata = new Dictionary<string, string>
            {
                ["format"] = "pt",
                ["architecture"] = network.Architecture,
                ["producer"] = "StaticGrad",
            };

            // The data holds the counters first, so their 8-byte elements are aligned, then the parameters, then the buffers.
            long counterBytes = (long)counters.Length * sizeof(long);
            long parameterBytes = (long)parameters.Length * size;
            long bufferBytes = (long)buffers.Length * size;
            var entries = new List<SafetensorsEntry>(network.TensorArray.Length + state.BufferArray.Length + state.CounterArray.Length);
            AddEntries(entries, network.TensorArray, dtype, size, counterBytes);
            AddEntries(entries, state.BufferArray, dtype, size, counterBytes + parameterBytes);
            AddEntries(entries, state.CounterArray, "I64", sizeof(long), 0);
            byte[] header = SafetensorsHeader.Write(metadata, entries);
            byte[] file = new byte[header.Length + counterBytes + parameterBytes + bufferBytes];
            header.CopyTo(file, 0);
            Span<byte> data = file.AsSpan(header.Length);
            MemoryMarshal.AsBytes(counters).CopyTo(data);
            MemoryMarshal.AsBytes(parameters).CopyTo(data.Slice((int)counterBytes));
            MemoryMarshal.AsBytes(buffers).CopyTo(data.Slice((int)(counterBytes + parameterBytes)));
            if (!BitConverter.IsLittleEndian)
            {
                ReverseElements(data.Slice(0, (int)counterBytes), sizeof(long));
                ReverseElements(data.Slice((int)counterBytes), size);
            }

            return file;
        }

        private static void AddEntries(List<SafetensorsEntry> entries, ParameterTensor[] tensors, string dtype, int size, long start)
        {
            foreach (ParameterTensor tensor in tensors)
            {
                long[] shape = new long[tensor.Shape.Length];
                for (int d = 0; d < shape.Length; d++)
                {
                    shape[d] = tensor.Shape[d];
                }

                entries.Add(new SafetensorsEntry(tensor.Name, dtype, shape, start + ((long)tensor.Offset * size), start + ((long)(tensor.Offset + tensor.Count) * size)));
            }
        }

        /// <summary>What a destination array is, for messages.</summary>
        private enum Kind
        {
            Parameter,
            Buffer,
            Counter,
        }

        private static void Load<T>(ReadOnlySpan<byte> file, NetworkDescription network, StateDescription state, Span<T> parameters, Span<T> buffers, Span<long> counters, bool allowConversion, string source, string parameterName)
            where T : unmanaged
        {
            if (network is null)
            {
                throw new ArgumentNullException(nameof(network));
            }

            if (state is null)
            {
                throw new ArgumentNullException(nameof(state));
            }

            CheckLength(network, parameters.Length, parameterName);
            CheckState(network, state, buffers.Length, counters.Length);
            SafetensorsHeader header = SafetensorsHeader.Read(file, source);
            string wanted = DType<T>();
            string owner = $"this network ({network.Architecture})";

            // Everything is checked first; the parameters, buffers and counters change only after the last check.
            ParameterTensor[] tensors = network.TensorArray, bufferTensors = state.BufferArray, counterTensors = state.CounterArray;
            var entries = new SafetensorsEntry[tensors.Length + bufferTensors.Length + counterTensors.Length];
            int k = 0;
            foreach (ParameterTensor tensor in tensors)
            {
                entries[k++] = Find(header, tensor, Kind.Parameter, wanted, allowConversion, owner, source);
            }

            foreach (ParameterTensor tensor in bufferTensors)
            {
                entries[k++] = Find(header, tensor, Kind.Buffer, wanted, allowConversion, owner, source);
            }

            foreach (ParameterTensor tensor in counterTensors)
            {
                entries[k++] = Find(header, tensor, Kind.Counter, "I64", allowConversion: false, owner, source);
            }

            var expected = new HashSet<string>(tensors.Concat(bufferTensors).Concat(counterTensors).Select(t => t.Name), StringComparer.Ordinal);
            foreach (SafetensorsEntry entry in header.Tensors.Values)
            {
                if (!expected.Contains(entry.Name))
                {
                    throw new InvalidDataException($"{source} has a tensor '{entry.Name}' ({entry.DType} {entry.ShapeText}) that {owner} does not have; its tensors are {Names(expected)}.");
                }
            }

            k = 0;
            foreach (ParameterTensor tensor in tensors)
            {
                Copy(file, header, entries[k++], wanted, parameters.Slice(tensor.Offset, tensor.Count));
            }

            foreach (ParameterTensor tensor in bufferTensors)
            {
                Copy(file, header, entries[k++], wanted, buffers.Slice(tensor.Offset, tensor.Count));
            }

            foreach (ParameterTensor tensor in counterTensors)
            {
                Copy(file, header, entries[k++], "I64", counters.Slice(tensor.Offset, 1));
            }
        }

        /// <summary>The file's entry for <paramref name="tensor"/>, checked: present, of the wanted (or, with conversion, a convertible) dtype, of the right shape.</summary>
        private static SafetensorsEntry Find(SafetensorsHeader header, ParameterTensor tensor, Kind kind, string wanted, bool allowConversion, string owner, string source)
        {
            if (!header.Tensors.TryGetValue(tensor.Name, out SafetensorsEntry? entry))
            {
                throw new InvalidDataException($"{source} has no tensor '{tensor.Name}' ({wanted} {tensor.ShapeText}), which {owner} needs; it has {Names(header.Tensors.Keys)}.");
            }

            if (entry.DType != wanted)
            {
                if (kind == Kind.Counter)
                {
                    throw new InvalidDataException($"{source}: tensor '{tensor.Name}' is {entry.DType}, but {owner} keeps it as a counter, I64 of shape [] (PyTorch's int64 num_batches_tracked); counters are read only from I64 tensors.");
                }

                bool convertible = entry.DType is "F32" or "F64";
                string hint = convertible
                    ? $" Pass allowConversion: true to convert {entry.DType} to {wanted}."
                    : " StaticGrad reads F32 and F64 tensors.";
                if (!(convertible && allowConversion))
                {
                    throw new InvalidDataException($"{source}: tensor '{tensor.Name}' is {entry.DType}, but {owner} holds {wanted} {(kind == Kind.Buffer ? "buffers" : "parameters")}.{hint}");
                }
            }

            if (!SameShape(entry.Shape, tensor.Shape))
            {
                throw new InvalidDataException($"{source}: tensor '{tensor.Name}' has shape {entry.ShapeText}, but {owner} needs {tensor.ShapeText}.");
            }

            return entry;
        }

        /// <summary>Copies a checked entry's elements into <paramref name="destination"/>, converting F32 and F64 when they differ from <paramref name="wanted"/>.</summary>
        private static void Copy<T>(ReadOnlySpan<byte> file, SafetensorsHeader header, SafetensorsEntry entry, string wanted, Span<T> destination)
            where T : unmanaged
        {
            ReadOnlySpan<byte> bytes = file.Slice(header.DataStart + (int)entry.Begin, (int)(entry.End - entry.Begin));
            if (entry.DType == wanted)
            {
                Span<byte> target = MemoryMarshal.AsBytes(destination);
                bytes.CopyTo(target);
                if (!BitConverter.IsLittleEndian)
                {
                    ReverseElements(target, Unsafe.SizeOf<T>());
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

        private static void CheckState(NetworkDescription network, StateDescription state, int bufferLength, int counterLength)
        {
            if (bufferLength != state.BufferCount)
            {
                throw new ArgumentException($"The state has {state.BufferCount} buffer elements, but the span has length {bufferLength}.", "buffers");
            }

            if (counterLength != state.CounterCount)
            {
                throw new ArgumentException($"The state has {state.CounterCount} counters, but the span has length {counterLength}.", "counters");
            }

            if (state.BufferArray.Length + state.CounterArray.Length == 0)
            {
                return;
            }

            var names = new HashSet<string>(network.TensorArray.Select(t => t.Name), StringComparer.Ordinal);
            foreach (ParameterTensor tensor in state.BufferArray.Concat(state.CounterArray))
            {
                if (names.Contains(tensor.Name))
                {
                    throw new ArgumentException($"'{tensor.Name}' names both a parameter of {network.Architecture} and a buffer or counter of its state; a state_dict holds each name once.", "state");
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
