using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Testing;
using Xunit;
using static StaticGrad.Tests.Infrastructure.Verifiers;

namespace StaticGrad.Tests.Diagnostics;

/// <summary>
/// One test (or more) per diagnostic: the id, the exact span (the offending argument, never the whole class),
/// and the message arguments that put the numbers into words.
/// </summary>
public class DiagnosticTests
{
    [Fact]
    public Task ValidDeclarations_ReportNothing() => VerifyAnalyzerAsync("""
        using System;
        using StaticGrad;

        [MatMul(5, 10, 3)]
        public partial class Scores
        {
            // An overload with other parameter types is not a collision.
            public static void Forward(float[] w, float[] x, float[] d) { }
        }

        [MatMul<double>(1, 1, 1, Unroll = UnrollMode.Always)]
        public partial struct Small;

        public static partial class Outer
        {
            [MatMul(2, 3, 4)]
            internal partial record Inner;
        }
        """);

    [Fact]
    public Task SGR0001_ZeroDimension_PointsAtThatArgument() => VerifyAnalyzerAsync(
        """
        using StaticGrad;

        [MatMul(5, {|#0:0|}, 3)]
        public partial class Scores;
        """,
        Diagnostic("SGR0001").WithLocation(0).WithArguments("MatMul", "K", 0));

    [Fact]
    public Task SGR0001_NegativeDimensions_EachReported() => VerifyAnalyzerAsync(
        """
        using StaticGrad;

        [MatMul<double>({|#0:-1|}, 4, {|#1:n: -7|})]
        public partial class Scores;
        """,
        Diagnostic("SGR0001").WithLocation(0).WithArguments("MatMul", "M", -1),
        Diagnostic("SGR0001").WithLocation(1).WithArguments("MatMul", "N", -7));

    [Fact]
    public Task SGR0002_NotPartial_PointsAtIdentifier() => VerifyAnalyzerAsync(
        """
        using StaticGrad;

        [MatMul(5, 10, 3)]
        public class {|#0:Scores|}
        {
        }
        """,
        Diagnostic("SGR0002").WithLocation(0).WithArguments("Scores", ""));

    [Fact]
    public Task SGR0002_ContainingTypeNotPartial() => VerifyAnalyzerAsync(
        """
        using StaticGrad;

        public class {|#0:Outer|}
        {
            [MatMul(1, 2, 3)]
            public partial class Inner;
        }
        """,
        Diagnostic("SGR0002").WithLocation(0).WithArguments("Outer", " (it contains 'Inner')"));

    [Fact]
    public Task SGR0004_ElementCountBeyondArrayLimit_PointsAtTheTwoArguments() => VerifyAnalyzerAsync(
        """
        using StaticGrad;

        [MatMul({|#0:100000, 100000|}, 1)]
        public partial class Huge;
        """,
        Diagnostic("SGR0004").WithLocation(0).WithArguments("W", 100000, 100000, 10_000_000_000L, 0x7FFFFFC7L));

    [Fact]
    public Task SGR0004_OverflowingInt_IsReportedNotWrapped() => VerifyAnalyzerAsync(
        """
        using StaticGrad;

        [MatMul(1, {|#0:65536, 65536|})]
        public partial class Huge;
        """,
        Diagnostic("SGR0004").WithLocation(0).WithArguments("X", 65536, 65536, 4_294_967_296L, 0x7FFFFFC7L));

    [Fact]
    public Task SGR0005_FileLocalType() => VerifyAnalyzerAsync(
        """
        using StaticGrad;

        [MatMul(1, 2, 3)]
        file partial class {|#0:Hidden|};
        """,
        Diagnostic("SGR0005").WithLocation(0).WithArguments("Hidden", "it is file-local, and a generated file cannot add to a file-local type"));

