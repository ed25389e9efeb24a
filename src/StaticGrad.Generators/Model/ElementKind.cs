namespace StaticGrad.Generators.Model
{
    /// <summary>The element type of generated code.</summary>
    internal enum ElementKind
    {
        Float,
        Double,
    }

    internal static class ElementKindExtensions
    {
        /// <summary>The C# keyword: <c>float</c> or <c>double</c>.</summary>
        public static string Keyword(this ElementKind kind) => kind == ElementKind.Double ? "double" : "float";
    }
}
