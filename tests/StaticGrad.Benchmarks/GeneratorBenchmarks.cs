using System.Linq;
using System.Text;
using BenchmarkDotNet.Attributes;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using StaticGrad.Generators;

namespace StaticGrad.Benchmarks;

/// <summary>
/// Compile-time cost: StaticGrad's generator on a project with 200 annotated classes of mixed shapes (MatMul of
/// every code path, float and double, and networks), from scratch and after an unrelated edit (everything cached).
/// </summary>
[MemoryDiagnoser]
public class GeneratorBenchmarks
{
    private CSharpCompilation _compilation = null!;
    private CSharpCompilation _edited = null!;
    private GeneratorDriver _warm = null!;

    [GlobalSetup]
    public void Setup()
    {
        var source = new StringBuilder("using StaticGrad;\nnamespace Many;\n");
        for (int i = 0; i < 200; i++)
        {
            int m = 1 + (i * 7 % 96), k = 1 + (i * 13 % 96), n = 1 + (i * 5 % 96);
            source.AppendLine((i % 10) switch
            {
                9 => $"[Linear({8 + (i % 50)}, 32), ReLU, Linear(32, 10), SoftmaxCrossEntropy] public partial class C{i};",
                8 => $"[MatMul<double>({m}, {k}, {n})] public partial class C{i};",
                _ => $"[MatMul({m}, {k}, {n})] public partial class C{i};",
            });
        }

        _compilation = GeneratorInputs.Compilation("Many", source.ToString(), "class Unrelated { int a; }");
        _edited = _compilation.ReplaceSyntaxTree(
            _compilation.SyntaxTrees.Last(), CSharpSyntaxTree.ParseText("class Unrelated { int b; }", GeneratorInputs.ParseOptions));
        _warm = Driver().RunGenerators(_compilation);

        int generated = _warm.GetRunResult().GeneratedTrees.Length;
        if (generated != 200)
        {
            throw new System.InvalidOperationException($"expected 200 generated files, got {generated}");
        }
    }

    [Benchmark(Baseline = true, Description = "200 classes, first run")]
    public GeneratorDriver FirstRun() => Driver().RunGenerators(_compilation);

    [Benchmark(Description = "200 classes, after an unrelated edit")]
    public GeneratorDriver UnrelatedEdit() => _warm.RunGenerators(_edited);

    private static GeneratorDriver Driver() => GeneratorInputs.Driver();
}
