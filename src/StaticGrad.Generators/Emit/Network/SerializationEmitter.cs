namespace StaticGrad.Generators.Emit.Network
{
    /// <summary>
    /// Save and Load of the parameters in a small versioned binary format (little-endian):
    /// <c>"SGRD"</c>, format version (uint16), element size (byte), reserved (byte), architecture length (int32) and
    /// UTF-8 text, parameter count (int32), the parameters, and an FNV-1a 64-bit checksum of everything before it.
    /// Loading validates everything before it touches the model; saving writes a temporary file and then replaces the target.
    /// </summary>
    internal static class SerializationEmitter
    {
        public static void Write(SourceWriter w, NetworkCode code)
        {
            string t = code.T;
            int size = code.Spec.Element == Model.ElementKind.Double ? 8 : 4;

            w.Line("/// <summary>The first four bytes of a saved network: <c>SGRD</c>.</summary>");
            w.Line("public const int FileMagic = 0x44524753;");
            w.Line();
            w.Line("/// <summary>The version of the file format <see cref=\"Save(string)\"/> writes and <see cref=\"Load(string)\"/> reads.</summary>");
            w.Line("public const ushort FileVersion = 1;");
            w.Line();

            w.Line("/// <summary>Saves the parameters to <paramref name=\"path\"/>. Writes a temporary file beside it and then replaces");
            w.Line("/// <paramref name=\"path\"/>, so a crash or a full disk never leaves a half-written file under that name.</summary>");
            w.Line("/// <param name=\"path\">The file to create or replace.</param>");
            w.Open("public void Save(string path)");
            w.Line("if (path == null) throw new global::System.ArgumentNullException(nameof(path));");
            w.Line("string full = global::System.IO.Path.GetFullPath(path);");
            w.Line("string temporary = full + \".\" + global::System.Guid.NewGuid().ToString(\"N\") + \".tmp\";");
            w.Open("try");
            w.Open("using (var stream = new global::System.IO.FileStream(temporary, global::System.IO.FileMode.CreateNew, global::System.IO.FileAccess.Write))");
            w.Line("Save(stream);");
            w.Line("stream.Flush(flushToDisk: true);");
            w.Close();
            w.Line();
            w.Open("if (global::System.IO.File.Exists(full))");
            w.Line("global::System.IO.File.Replace(temporary, full, null);");
            w.Close();
            w.Open("else");
            w.Line("global::System.IO.File.Move(temporary, full);");
            w.Close();
            w.Close();
            w.Open("finally");
            w.Line("if (global::System.IO.File.Exists(temporary)) global::System.IO.File.Delete(temporary);");
            w.Close();
            w.Close();
            w.Line();

            w.Line("/// <summary>Writes the parameters to <paramref name=\"stream\"/> in StaticGrad's network format.</summary>");
            w.Line("/// <param name=\"stream\">A writable stream.</param>");
            w.Open("public void Save(global::System.IO.Stream stream)");
            w.Line("if (stream == null) throw new global::System.ArgumentNullException(nameof(stream));");
            w.Line("byte[] architecture = global::System.Text.Encoding.UTF8.GetBytes(Architecture);");
            w.Line($"int length = 4 + 2 + 1 + 1 + 4 + architecture.Length + 4 + (ParameterCount * {size}) + 8;");
            w.Line("byte[] file = new byte[length];");
            w.Line("global::System.Span<byte> s = file;");
            w.Line("global::System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(s, FileMagic);");
            w.Line("global::System.Buffers.Binary.BinaryPrimitives.WriteUInt16LittleEndian(s.Slice(4), FileVersion);");
            w.Line($"s[6] = {size};");
            w.Line("global::System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(s.Slice(8), architecture.Length);");
            w.Line("new global::System.ReadOnlySpan<byte>(architecture).CopyTo(s.Slice(12));");
            w.Line("int at = 12 + architecture.Length;");
            w.Line("global::System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(s.Slice(at), ParameterCount);");
            w.Line("at += 4;");
            bool isDouble = code.Spec.Element == Model.ElementKind.Double;
            string bitsType = isDouble ? "long" : "int";
            string bitWidth = isDouble ? "64" : "32";
            w.Line($"// The parameters' bits, little-endian. MemoryMarshal.Cast (not BitConverter.SingleToInt32Bits) exists on every target with Span, netstandard2.0 included.");
            w.Line($"global::System.ReadOnlySpan<{bitsType}> bits = global::System.Runtime.InteropServices.MemoryMarshal.Cast<{code.T}, {bitsType}>(new global::System.ReadOnlySpan<{code.T}>(_parameters));");
            w.Open("for (int e = 0; e < ParameterCount; e++)");
            w.Line($"global::System.Buffers.Binary.BinaryPrimitives.WriteInt{bitWidth}LittleEndian(s.Slice(at + (e * {size})), bits[e]);");
            w.Close();
            w.Line();
            w.Line("global::System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(s.Slice(length - 8), Checksum(s.Slice(0, length - 8)));");
            w.Line("stream.Write(file, 0, file.Length);");
            w.Close();
            w.Line();

            w.Line("/// <summary>Loads parameters saved by <see cref=\"Save(string)\"/>. The file is read and checked in full before");
            w.Line("/// anything changes: a file of another architecture, a truncated or corrupt file throws and leaves the model as it was.</summary>");
            w.Line("/// <param name=\"path\">The file to read.</param>");
            w.Line("/// <exception cref=\"global::System.IO.InvalidDataException\">The file is not a network of this architecture, or is damaged.</exception>");
            w.Open("public void Load(string path)");
            w.Line("if (path == null) throw new global::System.ArgumentNullException(nameof(path));");
            w.Line("LoadBytes(global::System.IO.File.ReadAllBytes(path), path);");
            w.Close();
            w.Line();

            w.Line("/// <summary>Loads parameters from <paramref name=\"stream\"/> (read to its end); see <see cref=\"Load(string)\"/>.</summary>");
            w.Line("/// <param name=\"stream\">A readable stream positioned at the start of a saved network.</param>");
            w.Open("public void Load(global::System.IO.Stream stream)");
            w.Line("if (stream == null) throw new global::System.ArgumentNullException(nameof(stream));");
            w.Line("var buffer = new global::System.IO.MemoryStream();");
            w.Line("stream.CopyTo(buffer);");
            w.Line("LoadBytes(buffer.ToArray(), \"the stream\");");
            w.Close();
            w.Line();

            w.Open("private void LoadBytes(byte[] file, string source)");
            w.Line("global::System.ReadOnlySpan<byte> s = file;");
            w.Line("if (s.Length < 12 || global::System.Buffers.Binary.BinaryPrimitives.ReadInt32LittleEndian(s) != FileMagic)");
            w.Line("    throw new global::System.IO.InvalidDataException($\"{source} is not a StaticGrad network file (it does not start with 'SGRD').\");");
            w.Line("ushort version = global::System.Buffers.Binary.BinaryPrimitives.ReadUInt16LittleEndian(s.Slice(4));");
            w.Line("if (version != FileVersion)");
            w.Line("    throw new global::System.IO.InvalidDataException($\"{source} uses network file format version {version}; this code reads version {FileVersion}.\");");
            w.Line($"if (s[6] != {size})");
            w.Line($"    throw new global::System.IO.InvalidDataException($\"{{source}} holds {{s[6]}}-byte parameters, but this network uses {t} ({size} bytes).\");");
            w.Line("int architectureLength = global::System.Buffers.Binary.BinaryPrimitives.ReadInt32LittleEndian(s.Slice(8));");
            w.Line("if (architectureLength < 0 || architectureLength > s.Length - 12)");
            w.Line("    throw new global::System.IO.InvalidDataException($\"{source} is truncated or corrupt: its architecture text is cut off.\");");
            w.Line("string architecture = global::System.Text.Encoding.UTF8.GetString(file, 12, architectureLength);");
            w.Line("if (architecture != Architecture)");
            w.Line("    throw new global::System.IO.InvalidDataException($\"{source} holds a network of architecture '{architecture}', but this network is '{Architecture}'.\");");
            w.Line("int at = 12 + architectureLength;");
            w.Line($"long expected = (long)at + 4 + ((long)ParameterCount * {size}) + 8;");
            w.Line("if (s.Length < expected)");
            w.Line("    throw new global::System.IO.InvalidDataException($\"{source} is truncated: {s.Length} bytes, but a network of this architecture takes {expected}.\");");
            w.Line("if (s.Length > expected)");
            w.Line("    throw new global::System.IO.InvalidDataException($\"{source} is corrupt: {s.Length} bytes, but a network of this architecture takes {expected}.\");");
            w.Line("int count = global::System.Buffers.Binary.BinaryPrimitives.ReadInt32LittleEndian(s.Slice(at));");
            w.Line("if (count != ParameterCount)");
            w.Line("    throw new global::System.IO.InvalidDataException($\"{source} is corrupt: it declares {count} parameters, but this network has {ParameterCount}.\");");
            w.Line("ulong stored = global::System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(s.Slice(s.Length - 8));");
            w.Line("if (stored != Checksum(s.Slice(0, s.Length - 8)))");
            w.Line("    throw new global::System.IO.InvalidDataException($\"{source} is corrupt: its checksum does not match its contents.\");");
            w.Line("at += 4;");
            w.Line("// Every check passed: only now does the model change.");
            w.Line($"global::System.Span<{bitsType}> bits = global::System.Runtime.InteropServices.MemoryMarshal.Cast<{code.T}, {bitsType}>(new global::System.Span<{code.T}>(_parameters));");
            w.Open("for (int e = 0; e < ParameterCount; e++)");
            w.Line($"bits[e] = global::System.Buffers.Binary.BinaryPrimitives.ReadInt{bitWidth}LittleEndian(s.Slice(at + (e * {size})));");
            w.Close();
            w.Close();
            w.Line();

            w.Line("/// <summary>FNV-1a, 64 bits.</summary>");
            w.Open("private static ulong Checksum(global::System.ReadOnlySpan<byte> bytes)");
            w.Line("ulong hash = 14695981039346656037UL;");
            w.Open("foreach (byte b in bytes)");
            w.Line("hash = (hash ^ b) * 1099511628211UL;");
            w.Close();
            w.Line();
            w.Line("return hash;");
            w.Close();
            w.Line();
        }
    }
}
