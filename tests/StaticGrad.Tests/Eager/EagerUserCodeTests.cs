using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Runtime.Loader;
using Microsoft.CodeAnalysis;
using StaticGrad.Tests.Infrastructure;
using Xunit;

namespace StaticGrad.Tests.Eager;

/// <summary>
/// The README's "models as C# code" example compiles against the attributes and the eager API exactly as written, and runs,
/// with the partial part the generator will add written here by hand (the generator is not run). Also: <c>[Linear(4, 8)]</c>
/// still binds to <see cref="LinearAttribute"/> while <c>new Linear(4, 8)</c> is the module.
/// </summary>
public class EagerUserCodeTests
{
    private const string UserCode = """
        using StaticGrad;
        using static StaticGrad.Functional;

        [Module]
        public partial class ResidualBlock
        {
            readonly Conv2d conv1, conv2;
            readonly BatchNorm2d bn1, bn2;
            public ResidualBlock(int channels)
            {
                conv1 = new Conv2d(channels, channels, 3, padding: 1, bias: false);
                bn1 = new BatchNorm2d(channels);
                conv2 = new Conv2d(channels, channels, 3, padding: 1, bias: false);
                bn2 = new BatchNorm2d(channels);
            }
            public Tensor Forward(Tensor x)
            {
                var h = Relu(bn1.Forward(conv1.Forward(x)));
                h = bn2.Forward(conv2.Forward(h));
                return Relu(x + h);
            }
        }

        [Model(Loss = Loss.SoftmaxCrossEntropy)]
        public partial class FashionResNet
        {
            readonly Conv2d stem = new(1, 32, 3, padding: 1);
            readonly BatchNorm2d bn = new(32);
            readonly ResidualBlock block1 = new(32), block2 = new(32);
            readonly Linear head = new(32 * 7 * 7, 10);
            public Tensor Forward([Shape(1, 28, 28)] Tensor x)
            {
                var h = MaxPool2d(Relu(bn.Forward(stem.Forward(x))), 2);
                h = MaxPool2d(block2.Forward(block1.Forward(h)), 2);
                return head.Forward(h.Flatten());
            }
        }
        """;

    /// <summary>What the generator will add (from the brief): the base class and Visit in field declaration order.</summary>
    private const string GeneratedPart = """
        partial class ResidualBlock : global::StaticGrad.Module
        {
            protected override void Visit(global::StaticGrad.ModuleVisitor visitor)
            {
                visitor.Module("conv1", conv1);
                visitor.Module("conv2", conv2);
                visitor.Module("bn1", bn1);
                visitor.Module("bn2", bn2);
            }
        }

        partial class FashionResNet : global::StaticGrad.Module
        {
            protected override void Visit(global::StaticGrad.ModuleVisitor visitor)
            {
                visitor.Module("stem", stem);
                visitor.Module("bn", bn);
                visitor.Module("block1", block1);
                visitor.Module("block2", block2);
                visitor.Module("head", head);
            }
        }
        """;

    [Fact]
    public void ReadmeExample_CompilesAndRuns()
    {
        var compilation = TestCompilation.Create(UserCode, GeneratedPart);
        var problems = TestCompilation.ErrorsAndWarnings(compilation);
        Assert.True(problems.Count == 0, TestCompilation.Describe(problems));

        using var image = new MemoryStream();
        var emit = compilation.Emit(image);
        Assert.True(emit.Success, TestCompilation.Describe(emit.Diagnostics));
        var context = new AssemblyLoadContext("EagerUserCode", isCollectible: true);
        try
        {
            image.Position = 0;
            Assembly assembly = context.LoadFromStream(image);
            Module.ManualSeed(3);
            var model = (Module)Activator.CreateInstance(assembly.GetType("FashionResNet")!)!;

            string[] names = model.NamedParameters().Select(p => p.Key).ToArray();
            Assert.Equal(4 + 2 * 6 + 2, names.Length);
            Assert.Equal("stem.weight", names[0]);
            Assert.Contains("block1.conv1.weight", names);
            Assert.Contains("block2.bn2.bias", names);
            Assert.Equal("head.bias", names[^1]);
            Assert.Contains("block1.bn1.running_var", model.NamedBuffers().Select(b => b.Key));
            Assert.Equal(5, model.NamedCounters().Count);

            var x = new Tensor(2, 1, 28, 28);
            for (int i = 0; i < x.AsSpan().Length; i++) x.AsSpan()[i] = (i % 17) / 17f;
            var forward = assembly.GetType("FashionResNet")!.GetMethod("Forward")!;
            var y = (Tensor)forward.Invoke(model, new object[] { x })!;
            Assert.Equal("Tensor(batch 2, 10)", y.ToString());
            Assert.All(y.ToArray(), v => Assert.True(float.IsFinite(v)));
        }
        finally
        {
            context.Unload();
        }
    }

    [Fact]
    public void LayerAttributesAndModuleClasses_ShareNamesWithoutAmbiguity()
    {
        const string source = """
            using StaticGrad;

            [Linear(4, 8), Dropout(0.5), Linear(8, 3), SoftmaxCrossEntropy]
            public partial class Net;

            public static class Use
            {
                public static Module[] Make() => new Module[] { new Linear(4, 8), new Dropout(0.5), new Conv2d(1, 2, 3) };
            }
            """;
        var compilation = TestCompilation.Create(source);
        Assert.Empty(compilation.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error));

        var tree = compilation.SyntaxTrees.Single();
        var model = compilation.GetSemanticModel(tree);
        var attributes = tree.GetRoot().DescendantNodes().OfType<Microsoft.CodeAnalysis.CSharp.Syntax.AttributeSyntax>().ToList();
        Assert.Equal("StaticGrad.LinearAttribute", model.GetTypeInfo(attributes[0]).Type!.ToDisplayString());
        Assert.Equal("StaticGrad.DropoutAttribute", model.GetTypeInfo(attributes[1]).Type!.ToDisplayString());
        var creations = tree.GetRoot().DescendantNodes().OfType<Microsoft.CodeAnalysis.CSharp.Syntax.ObjectCreationExpressionSyntax>().ToList();
        Assert.Equal("StaticGrad.Linear", model.GetTypeInfo(creations[0]).Type!.ToDisplayString());
        Assert.Equal("StaticGrad.Dropout", model.GetTypeInfo(creations[1]).Type!.ToDisplayString());
    }
}
