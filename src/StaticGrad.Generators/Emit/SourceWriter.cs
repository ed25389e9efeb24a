using System;
using System.Text;

namespace StaticGrad.Generators.Emit
{
    /// <summary>A <see cref="StringBuilder"/> that tracks indentation, four spaces a level, <c>\n</c> line ends.</summary>
    internal sealed class SourceWriter
    {
        private readonly StringBuilder _builder = new();
        private int _indent;

        public void Line(string text = "")
        {
            if (text.Length > 0)
            {
                _builder.Append(' ', _indent * 4);
                _builder.Append(text);
            }

            _builder.Append('\n');
        }

        /// <summary>Writes <c>{</c> and indents.</summary>
        public void Open(string? header = null)
        {
            if (header is not null)
            {
                Line(header);
            }

            Line("{");
            _indent++;
        }

        /// <summary>Dedents and writes <c>}</c> plus an optional suffix.</summary>
        public void Close(string suffix = "")
        {
            _indent--;
            Line("}" + suffix);
        }

        /// <summary>
        /// Writes <c>{</c> and indents until the returned scope is disposed, which dedents and writes <c>}</c>:
        /// <c>using (w.Block("if (x)")) { w.Line(...); }</c> keeps the braces of the generated code next to the C# ones.
        /// </summary>
        public Scope Block(string? header = null)
        {
            Open(header);
            return new Scope(this, braces: true);
        }

        /// <summary>Indents one level (no braces) until the returned scope is disposed: continuation lines of a long call.</summary>
        public Scope Indented()
        {
            _indent++;
            return new Scope(this, braces: false);
        }

        /// <summary>
        /// Writes a multi-line template (a raw string literal with the shape-independent part of the code) line by line at
        /// the current indentation; the template's own indentation is kept relative to it, and blank lines stay blank.
        /// </summary>
        public void Lines(string template)
        {
            foreach (string line in template.Replace("\r\n", "\n").Split('\n'))
            {
                Line(line.TrimEnd());
            }
        }

        public override string ToString() => _builder.ToString();

        /// <summary>Ends a <see cref="Block"/> or an <see cref="Indented"/> region.</summary>
        public readonly struct Scope : IDisposable
        {
            private readonly SourceWriter _writer;
            private readonly bool _braces;

            internal Scope(SourceWriter writer, bool braces)
            {
                _writer = writer;
                _braces = braces;
            }

            public void Dispose()
            {
                if (_braces)
                {
                    _writer.Close();
                }
                else
                {
                    _writer._indent--;
                }
            }
        }
    }
}
