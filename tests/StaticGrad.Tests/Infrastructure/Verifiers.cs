using System.Linq;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis.CSharp.Testing;
using Microsoft.CodeAnalysis.Testing;
using StaticGrad.CodeFixes;
using StaticGrad.Generators;

namespace StaticGrad.Tests.Infrastructure;

/// <summary>
/// Microsoft.CodeAnalysis.Testing with offline references: .NET 8 reference assemblies from
/// Basic.Reference.Assemblies and StaticGrad.Attributes, so no test downloads packages.
/// </summary>
internal static class Verifiers
{
    private static readonly ReferenceAssemblies Offline = new("net8.0");

    /// <summary>The expected diagnostic with this id; SGR0006 has a second descriptor for inherited members, chosen explicitly where meant.</summary>
    public static DiagnosticResult Diagnostic(string id) =>
        new(new StaticGradAnalyzer().SupportedDiagnostics.First(d => d.Id == id));

    public static Task VerifyAnalyzerAsync(string source, params DiagnosticResult[] expected) =>
        VerifyAnalyzerAsync(source, TestCompilation.References, expected);

    /// <summary>As a project that does not get StaticGrad.Runtime (a netstandard2.0 library, say) sees it.</summary>
    public static Task VerifyAnalyzerWithoutRuntimeAsync(string source, params DiagnosticResult[] expected) =>
        VerifyAnalyzerAsync(source, TestCompilation.References.Where(r => !(r.Display ?? string.Empty).EndsWith("StaticGrad.Runtime.dll", System.StringComparison.Ordinal)), expected);

    private static async Task VerifyAnalyzerAsync(string source, System.Collections.Generic.IEnumerable<Microsoft.CodeAnalysis.MetadataReference> references, DiagnosticResult[] expected)
    {
        var test = new CSharpAnalyzerTest<StaticGradAnalyzer, DefaultVerifier>
        {
            TestCode = source,
            ReferenceAssemblies = Offline,
        };
        test.TestState.AdditionalReferences.AddRange(references);
        test.ExpectedDiagnostics.AddRange(expected);
        test.SolutionTransforms.Add(LikeAFreshProject);
        await test.RunAsync();
    }

    /// <summary>The testing library allows unsafe code by default; a new project does not.</summary>
    private static Microsoft.CodeAnalysis.Solution LikeAFreshProject(Microsoft.CodeAnalysis.Solution solution, Microsoft.CodeAnalysis.ProjectId projectId)
    {
        var options = (Microsoft.CodeAnalysis.CSharp.CSharpCompilationOptions)solution.GetProject(projectId)!.CompilationOptions!;
        return solution.WithProjectCompilationOptions(projectId, options.WithAllowUnsafe(false));
    }

    public static Task VerifyAddPartialAsync(string source, string fixedSource, params DiagnosticResult[] expected) =>
        VerifyCodeFixAsync<AddPartialCodeFix>(source, fixedSource, expected);

    public static async Task VerifyCodeFixAsync<TCodeFix>(string source, string fixedSource, params DiagnosticResult[] expected)
        where TCodeFix : Microsoft.CodeAnalysis.CodeFixes.CodeFixProvider, new()
    {
        var test = new CSharpCodeFixTest<StaticGradAnalyzer, TCodeFix, DefaultVerifier>
        {
            TestCode = source,
            FixedCode = fixedSource,
            ReferenceAssemblies = Offline,
        };
        test.TestState.AdditionalReferences.AddRange(TestCompilation.References);
        test.FixedState.AdditionalReferences.AddRange(TestCompilation.References);
        test.ExpectedDiagnostics.AddRange(expected);
        await test.RunAsync();
    }
}
