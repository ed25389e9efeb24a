using System.Linq;
using Microsoft.CodeAnalysis;
using StaticGrad.Tests.Infrastructure;
using Xunit;

namespace StaticGrad.Tests.Generator;

/// <summary>
/// The generated source, compared with the committed <c>Snapshots/SnapshotTests.*.verified.cs</c> files.
/// Every case also compiles the output with warnings as failures, so a snapshot can never bless code that does not build.
/// </summary>
public class SnapshotTests
{
    [Fact]
    public void Float_5x10x3_Unrolled() => VerifyAll("""
        using StaticGrad;

        namespace Notebook;

        [MatMul(5, 10, 3)]
        public partial class Scores;
        """);

    [Fact]
    public void Double_5x10x3_Unrolled() => VerifyAll("""
        using StaticGrad;

        namespace Notebook;

        [MatMul<double>(5, 10, 3)]
        public partial class Scores;
        """);

    [Fact]
    public void Float_64x64x64_Looped() => VerifyAll("""
        using StaticGrad;

        namespace Big;

        [MatMul(64, 64, 64)]
        internal partial class Square;
        """);

    [Fact]
    public void Nested_InFileScopedNamespace() => VerifyAll("""
        using StaticGrad;

        namespace Company.Models.Layers;

        public static partial class Outer
        {
            internal partial struct Middle
            {
                [MatMul(2, 3, 4, Unroll = UnrollMode.Never)]
                private partial record class Inner;
            }
        }
        """);

    [Fact]
    public void SameName_InTwoNamespaces() => VerifyAll("""
        using StaticGrad;

        namespace Vision
        {
            [MatMul(1, 2, 1)]
            public partial class Layer;
        }

        namespace Audio
        {
            [MatMul<double>(1, 1, 2)]
            public partial class Layer;
        }
        """);

    [Fact]
    public void Generic_ContainingType_AndGlobalNamespace() => VerifyAll("""
        using StaticGrad;

        public partial class Container<TTag>
        {
            [MatMul(1, 1, 1)]
            public partial struct Cell;
        }
        """);

    [Fact]
    public void Float_256x256x256_TwoThreads() => VerifyAll(
        """
        using StaticGrad;

        namespace Big;

        [MatMul(256, 256, 256, Threads = 2)]
        public partial class Parallel;
        """,
        allowUnsafe: true);

    private static void VerifyAll(string source, bool allowUnsafe = false, [System.Runtime.CompilerServices.CallerMemberName] string method = "")
    {
        var compilation = TestCompilation.Create(source);
        compilation = compilation.WithOptions(compilation.Options.WithAllowUnsafe(allowUnsafe));
        var (output, result) = TestCompilation.Generate(compilation);

        var problems = TestCompilation.ErrorsAndWarnings(output);
        Assert.True(problems.Count == 0, "Generated code must compile without warnings:\n" + TestCompilation.Describe(problems));

        var generated = result.Results.Single().GeneratedSources;
        Assert.NotEmpty(generated);
        foreach (var file in generated.OrderBy(g => g.HintName, System.StringComparer.Ordinal))
        {
            Snapshot.Match(file.SourceText.ToString(), file.HintName, method: method);
        }
    }
}
