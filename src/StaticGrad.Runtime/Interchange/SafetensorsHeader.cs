using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.Text.Json;

namespace StaticGrad.Interchange
{
    /// <summary>One tensor entry of a safetensors header.</summary>
    internal sealed record SafetensorsEntry(string Name, string DType, long[] Shape, long Begin, long End)
    {
        public string ShapeText => "[" + string.Join(", ", Shape) + "]";
    }

    /// <summary>
    /// Reads and checks the layout of a safetensors file (the format PyTorch and Hugging Face use): an unsigned 64-bit
    /// little-endian header length N, N bytes of UTF-8 JSON mapping each tensor name to its <c>dtype</c>, <c>shape</c>
    /// and <c>data_offsets</c> (optionally <c>__metadata__</c>, strings to strings), then the tensors' bytes. Checked as
    /// the reference implementation checks: the header fits, the JSON is well formed and has only known keys, every
    /// tensor's bytes match its dtype and shape, and the tensors tile the data section without gaps or overlaps.
    /// The JSON is read with <see cref="Utf8JsonReader"/>: no reflection, safe for Native AOT.
    /// </summary>
    internal sealed class SafetensorsHeader
    {
        /// <summary>The largest header accepted (the reference implementation's limit).</summary>
        public const long MaxHeaderBytes = 100_000_000;

        private SafetensorsHeader(Dictionary<string, SafetensorsEntry> tensors, Dictionary<string, string> metadata, int dataStart)
        {
            Tensors = tensors;
            Metadata = metadata;
            DataStart = dataStart;
        }

        /// <summary>The tensors by name.</summary>
        public Dictionary<string, SafetensorsEntry> Tensors { get; }

        /// <summary>The <c>__metadata__</c> entries (empty when absent).</summary>
        public Dictionary<string, string> Metadata { get; }

        /// <summary>Where the data section starts in the file (8 + header length).</summary>
        public int DataStart { get; }

        /// <summary>Bytes per element of a safetensors dtype, or 0 for a name the format does not define.</summary>
        public static int ElementSize(string dtype) => dtype switch
        {
            "BOOL" or "U8" or "I8" or "F8_E5M2" or "F8_E4M3" => 1,
            "I16" or "U16" or "F16" or "BF16" => 2,
            "I32" or "U32" or "F32" => 4,
            "I64" or "U64" or "F64" => 8,
            _ => 0,
        };

        /// <summary>Reads and checks the header of <paramref name="file"/>.</summary>
        /// <param name="file">The whole file.</param>
        /// <param name="source">How error messages name the file (<c>'model.safetensors'</c>, <c>the stream</c>).</param>
        /// <exception cref="InvalidDataException">The file is not a well-formed safetensors file; the message says where.</exception>
        public static SafetensorsHeader Read(ReadOnlySpan<byte> file, string source)
        {
            if (file.Length < 8)
            {
                throw new InvalidDataException($"{source} is not a safetensors file: it has {file.Length} bytes, fewer than the 8 of the header length.");
            }

            ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(file);
            if (headerLength > MaxHeaderBytes)
            {
                throw new InvalidDataException($"{source} declares a JSON header of {headerLength} bytes; safetensors headers are limited to {MaxHeaderBytes} bytes.");
            }

            if ((long)headerLength > file.Length - 8)
            {
                throw new InvalidDataException($"{source} is truncated: its JSON header is {headerLength} bytes long, but only {file.Length - 8} bytes follow the header length.");
            }

            int dataStart = 8 + (int)headerLength;
            ReadOnlySpan<byte> json = file.Slice(8, (int)headerLength);
            if (json.Length == 0 || json[0] != (byte)'{')
            {
                throw new InvalidDataException($"{source} is not a safetensors file: its header does not start with '{{'.");
            }

            var tensors = new Dictionary<string, SafetensorsEntry>(StringComparer.Ordinal);
            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            try
            {
                ParseJson(json, tensors, metadata, source);
            }
            catch (JsonException exception)
            {
                throw new InvalidDataException($"{source} has a malformed JSON header: {exception.Message}", exception);
            }
            catch (InvalidOperationException exception)
            {
                // Utf8JsonReader throws this when a value has another token type than the one asked for.
                throw new InvalidDataException($"{source} has a malformed JSON header: {exception.Message}", exception);
            }

            CheckLayout(tensors, file.Length - dataStart, source);
            return new SafetensorsHeader(tensors, metadata, dataStart);
        }