    [Fact]
    public Task SGR0006_UserMembersThatCollide() => VerifyAnalyzerAsync(
        """
        using System;
        using StaticGrad;

        [MatMul(1, 2, 3)]
        public partial class Scores
        {
            public const int {|#0:K|} = 2;

            public static void {|#1:Backward|}(ReadOnlySpan<float> a, ReadOnlySpan<float> b, ReadOnlySpan<float> c, Span<float> e, Span<float> f) { }
        }
        """,
        Diagnostic("SGR0006").WithLocation(0).WithArguments("Scores", "K", "MatMul(1, 2, 3)"),
        Diagnostic("SGR0006").WithLocation(1).WithArguments("Scores", "Backward(ReadOnlySpan<float>, ReadOnlySpan<float>, ReadOnlySpan<float>, Span<float>, Span<float>)", "MatMul(1, 2, 3)"));

    [Fact]
    public Task SGR0006_TypeNamedLikeAGeneratedMember() => VerifyAnalyzerAsync(
        """
        using StaticGrad;

        [MatMul<double>(1, 2, 3)]
        public partial class {|#0:Forward|};
        """,
        Diagnostic("SGR0006").WithLocation(0).WithArguments("Forward", "the name 'Forward' (a member cannot share its type's name)", "MatMul<double>(1, 2, 3)"));

    [Fact]
    public Task SGR0007_ElementTypeNotFloatOrDouble_PointsAtTypeArgument() => VerifyAnalyzerAsync(
        """
        using StaticGrad;

        [MatMul<{|#0:int|}>(1, 2, 3)]
        public partial class Integers;
        """,
        Diagnostic("SGR0007").WithLocation(0).WithArguments("MatMul<T>", "int"));

    [Fact]
    public Task SGR0008_UnrollAlwaysTooLarge_IsAWarningOnTheNamedArgument() => VerifyAnalyzerAsync(
        """
        using StaticGrad;

        [MatMul(64, 64, 64, {|#0:Unroll = UnrollMode.Always|})]
        public partial class Big;
        """,
        Diagnostic("SGR0008").WithLocation(0).WithSeverity(DiagnosticSeverity.Warning).WithArguments(4096L, 64, 64, 64, 262144L));

    [Fact]
    public Task SGR0008_CanBeSuppressedWithPragma() => VerifyAnalyzerAsync(
        """
        using StaticGrad;

        #pragma warning disable SGR0008
        [MatMul(64, 64, 64, Unroll = UnrollMode.Always)]
        public partial class Big;
        #pragma warning restore SGR0008
        """);

    [Fact]
    public Task SGR0009_TwoShapeAttributes_PointsAtTheSecond() => VerifyAnalyzerAsync(
        """
        using StaticGrad;

        [MatMul(1, 2, 3)]
        [{|#0:MatMul<double>(1, 2, 3)|}]
        public partial class Twice;
        """,
        Diagnostic("SGR0009").WithLocation(0).WithArguments("Twice", "MatMul(1, 2, 3)"));

    [Fact]
    public Task SGR0016_ThreadsWithoutTheRuntimeLibrary_IsAWarning() => VerifyAnalyzerWithoutRuntimeAsync(
        """
        using StaticGrad;

        [MatMul(128, 784, 32, {|#0:Threads = 2|})]
        public partial class Big;
        """,
        Diagnostic("SGR0016").WithLocation(0).WithSeverity(DiagnosticSeverity.Warning)
            .WithArguments(2, "needs StaticGrad's run-time kernels (a .NET 8 or later target)"));

    [Fact]
    public Task Threads_WithoutUnsafeCode_IsFine() => VerifyAnalyzerAsync(
        """
        using StaticGrad;

        [MatMul(128, 784, 32, Threads = 2)]
        public partial class Big;
        """);

    [Fact]
    public Task SGR0016_ThreadsOutOfRange() => VerifyAnalyzerAsync(
        """
        using StaticGrad;

        [MatMul(8, 8, 8, {|#0:Threads = 0|})]
        public partial class Small;
        """,
        Diagnostic("SGR0016").WithLocation(0).WithSeverity(DiagnosticSeverity.Warning).WithArguments(0, "must be between 1 and 64"));

    [Fact]
    public Task SGR0006_PropertyNamedForward_Collides() => VerifyAnalyzerAsync(
        """
        using StaticGrad;

        [MatMul(1, 2, 3)]
        public partial class Scores
        {
            public int {|#0:Forward|} => 0;
        }
        """,
        Diagnostic("SGR0006").WithLocation(0).WithArguments("Scores", "Forward", "MatMul(1, 2, 3)"));

