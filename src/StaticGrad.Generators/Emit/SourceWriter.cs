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

        public override string ToString() => _builder.ToString();
    }
}
