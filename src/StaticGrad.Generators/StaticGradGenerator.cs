using System.Text;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;
using StaticGrad.Generators.Diagnostics;
using StaticGrad.Generators.Emit;
using StaticGrad.Generators.Model;
using StaticGrad.Generators.Parsing;

namespace StaticGrad.Generators
{
    /// <summary>
    /// The pipeline: find types annotated with <c>[MatMul]</c> or <c>[MatMul&lt;T&gt;]</c>, parse each into a
    /// <see cref="MatMulSpec"/> (plain values, so runs compare and cache), and emit one file per type.
    /// Invalid types produce no spec and no code; <see cref="StaticGradAnalyzer"/> reports why.
    /// </summary>
    [Generator(LanguageNames.CSharp)]
    public sealed class StaticGradGenerator : IIncrementalGenerator
    {
        /// <inheritdoc/>
        public void Initialize(IncrementalGeneratorInitializationContext context)
        {
            // One provider per attribute class. A type that carries both gets no spec from either (SGR0009),
            // so the two outputs never write the same hint name.
            IncrementalValuesProvider<MatMulSpec> floatSpecs = context.SyntaxProvider
                .ForAttributeWithMetadataName(MatMulParser.FloatAttributeMetadataName, static (_, _) => true, Parse)
                .WithTrackingName(TrackingNames.MatMulFloat)
                .Where(static spec => spec is not null)!;

            IncrementalValuesProvider<MatMulSpec> genericSpecs = context.SyntaxProvider
                .ForAttributeWithMetadataName(MatMulParser.GenericAttributeMetadataName, static (_, _) => true, Parse)
                .WithTrackingName(TrackingNames.MatMulGeneric)
                .Where(static spec => spec is not null)!;

            context.RegisterSourceOutput(floatSpecs, Write);
            context.RegisterSourceOutput(genericSpecs, Write);
        }

        private static void Write(SourceProductionContext output, MatMulSpec spec) =>
            output.AddSource(MatMulEmitter.HintName(spec), SourceText.From(MatMulEmitter.Emit(spec), Encoding.UTF8));

        private static MatMulSpec? Parse(GeneratorAttributeSyntaxContext context, CancellationToken cancellationToken)
        {
            if (context.TargetSymbol is not INamedTypeSymbol type || context.Attributes.Length == 0)
            {
                return null;
            }

            return MatMulParser.Parse(type, context.Attributes[0], context.SemanticModel.Compilation, DiagnosticSink.ErrorsOnly(), cancellationToken);
        }
    }
}
