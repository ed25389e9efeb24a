using System.Threading.Tasks;
using Xunit;
using static StaticGrad.Tests.Infrastructure.Verifiers;

namespace StaticGrad.Tests.Diagnostics;

public class CodeFixTests
{
    [Fact]
    public Task AddPartial_ToTheAnnotatedClass() => VerifyAddPartialAsync(
        """
        using StaticGrad;

        [MatMul(5, 10, 3)]
        public sealed class {|#0:Scores|}
        {
        }
        """,
        """
        using StaticGrad;

        [MatMul(5, 10, 3)]
        public sealed partial class Scores
        {
        }
        """,
        Diagnostic("SGR0002").WithLocation(0).WithArguments("Scores", ""));

    [Fact]
    public Task AddPartial_ToAContainingStructWithoutModifiers() => VerifyAddPartialAsync(
        """
        using StaticGrad;

        struct {|#0:Outer|}
        {
            [MatMul(1, 1, 1)]
            partial class Inner { }
        }
        """,
        """
        using StaticGrad;

        partial struct Outer
        {
            [MatMul(1, 1, 1)]
            partial class Inner { }
        }
        """,
        Diagnostic("SGR0002").WithLocation(0).WithArguments("Outer", " (it contains 'Inner')"));
}
