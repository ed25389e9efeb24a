using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Text;

namespace StaticGrad.Generators.Parsing
{
    /// <summary>Finds the syntax of one argument of an attribute, so a diagnostic can point at exactly that argument.</summary>
    internal static class AttributeArguments
    {
        /// <summary>Constructor argument <paramref name="index"/>, honouring <c>k: 10</c> style names.</summary>
        public static AttributeArgumentSyntax? Positional(AttributeSyntax? syntax, int index, string[] parameterNames)
        {
            if (syntax?.ArgumentList is not { } list)
            {
                return null;
            }

            int position = 0;
            foreach (var argument in list.Arguments)
            {
                if (argument.NameEquals is not null)
                {
                    continue;
                }

                if (argument.NameColon is { } nameColon)
                {
                    if (nameColon.Name.Identifier.ValueText == parameterNames[index])
                    {
                        return argument;
                    }
                }
                else if (position == index)
                {
                    return argument;
                }

                position++;
            }

            return null;
        }

        public static Location? PositionalLocation(AttributeSyntax? syntax, int index, string[] parameterNames) =>
            Positional(syntax, index, parameterNames)?.GetLocation();

        /// <summary>From the first to the last of two constructor arguments.</summary>
        public static Location? RangeLocation(AttributeSyntax? syntax, int first, int second, string[] parameterNames)
        {
            var a = Positional(syntax, first, parameterNames);
            var b = Positional(syntax, second, parameterNames);
            if (a is null || b is null)
            {
                return null;
            }

            int start = System.Math.Min(a.SpanStart, b.SpanStart);
            int end = System.Math.Max(a.Span.End, b.Span.End);
            return Location.Create(a.SyntaxTree, TextSpan.FromBounds(start, end));
        }

        /// <summary>A named property argument such as <c>Unroll = UnrollMode.Always</c>.</summary>
        public static Location? NamedLocation(AttributeSyntax? syntax, string name) =>
            syntax?.ArgumentList?.Arguments.FirstOrDefault(a => a.NameEquals?.Name.Identifier.ValueText == name)?.GetLocation();

        /// <summary>The type argument of a generic attribute such as <c>MatMul&lt;int&gt;</c>.</summary>
        public static Location? TypeArgumentLocation(AttributeSyntax? syntax)
        {
            NameSyntax? name = syntax?.Name;
            if (name is QualifiedNameSyntax qualified)
            {
                name = qualified.Right;
            }
            else if (name is AliasQualifiedNameSyntax aliased)
            {
                name = aliased.Name;
            }

            return name is GenericNameSyntax generic && generic.TypeArgumentList.Arguments.Count == 1
                ? generic.TypeArgumentList.Arguments[0].GetLocation()
                : null;
        }
    }
}
