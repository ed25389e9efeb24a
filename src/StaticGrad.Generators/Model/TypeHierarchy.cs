using StaticGrad.Generators.Helpers;

namespace StaticGrad.Generators.Model
{
    /// <summary>
    /// Where the generated partial declaration goes: the namespace and every type declaration from the
    /// outermost containing type down to the annotated type itself, as plain strings.
    /// </summary>
    /// <param name="Namespace">The containing namespace (<c>A.B</c>), or <see langword="null"/> for the global namespace.</param>
    /// <param name="Types">Outermost first; the last entry is the annotated type.</param>
    /// <param name="MetadataName">The fully qualified metadata name (<c>A.B.Outer+Inner`1</c>), unique in a compilation.</param>
    /// <param name="DisplayName">The name as a user reads it (<c>A.B.Outer.Inner&lt;T&gt;</c>).</param>
    internal sealed record TypeHierarchy(
        string? Namespace,
        EquatableArray<TypeDeclarationInfo> Types,
        string MetadataName,
        string DisplayName)
    {
        /// <summary>The annotated type's own declaration.</summary>
        public TypeDeclarationInfo Target => Types[Types.Count - 1];
    }

    /// <summary>One partial type declaration to reopen.</summary>
    /// <param name="Keyword">The declaration keywords: <c>class</c>, <c>struct</c>, <c>ref struct</c>, <c>record</c>, <c>record struct</c> or <c>interface</c>.</param>
    /// <param name="Name">The name with its type parameter list (<c>Outer&lt;T&gt;</c>).</param>
    internal readonly record struct TypeDeclarationInfo(string Keyword, string Name);
}
