using System.Text;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;
using StaticGrad.Generators.Diagnostics;
using StaticGrad.Generators.Emit;
using StaticGrad.Generators.Emit.Network;
using StaticGrad.Generators.Model;
using StaticGrad.Generators.Parsing;

namespace StaticGrad.Generators
{
    /// <summary>
    /// The pipeline: find types annotated with <c>[MatMul]</c>/<c>[MatMul&lt;T&gt;]</c> or with network layers
    /// (<c>[Linear(…)]</c>, …), parse each into a <see cref="MatMulSpec"/> or <see cref="NetworkSpec"/> (plain values, so
    /// runs compare and cache), and emit one file per type.
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
                .ForAttributeWithMetadataName(StaticGradAttributes.MatMul, static (_, _) => true, Parse)
                .WithTrackingName(TrackingNames.MatMulFloat)
                .Where(static spec => spec is not null)!;

            IncrementalValuesProvider<MatMulSpec> genericSpecs = context.SyntaxProvider
                .ForAttributeWithMetadataName(StaticGradAttributes.MatMulGeneric, static (_, _) => true, Parse)
                .WithTrackingName(TrackingNames.MatMulGeneric)
                .Where(static spec => spec is not null)!;

            context.RegisterSourceOutput(floatSpecs, Write);
            context.RegisterSourceOutput(genericSpecs, Write);

            // Networks: every network starts with a Linear layer, so Linear and Linear<T> find them all. The provider of
            // the first Linear attribute owns the class, so a class that mixes both forms is written once.
            IncrementalValuesProvider<NetworkSpec> floatNetworks = context.SyntaxProvider
                .ForAttributeWithMetadataName(StaticGradAttributes.Linear, static (_, _) => true, static (c, ct) => ParseNetwork(c, false, ct))
                .WithTrackingName(TrackingNames.NetworkFloat)
                .Where(static spec => spec is not null)!;

            IncrementalValuesProvider<NetworkSpec> genericNetworks = context.SyntaxProvider
                .ForAttributeWithMetadataName(StaticGradAttributes.LinearGeneric, static (_, _) => true, static (c, ct) => ParseNetwork(c, true, ct))
                .WithTrackingName(TrackingNames.NetworkGeneric)
                .Where(static spec => spec is not null)!;

            context.RegisterSourceOutput(floatNetworks, WriteNetwork);
            context.RegisterSourceOutput(genericNetworks, WriteNetwork);
        }

        private static void Write(SourceProductionContext output, MatMulSpec spec) =>
            output.AddSource(MatMulEmitter.HintName(spec), SourceText.From(MatMulEmitter.Emit(spec), Encoding.UTF8));

        private static void WriteNetwork(SourceProductionContext output, NetworkSpec spec) =>
            output.AddSource(NetworkEmitter.HintName(spec), SourceText.From(NetworkEmitter.Emit(spec), Encoding.UTF8));

        private static NetworkSpec? ParseNetwork(GeneratorAttributeSyntaxContext context, bool generic, CancellationToken cancellationToken) =>
            context.TargetSymbol is INamedTypeSymbol type
                ? NetworkParser.Parse(type, context.SemanticModel.Compilation, DiagnosticSink.ErrorsOnly(), cancellationToken, ownerIsGeneric: generic)
                : null;

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
