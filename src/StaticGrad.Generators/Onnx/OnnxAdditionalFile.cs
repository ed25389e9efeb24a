using System;
using System.Collections.Immutable;
using System.Linq;
using System.Text;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;

namespace StaticGrad.Generators.Onnx
{
    /// <summary>
    /// The text copy of an <c>*.onnx</c> <c>AdditionalFiles</c> item that the package's build targets (build/StaticGrad.targets)
    /// write under obj/, because compilers give generators additional files as text only: a header, the item as the project
    /// wrote it, its full path, then the bytes in base64. Equal when path, item and content checksum are (the text is kept
    /// aside to decode when the cache misses), so an unchanged file keeps the pipeline cached.
    /// </summary>
    internal sealed class OnnxAdditionalFile : IEquatable<OnnxAdditionalFile>
    {
        /// <summary>The first line of a copy.</summary>
        public const string Header = "StaticGrad ONNX as base64, version 1";

        /// <summary>How a copy's file name ends.</summary>
        public const string Extension = ".onnx.b64";

        private readonly SourceText? _text;
        private readonly int _dataStart;

        private OnnxAdditionalFile(string item, string fullPath, ImmutableArray<byte> checksum, SourceText? text, int dataStart)
        {
            Item = item;
            FullPath = fullPath;
            Checksum = checksum;
            _text = text;
            _dataStart = dataStart;
        }

        /// <summary>The item as the project wrote it, '/'-separated (<c>models/digits.onnx</c>).</summary>
        public string Item { get; }

        /// <summary>The original file's full path, '/'-separated.</summary>
        public string FullPath { get; }

        /// <summary>A checksum of the copy's text (so of the bytes).</summary>
        public ImmutableArray<byte> Checksum { get; }

        /// <summary>Whether an additional file is such a copy (by its name).</summary>
        public static bool IsCopy(string path) => path.EndsWith(Extension, StringComparison.OrdinalIgnoreCase);

        /// <summary>Whether an additional file is a binary ONNX file left as it is (the targets were not imported).</summary>
        public static bool IsRawOnnx(string path) => path.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase);

        /// <summary>Reads a copy's header; null when the file is not a copy in this format.</summary>
        public static OnnxAdditionalFile? From(AdditionalText file, CancellationToken cancellationToken)
        {
            if (!IsCopy(file.Path) || file.GetText(cancellationToken) is not { } text)
            {
                return null;
            }

            return From(text);
        }

        /// <summary>Reads a copy's header from its text; null when it is not in this format.</summary>
        public static OnnxAdditionalFile? From(SourceText text)
        {
            if (text.Lines.Count < 4 || text.Lines[0].ToString() != Header)
            {
                return null;
            }

            string item = text.Lines[1].ToString(), full = text.Lines[2].ToString();
            if (!item.StartsWith("path: ", StringComparison.Ordinal) || !full.StartsWith("full: ", StringComparison.Ordinal))
            {
                return null;
            }

            return new OnnxAdditionalFile(item.Substring(6), full.Substring(6), text.GetChecksum(), text, text.Lines[3].Start);
        }

        /// <summary>Writes a copy as the build targets do (for tests and tools).</summary>
        public static string Format(string item, string fullPath, byte[] bytes) =>
            $"{Header}\npath: {item.Replace('\\', '/')}\nfull: {fullPath.Replace('\\', '/')}\n{Convert.ToBase64String(bytes, Base64FormattingOptions.InsertLineBreaks).Replace("\r\n", "\n")}\n";

        /// <summary>
        /// Whether the attribute's path names this file: the item as written (separators and a leading <c>./</c> ignored), or
        /// the end of the full path after a separator. Case-sensitive, as file systems may be.
        /// </summary>
        public bool Matches(string path)
        {
            string wanted = Normalize(path);
            return wanted.Length > 0 && (Normalize(Item) == wanted || FullPath.Replace('\\', '/').EndsWith("/" + wanted, StringComparison.Ordinal));
        }

        /// <summary>Whether an attribute path names a raw .onnx additional file at <paramref name="filePath"/>.</summary>
        public static bool PathMatches(string filePath, string path)
        {
            string wanted = Normalize(path), full = filePath.Replace('\\', '/');
            return wanted.Length > 0 && (full == wanted || full.EndsWith("/" + wanted, StringComparison.Ordinal));
        }

        private static string Normalize(string path)
        {
            string p = path.Replace('\\', '/');
            while (p.StartsWith("./", StringComparison.Ordinal))
            {
                p = p.Substring(2);
            }

            return p;
        }

        /// <summary>The original file's bytes, or null with <paramref name="error"/> when the base64 is damaged.</summary>
        public byte[]? Decode(out string? error)
        {
            error = null;
            if (_text is null)
            {
                error = "its text copy is gone";
                return null;
            }

            var base64 = new StringBuilder(_text.Length - _dataStart);
            string data = _text.ToString(TextSpan.FromBounds(_dataStart, _text.Length));
            foreach (char c in data)
            {
                if (c is not ('\n' or '\r' or ' ' or '\t'))
                {
                    base64.Append(c);
                }
            }

            try
            {
                return Convert.FromBase64String(base64.ToString());
            }
            catch (FormatException)
            {
                error = "its text copy under obj/ is not valid base64 (rebuild to write it again)";
                return null;
            }
        }

        public bool Equals(OnnxAdditionalFile? other) =>
            other is not null && other.Item == Item && other.FullPath == FullPath && other.Checksum.SequenceEqual(Checksum);

        public override bool Equals(object? obj) => Equals(obj as OnnxAdditionalFile);

        public override int GetHashCode() => (Item.GetHashCode() * 397) ^ FullPath.GetHashCode();

        public override string ToString() => Item;
    }
}
