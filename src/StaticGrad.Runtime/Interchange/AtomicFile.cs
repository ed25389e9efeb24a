using System;
using System.IO;

namespace StaticGrad.Interchange
{
    /// <summary>Writes a file so that a crash or a full disk never leaves a half-written file under its name.</summary>
    internal static class AtomicFile
    {
        /// <summary>Writes <paramref name="contents"/> to a temporary file beside <paramref name="path"/>, flushes it to disk, then replaces <paramref name="path"/>.</summary>
        public static void WriteAllBytes(string path, ReadOnlySpan<byte> contents)
        {
            if (path is null)
            {
                throw new ArgumentNullException(nameof(path));
            }

            string full = Path.GetFullPath(path);
            string temporary = full + "." + Guid.NewGuid().ToString("N") + ".tmp";
            try
            {
                using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write))
                {
                    stream.Write(contents);
                    stream.Flush(flushToDisk: true);
                }

                File.Move(temporary, full, overwrite: true);
            }
            finally
            {
                if (File.Exists(temporary))
                {
                    File.Delete(temporary);
                }
            }
        }

        /// <summary>Reads <paramref name="stream"/> from its position to its end.</summary>
        public static byte[] ReadToEnd(Stream stream)
        {
            if (stream is null)
            {
                throw new ArgumentNullException(nameof(stream));
            }

            using var buffer = new MemoryStream();
            stream.CopyTo(buffer);
            return buffer.ToArray();
        }
    }
}
