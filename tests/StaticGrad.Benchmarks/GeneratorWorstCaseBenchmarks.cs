using System.Linq;
using System.Text;
using BenchmarkDotNet.Attributes;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using StaticGrad.Generators;

namespace StaticGrad.Benchmarks;

/// <summary>
/// The generator's worst cases: the largest straight-line MatMul it accepts (<c>Unroll = Always</c> at M·K·N = 4096,
/// 1×1×4096 writes the longest file), the "fully unrolled 4096³" it refuses (SGR0008, loops), and a 132-layer network.
/// Each is timed from scratch (nothing cached), and — for the unrolled file — with the compiler binding the generated
/// code too, which is what a user's build pays.
/// </summary>
[MemoryDiagnoser]
public class GeneratorWorstCaseBenchmarks
{
    private CSharpCompilation _unrolled = null!;
    private CSharpCompilation _refused = null!;
    private CSharpCompilation _deepNetwork = null!;

    [GlobalSetup]
    public void Setup()
    {
        _unrolled = Compile("[MatMul(1, 1, 4096, Unroll = UnrollMode.Always)] public partial class C;");
        _refused = Compile("[MatMul(4096, 4096, 4096, Unroll = UnrollMode.Always)] public partial class C;");
        var layers = new StringBuilder("[Linear(784, 256)");
        for (int i = 0; i < 64; i++)
        {
            layers.Append(", ReLU, Linear(256, 256)");
        }

        _deepNetwork = Compile(layers + ", ReLU, Linear(256, 10), SoftmaxCrossEntropy] public partial class Net;");
        foreach (var compilation in new[] { _unrolled, _refused, _deepNetwork })
        {
            Driver().RunGeneratorsAndUpdateCompilation(compilation, out Compilation output, out _);
            var errors = output.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error).ToList();
            if (errors.Count > 0 || output.SyntaxTrees.Count() != 2)
            {
                throw new System.InvalidOperationException("the worst-case inputs must generate compiling code: " + string.Join("; ", errors));
            }
        }
    }

    [Benchmark(Description = "MatMul(1, 1, 4096), Always: generate")]
    public GeneratorDriver Unrolled() => Driver().RunGenerators(_unrolled);

    [Benchmark(Description = "MatMul(1, 1, 4096), Always: generate + bind")]
    public int UnrolledAndBound()
    {
        Driver().RunGeneratorsAndUpdateCompilation(_unrolled, out Compilation output, out _);
        return output.GetDiagnostics().Length;
    }

    [Benchmark(Description = "MatMul(4096, 4096, 4096), Always: generate (SGR0008, loops)")]
    public GeneratorDriver Refused() => Driver().RunGenerators(_refused);

    [Benchmark(Description = "132-layer network: generate")]
    public GeneratorDriver DeepNetwork() => Driver().RunGenerators(_deepNetwork);

    private static CSharpCompilation Compile(string declaration) => GeneratorInputs.Compilation("WorstCase", "using StaticGrad;\n" + declaration);

    private static GeneratorDriver Driver() => GeneratorInputs.Driver();
}
