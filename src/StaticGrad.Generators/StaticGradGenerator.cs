using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using StaticGrad.Generators.Diagnostics;
using StaticGrad.Generators.Emit;
using StaticGrad.Generators.Emit.Graph;
using StaticGrad.Generators.Emit.Network;
using StaticGrad.Generators.Graph;
using StaticGrad.Generators.Helpers;
using StaticGrad.Generators.Model;
using StaticGrad.Generators.Onnx;
using StaticGrad.Generators.Parsing;
using StaticGrad.Generators.Parsing.Models;
using StaticGrad.Generators.Parsing.Onnx;

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

            // Networks: every network has a Linear layer or starts with Input, so one provider per such attribute finds them
            // all. The provider of the class's first such attribute owns it, so a class that carries several is written once.
            foreach (string anchor in StaticGradAttributes.NetworkAnchors)
            {
                IncrementalValuesProvider<NetworkSpec> networks = context.SyntaxProvider
                    .ForAttributeWithMetadataName(anchor, static (_, _) => true, (c, ct) => ParseNetwork(c, anchor, ct))
                    .WithTrackingName(TrackingNames.Network(anchor))
                    .Where(static spec => spec is not null)!;
                context.RegisterSourceOutput(networks, WriteNetwork);
            }

            // Models written as C#: a [Model] gets its graph compiled (and the module members); a [Module] only the module members.
            // [Model] and [Model<T>] are two attribute classes, so two providers; a class with both is written by the first only (see ParseModel).
            foreach (string attribute in new[] { ModelParser.ModelAttribute, ModelParser.ModelGenericAttribute })
            {
                IncrementalValuesProvider<ModelOutput> models = context.SyntaxProvider
                    .ForAttributeWithMetadataName(attribute, static (_, _) => true, (c, ct) => ParseModel(c, ct))
                    .WithTrackingName(TrackingNames.Model)
                    .Where(static model => model is not null)!;
                context.RegisterSourceOutput(models, static (output, model) =>
                    EmitGuard.AddSources(output, model.Graph.Type.DisplayName, () => new[] { (ModelEmitter.HintName(model.Graph), ModelEmitter.Emit(model.Graph, model.Module)) }));
            }

            // Models imported from ONNX files: the class's request, combined with the text copies of the .onnx additional files.
            IncrementalValueProvider<OnnxFiles> onnxFiles = context.AdditionalTextsProvider
                .Where(static file => OnnxAdditionalFile.IsCopy(file.Path) || OnnxAdditionalFile.IsRawOnnx(file.Path))
                .Select(static (file, ct) => (Copy: OnnxAdditionalFile.From(file, ct), Path: file.Path))
                .Collect()
                .Select(static (files, _) => new OnnxFiles(
                    EquatableArray.From(files.Where(f => f.Copy is not null).Select(f => f.Copy!)),
                    EquatableArray.From(files.Where(f => f.Copy is null && OnnxAdditionalFile.IsRawOnnx(f.Path)).Select(f => f.Path))))
                .WithTrackingName(TrackingNames.OnnxFiles);
            IncrementalValuesProvider<ImportedModel> imported = context.SyntaxProvider
                .ForAttributeWithMetadataName(FromOnnxParser.Attribute, static (_, _) => true, ParseFromOnnx)
                .WithTrackingName(TrackingNames.FromOnnx)
                .Where(static request => request is not null)
                .Combine(onnxFiles)
                .Select(static (pair, ct) => FromOnnxParser.Import(pair.Left!, pair.Right.Copies, pair.Right.Raw, null, ct))
                .WithTrackingName(TrackingNames.OnnxImport)
                .Where(static model => model is not null)!;
            context.RegisterSourceOutput(imported, static (output, model) =>
                EmitGuard.AddSources(output, model.Graph.Type.DisplayName, () => new[]
                {
                    (ModelEmitter.HintName(model.Graph), ModelEmitter.Emit(model.Graph, model.Module)),
                    (ImportedStateEmitter.HintName(model.Graph), ImportedStateEmitter.Emit(model.Graph)),
                }));

            IncrementalValuesProvider<ModuleSpec> modules = context.SyntaxProvider
                .ForAttributeWithMetadataName(ModelParser.ModuleAttribute, static (_, _) => true, ParseModule)
                .WithTrackingName(TrackingNames.Module)
                .Where(static module => module is not null)!;
            context.RegisterSourceOutput(modules, static (output, module) =>
                EmitGuard.AddSources(output, module.Type.DisplayName, () => new[] { (ModuleEmitter.HintName(module), ModuleEmitter.Emit(module)) }));
        }

        /// <summary>The ONNX additional files: the build targets' text copies, and the paths of .onnx files left binary.</summary>
        private sealed record OnnxFiles(EquatableArray<OnnxAdditionalFile> Copies, EquatableArray<string> Raw);

        private static FromOnnxRequest? ParseFromOnnx(GeneratorAttributeSyntaxContext context, CancellationToken cancellationToken) =>
            context.TargetSymbol is INamedTypeSymbol type && context.Attributes.Length == 1
                ? FromOnnxParser.ReadRequest(type, context.Attributes[0], context.SemanticModel.Compilation, DiagnosticSink.ErrorsOnly(), cancellationToken)
                : null;

        /// <summary>What a [Model] class gets: its graph and its module members, written into one file.</summary>
        private sealed record ModelOutput(GraphSpec Graph, ModuleSpec Module);

        private static ModelOutput? ParseModel(GeneratorAttributeSyntaxContext context, CancellationToken cancellationToken)
        {
            if (context.TargetSymbol is not INamedTypeSymbol type)
            {
                return null;
            }

            // A class with both [Model] and [Model<T>] is written once, by the provider of [Model] (the element type is Model<T>'s).
            if (context.Attributes[0].AttributeClass is { IsGenericType: true } && type.GetAttributes().Any(a => ModelParser.IsModelAttribute(a.AttributeClass) && a.AttributeClass is { IsGenericType: false }))
            {
                return null;
            }

            Compilation compilation = context.SemanticModel.Compilation;
            GraphSpec? graph = ModelParser.ParseModel(type, compilation, DiagnosticSink.ErrorsOnly(), cancellationToken, out ModuleSpec? module);
            return graph is null ? null : new ModelOutput(graph, module!);
        }

        private static ModuleSpec? ParseModule(GeneratorAttributeSyntaxContext context, CancellationToken cancellationToken) =>
            context.TargetSymbol is INamedTypeSymbol type && !type.GetAttributes().Any(a => ModelParser.IsModelAttribute(a.AttributeClass))
                ? ModelParser.ParseModule(type, context.SemanticModel.Compilation, DiagnosticSink.ErrorsOnly(), cancellationToken)
                : null;

        private static void Write(SourceProductionContext output, MatMulSpec spec) =>
            EmitGuard.AddSources(output, spec.Type.DisplayName, () => new[] { (MatMulEmitter.HintName(spec), MatMulEmitter.Emit(spec)) });

        private static void WriteNetwork(SourceProductionContext output, NetworkSpec spec) =>
            EmitGuard.AddSources(output, spec.Type.DisplayName, () => new[] { (NetworkEmitter.HintName(spec), NetworkEmitter.Emit(spec)) });

        private static NetworkSpec? ParseNetwork(GeneratorAttributeSyntaxContext context, string owner, CancellationToken cancellationToken) =>
            context.TargetSymbol is INamedTypeSymbol type
                ? NetworkParser.Parse(type, context.SemanticModel.Compilation, DiagnosticSink.ErrorsOnly(), cancellationToken, owner: owner)
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