        private static void ParseJson(ReadOnlySpan<byte> json, Dictionary<string, SafetensorsEntry> tensors, Dictionary<string, string> metadata, string source)
        {
            var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = 8 });
            Expect(ref reader, JsonTokenType.StartObject, "the header", source);
            bool sawMetadata = false;
            while (true)
            {
                Next(ref reader, source);
                if (reader.TokenType == JsonTokenType.EndObject)
                {
                    break;
                }

                string name = reader.GetString()!;
                if (name == "__metadata__")
                {
                    if (sawMetadata)
                    {
                        throw Malformed(source, "'__metadata__' appears twice");
                    }

                    sawMetadata = true;
                    ReadMetadata(ref reader, metadata, source);
                    continue;
                }

                if (tensors.ContainsKey(name))
                {
                    throw Malformed(source, $"tensor '{name}' appears twice");
                }

                tensors.Add(name, ReadTensor(ref reader, name, source));
            }

            if (reader.Read())
            {
                throw Malformed(source, "there is more after the closing '}'");
            }
        }

        private static void ReadMetadata(ref Utf8JsonReader reader, Dictionary<string, string> metadata, string source)
        {
            Expect(ref reader, JsonTokenType.StartObject, "'__metadata__'", source);
            while (true)
            {
                Next(ref reader, source);
                if (reader.TokenType == JsonTokenType.EndObject)
                {
                    return;
                }

                string key = reader.GetString()!;
                Expect(ref reader, JsonTokenType.String, $"'__metadata__.{key}' (metadata values are strings)", source);
                metadata[key] = reader.GetString()!;
            }
        }

        private static SafetensorsEntry ReadTensor(ref Utf8JsonReader reader, string name, string source)
        {
            Expect(ref reader, JsonTokenType.StartObject, $"tensor '{name}'", source);
            string? dtype = null;
            long[]? shape = null;
            long[]? offsets = null;
            while (true)
            {
                Next(ref reader, source);
                if (reader.TokenType == JsonTokenType.EndObject)
                {
                    break;
                }

                string key = reader.GetString()!;
                switch (key)
                {
                    case "dtype" when dtype is null:
                        Expect(ref reader, JsonTokenType.String, $"the dtype of tensor '{name}'", source);
                        dtype = reader.GetString()!;
                        break;
                    case "shape" when shape is null:
                        shape = ReadIntegers(ref reader, $"the shape of tensor '{name}'", source);
                        break;
                    case "data_offsets" when offsets is null:
                        offsets = ReadIntegers(ref reader, $"the data_offsets of tensor '{name}'", source);
                        break;
                    case "dtype" or "shape" or "data_offsets":
                        throw Malformed(source, $"tensor '{name}' has '{key}' twice");
                    default:
                        throw Malformed(source, $"tensor '{name}' has an unknown key '{key}' (a tensor has dtype, shape and data_offsets)");
                }
            }

            if (dtype is null || shape is null || offsets is null)
            {
                string missing = dtype is null ? "dtype" : shape is null ? "shape" : "data_offsets";
                throw Malformed(source, $"tensor '{name}' has no '{missing}'");
            }

            if (offsets.Length != 2)
            {
                throw Malformed(source, $"the data_offsets of tensor '{name}' hold {offsets.Length} numbers instead of two ([begin, end])");
            }

            return new SafetensorsEntry(name, dtype, shape, offsets[0], offsets[1]);
        }

        private static long[] ReadIntegers(ref Utf8JsonReader reader, string what, string source)
        {
            Expect(ref reader, JsonTokenType.StartArray, what, source);
            var values = new List<long>();
            while (true)
            {
                Next(ref reader, source);
                if (reader.TokenType == JsonTokenType.EndArray)
                {
                    return values.ToArray();
                }

                if (reader.TokenType != JsonTokenType.Number || !reader.TryGetInt64(out long value) || value < 0)
                {
                    throw Malformed(source, $"{what} holds something other than a non-negative integer");
                }

                values.Add(value);
            }
        }

        /// <summary>Checks every tensor's size against its dtype and shape, and that the tensors tile the data section.</summary>
        private static void CheckLayout(Dictionary<string, SafetensorsEntry> tensors, long dataLength, string source)
        {
            var ordered = new List<SafetensorsEntry>(tensors.Values);
            foreach (SafetensorsEntry entry in ordered)
            {
                int size = ElementSize(entry.DType);
                if (size == 0)
                {
                    throw new InvalidDataException($"{source}: tensor '{entry.Name}' has dtype '{entry.DType}', which is not a safetensors dtype.");
                }

                if (entry.End < entry.Begin)
                {
                    throw new InvalidDataException($"{source}: tensor '{entry.Name}' has data_offsets [{entry.Begin}, {entry.End}], whose end comes before its start.");
                }

                long bytes = size;
                foreach (long dimension in entry.Shape)
                {
                    bytes = dimension == 0 ? 0 : bytes > long.MaxValue / dimension ? long.MaxValue : bytes * dimension;
                }

                if (entry.End - entry.Begin != bytes)
                {
                    throw new InvalidDataException($"{source}: tensor '{entry.Name}' is {entry.DType} {entry.ShapeText}, which takes {bytes} bytes, but its data_offsets [{entry.Begin}, {entry.End}] span {entry.End - entry.Begin}.");
                }

                if (entry.End > dataLength)
                {
                    throw new InvalidDataException($"{source} is truncated: tensor '{entry.Name}' ends at byte {entry.End} of the data, but the file holds {dataLength} bytes of data after its header.");
                }
            }

            ordered.Sort((a, b) => a.Begin != b.Begin ? a.Begin.CompareTo(b.Begin) : a.End.CompareTo(b.End));
            long expected = 0;
            string previous = "the start of the data";
            foreach (SafetensorsEntry entry in ordered)
            {
                if (entry.Begin < expected)
                {
                    throw new InvalidDataException($"{source}: tensors overlap: '{entry.Name}' starts at byte {entry.Begin} of the data, before {previous} ends at byte {expected}.");
                }

                if (entry.Begin > expected)
                {
                    throw new InvalidDataException($"{source}: there are {entry.Begin - expected} unused bytes between {previous} and tensor '{entry.Name}' (data_offsets must tile the data).");
                }

                expected = entry.End;
                previous = $"tensor '{entry.Name}'";
            }

            if (expected != dataLength)
            {
                throw new InvalidDataException($"{source} has {dataLength - expected} bytes after its last tensor that no tensor accounts for.");
            }
        }

        private static void Next(ref Utf8JsonReader reader, string source)
        {
            if (!reader.Read())
            {
                throw Malformed(source, "the JSON ends early");
            }
        }

        private static void Expect(ref Utf8JsonReader reader, JsonTokenType token, string what, string source)
        {
            Next(ref reader, source);
            if (reader.TokenType != token)
            {
                string wanted = token switch
                {
                    JsonTokenType.StartObject => "an object",
                    JsonTokenType.StartArray => "an array",
                    JsonTokenType.String => "a string",
                    _ => token.ToString(),
                };
                throw Malformed(source, $"{what} should be {wanted}, but it is {reader.TokenType}");
            }
        }

        private static InvalidDataException Malformed(string source, string detail) =>
            new($"{source} has a malformed JSON header: {detail}.");

        /// <summary>
        /// Writes a header for <paramref name="tensors"/>, in their order, with their dtypes, shapes (empty for a scalar)
        /// and data offsets: <c>__metadata__</c> first, padded with spaces so the data starts at a multiple of 8, as the
        /// reference writer does.
        /// </summary>
        public static byte[] Write(IReadOnlyDictionary<string, string> metadata, IReadOnlyList<SafetensorsEntry> tensors)
        {
            var json = new System.Buffers.ArrayBufferWriter<byte>();
            using (var writer = new Utf8JsonWriter(json))
            {
                writer.WriteStartObject();
                writer.WriteStartObject("__metadata__");
                foreach (KeyValuePair<string, string> pair in metadata)
                {
                    writer.WriteString(pair.Key, pair.Value);
                }

                writer.WriteEndObject();
                foreach (SafetensorsEntry tensor in tensors)
                {
                    writer.WriteStartObject(tensor.Name);
                    writer.WriteString("dtype", tensor.DType);
                    writer.WriteStartArray("shape");
                    foreach (long dimension in tensor.Shape)
                    {
                        writer.WriteNumberValue(dimension);
                    }

                    writer.WriteEndArray();
                    writer.WriteStartArray("data_offsets");
                    writer.WriteNumberValue(tensor.Begin);
                    writer.WriteNumberValue(tensor.End);
                    writer.WriteEndArray();
                    writer.WriteEndObject();
                }

                writer.WriteEndObject();
            }

            int padded = (json.WrittenCount + 7) & ~7;
            byte[] header = new byte[8 + padded];
            BinaryPrimitives.WriteUInt64LittleEndian(header, (ulong)padded);
            json.WrittenSpan.CopyTo(header.AsSpan(8));
            header.AsSpan(8 + json.WrittenCount).Fill((byte)' ');
            return header;
        }
    }
}