    [Fact]
    public Task SGR0018_ArgumentOfTheWrongType_SaysNoCodeFollows() => VerifyAnalyzerAsync(
        """
        using StaticGrad;

        [{|#0:MatMul(1, 2, {|CS1503:"3"|})|}]
        public partial class Scores;
        """,
        Diagnostic("SGR0018").WithLocation(0).WithArguments("Scores", "the attribute's arguments do not compile (see the compiler's error)"));

    [Fact]
    public Task SGR0018_MatMulOnAnInterface() => VerifyAnalyzerAsync(
        """
        using StaticGrad;

        [{|#0:{|CS0592:MatMul|}(1, 2, 3)|}]
        public partial interface IScores;
        """,
        Diagnostic("SGR0018").WithLocation(0).WithArguments("IScores", "[MatMul] applies to classes and structs, and 'IScores' is an interface"));

    [Fact]
    public Task SGR0018_LayersOnAStruct_EachReported() => VerifyAnalyzerAsync(
        """
        using StaticGrad;

        [{|#0:{|CS0592:Linear|}(4, 2)|}, {|#1:{|CS0592:SoftmaxCrossEntropy|}|}]
        public partial struct Net;
        """,
        Diagnostic("SGR0018").WithLocation(0).WithArguments("Net", "network layers apply to classes, and 'Net' is a struct"),
        Diagnostic("SGR0018").WithLocation(1).WithArguments("Net", "network layers apply to classes, and 'Net' is a struct"));

    [Fact]
    public Task SGR0018_UnrollOutsideUnrollMode_PointsAtIt() => VerifyAnalyzerAsync(
        """
        using StaticGrad;

        [MatMul(1, 2, 3, {|#0:Unroll = (UnrollMode)7|})]
        public partial class Scores;
        """,
        Diagnostic("SGR0018").WithLocation(0).WithArguments("Scores", "Unroll = 7 is not one of UnrollMode.Auto, UnrollMode.Always and UnrollMode.Never"));

    [Fact]
    public Task SGR0019_NonPositiveMargin_PointsAtIt() => VerifyAnalyzerAsync(
        """
        using StaticGrad;

        [Linear(4, 3), MulticlassSvm({|#0:Margin = -1|})]
        public partial class Net;

        [Linear(4, 3), MulticlassSvm({|#1:Margin = double.NaN|})]
        public partial class Other;
        """,
        Diagnostic("SGR0019").WithLocation(0).WithArguments("MulticlassSvm Margin", "-1"),
        Diagnostic("SGR0019").WithLocation(1).WithArguments("MulticlassSvm Margin", "NaN"));

    [Fact]
    public Task SGR0006_InheritedMembers_AreCheckedLikeOwnOnes_OnTheBaseList() => VerifyAnalyzerAsync(
        """
        using System;
        using StaticGrad;

        public class WithK { public int K; }
        public class WithForward { public static void Forward(ReadOnlySpan<float> w, ReadOnlySpan<float> x, Span<float> d) { } }
        public class WithOverload { public static void Forward(int value) { } private int M = 0; public int Other => M; }

        [MatMul(1, 2, 3)] public partial class A : {|#0:WithK|};
        [MatMul(1, 2, 3)] public partial class B : {|#1:WithForward|};
        [MatMul(1, 2, 3)] public partial class C : WithOverload; // an overload, and a private field it cannot see: fine
        """,
        new DiagnosticResult(StaticGrad.Generators.Diagnostics.DiagnosticDescriptors.InheritedMemberCollision).WithLocation(0).WithArguments("A", "'K'", "WithK", "MatMul(1, 2, 3)"),
        new DiagnosticResult(StaticGrad.Generators.Diagnostics.DiagnosticDescriptors.InheritedMemberCollision).WithLocation(1).WithArguments("B", "'Forward(ReadOnlySpan<float>, ReadOnlySpan<float>, Span<float>)'", "WithForward", "MatMul(1, 2, 3)"));
}
