using System.IO;
using System.Linq;
using System.Runtime.CompilerServices;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using StaticGrad.Generators.Parsing;
using Xunit;

namespace StaticGrad.Tests.Generator;

/// <summary>
/// The collision check (SGR0006) only knows the names in the parsers' reserved lists. These tests collect every member the
/// generator declares in the committed snapshots and check that each one is reserved, so a new generated member cannot
/// be forgotten in the list (a user member of that name would then break the build with CS0102 instead of SGR0006).
/// </summary>
public class ReservedNameTests
{
    [Fact]
    public void EveryMemberOfAGeneratedNetwork_IsReserved()
    {
        string[] members = DeclaredMembers("NetworkSnapshotTests.");
        Assert.Contains("TrainStep", members); // the collection sees methods, properties, fields and nested types
        Assert.Contains("Optimizer", members);
        Assert.Contains("_node3Indices", members);
        Assert.Contains("LabelSpan", members);
        string[] missing = members
            .Where(name => !NetworkParser.IsReservedMemberName(name))
            .Distinct()
            .ToArray();
        Assert.True(missing.Length == 0, "generated network members missing from NetworkParser.ReservedNames: " + string.Join(", ", missing));
    }

    [Fact]
    public void EveryMemberOfAGeneratedMatMul_IsReserved()
    {
        string[] members = DeclaredMembers("SnapshotTests.");
        Assert.Contains("WMatrix", members);
        Assert.Contains("Forward", members);
        string[] missing = members
            .Where(name => !MatMulParser.ReservedNames.Contains(name) && name is not ("Forward" or "Backward"))
            .Distinct()
            .ToArray();
        Assert.True(missing.Length == 0, "generated MatMul members missing from MatMulParser.ReservedNames: " + string.Join(", ", missing));
    }

    /// <summary>The names of the members declared directly in each snapshot's annotated type (not in its nested types).</summary>
    private static string[] DeclaredMembers(string prefix, [CallerFilePath] string callerFile = "")
    {
        string directory = Path.Combine(Path.GetDirectoryName(Path.GetDirectoryName(callerFile)!)!, "Snapshots");
        var files = Directory.GetFiles(directory, prefix + "*.verified.cs").Where(f => Path.GetFileName(f).StartsWith(prefix, System.StringComparison.Ordinal)).ToArray();
        Assert.NotEmpty(files);
        return files.SelectMany(file =>
        {
            SyntaxNode root = CSharpSyntaxTree.ParseText(File.ReadAllText(file)).GetRoot();
            // The annotated type is the innermost partial declaration that the generated file reopens.
            TypeDeclarationSyntax target = root.DescendantNodes().OfType<TypeDeclarationSyntax>()
                .First(t => t.Modifiers.Any(m => m.IsKind(SyntaxKind.PartialKeyword)) && !t.Members.OfType<TypeDeclarationSyntax>().Any(n => n.Modifiers.Any(m => m.IsKind(SyntaxKind.PartialKeyword))));
            return target.Members.SelectMany(member => member switch
            {
                FieldDeclarationSyntax field => field.Declaration.Variables.Select(v => v.Identifier.Text),
                PropertyDeclarationSyntax { ExplicitInterfaceSpecifier: null } property => new[] { property.Identifier.Text },
                MethodDeclarationSyntax { ExplicitInterfaceSpecifier: null } method => new[] { method.Identifier.Text },
                BaseTypeDeclarationSyntax type => new[] { type.Identifier.Text },
                _ => System.Array.Empty<string>(),
            });
        }).ToArray();
    }
}
