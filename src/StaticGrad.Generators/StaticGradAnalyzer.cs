using System.Collections.Generic;
using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using StaticGrad.Generators.Diagnostics;
using StaticGrad.Generators.Parsing;
using StaticGrad.Generators.Onnx;
using StaticGrad.Generators.Parsing.Models;
using StaticGrad.Generators.Parsing.Onnx;

namespace StaticGrad.Generators
{
    /// <summary>
    /// Reports StaticGrad's diagnostics while the user types. It runs the same parser as
    /// <see cref="StaticGradGenerator"/>, so a type gets code exactly when it gets no error; keeping
    /// diagnostics out of the generator keeps the generator's models free of locations and cacheable,
    /// and lets <c>#pragma warning disable</c> and .editorconfig severities apply as to any analyzer.
    /// </summary>
    [DiagnosticAnalyzer(LanguageNames.CSharp)]
    public sealed class StaticGradAnalyzer : DiagnosticAnalyzer
    {
        /// <inheritdoc/>
        public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } = ImmutableArray.Create(
            DiagnosticDescriptors.NonPositiveDimension,
            DiagnosticDescriptors.NotPartial,
            DiagnosticDescriptors.ShapeTooLarge,
            DiagnosticDescriptors.UnsupportedTarget,
            DiagnosticDescriptors.MemberCollision,
            DiagnosticDescriptors.InheritedMemberCollision,
            DiagnosticDescriptors.UnsupportedElementType,
            DiagnosticDescriptors.UnrollTooLarge,
            DiagnosticDescriptors.DuplicateShapeAttribute,
            DiagnosticDescriptors.SpanUnavailable,
            DiagnosticDescriptors.LayerSizeMismatch,
            DiagnosticDescriptors.LossWidth,
            DiagnosticDescriptors.LossNotLast,
            DiagnosticDescriptors.LayersSplit,
            DiagnosticDescriptors.NetworkWithoutLinear,
            DiagnosticDescriptors.MixedElementTypes,
            DiagnosticDescriptors.ThreadsUnavailable,
            DiagnosticDescriptors.ConstructorMustChain,
            DiagnosticDescriptors.AttributeNotUsable,
            DiagnosticDescriptors.InvalidLossSetting,
            DiagnosticDescriptors.LayerShape,
            DiagnosticDescriptors.ModelShape,
            DiagnosticDescriptors.ModelUnsupported,
            DiagnosticDescriptors.ModelArgument,
            DiagnosticDescriptors.ModelDeclaration,
            DiagnosticDescriptors.OnnxFileNotFound,
            DiagnosticDescriptors.OnnxFileInvalid,
            DiagnosticDescriptors.OnnxUnsupported);

        /// <inheritdoc/>
        public override void Initialize(AnalysisContext context)
        {
            context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
            context.EnableConcurrentExecution();
            context.RegisterSymbolAction(AnalyzeType, SymbolKind.NamedType);
        }

        private static void AnalyzeType(SymbolAnalysisContext context)
        {
            var type = (INamedTypeSymbol)context.Symbol;
            bool hasNetwork = false;
            foreach (AttributeData attribute in type.GetAttributes())
            {
                if (StaticGradAttributes.IsMatMul(attribute.AttributeClass))
                {
                    var sink = DiagnosticSink.Collecting();
                    MatMulParser.Parse(type, attribute, context.Compilation, sink, context.CancellationToken, reportContainers: false);
                    Report(context, sink);
                }
                else if (StaticGradAttributes.IsNetwork(attribute.AttributeClass))
                {
                    hasNetwork = true;
                }
            }

            if (ModelKind(type) is { } kind)
            {
                var sink = DiagnosticSink.Collecting();
                if (kind == ModelParser.ModelAttribute)
                {
                    ModelParser.ParseModel(type, context.Compilation, sink, context.CancellationToken, reportContainers: false);
                }
                else
                {
                    ModelParser.ParseModule(type, context.Compilation, sink, context.CancellationToken, reportContainers: false);
                }

                Report(context, sink);
            }

            if (FromOnnxAttribute(type) is { } fromOnnx)
            {
                AnalyzeFromOnnx(context, type, fromOnnx);
            }

            if (hasNetwork)
            {
                var sink = DiagnosticSink.Collecting();
                NetworkParser.Parse(type, context.Compilation, sink, context.CancellationToken, reportContainers: false);
                Report(context, sink);
            }

            // A container of an annotated type must be partial too; say so on the container itself.
            if (type.TypeKind != TypeKind.Error && TargetChecks.FindAnnotatedNestedType(type) is { } annotated)
            {
                var sink = DiagnosticSink.Collecting();
                TargetChecks.CheckPartial(type, annotated.Name, sink, context.CancellationToken);
                Report(context, sink);
            }
        }

        /// <summary><see cref="ModelParser.ModelAttribute"/> or <see cref="ModelParser.ModuleAttribute"/> when the type carries one ([Model] wins).</summary>
        private static AttributeData? FromOnnxAttribute(INamedTypeSymbol type)
        {
            foreach (AttributeData attribute in type.GetAttributes())
            {
                if (attribute.AttributeClass?.ToDisplayString() == FromOnnxParser.Attribute)
                {
                    return attribute;
                }
            }

            return null;
        }

        /// <summary>A [FromOnnx] class: the checks of the class, then the file's (found, read, imported), on the path argument.</summary>
        private static void AnalyzeFromOnnx(SymbolAnalysisContext context, INamedTypeSymbol type, AttributeData attribute)
        {
            var sink = DiagnosticSink.Collecting();
            FromOnnxRequest? request = FromOnnxParser.ReadRequest(type, attribute, context.Compilation, sink, context.CancellationToken, reportContainers: false);
            if (request is not null)
            {
                var copies = new List<OnnxAdditionalFile>();
                var raw = new List<string>();
                foreach (AdditionalText file in context.Options.AdditionalFiles)
                {
                    if (OnnxAdditionalFile.IsCopy(file.Path))
                    {
                        if (OnnxAdditionalFile.From(file, context.CancellationToken) is { } copy)
                        {
                            copies.Add(copy);
                        }
                    }
                    else if (OnnxAdditionalFile.IsRawOnnx(file.Path))
                    {
                        raw.Add(file.Path);
                    }
                }

                Location where = FromOnnxParser.PathLocation(attribute, type, context.CancellationToken);
                FromOnnxParser.Import(request, copies, raw, (descriptor, message) => sink.Report(descriptor, where, message), context.CancellationToken);
            }

            Report(context, sink);
        }

        private static string? ModelKind(INamedTypeSymbol type)
        {
            string? kind = null;
            foreach (AttributeData attribute in type.GetAttributes())
            {
                if (ModelParser.IsModelAttribute(attribute.AttributeClass))
                {
                    return ModelParser.ModelAttribute;
                }

                string? name = attribute.AttributeClass?.ToDisplayString();

                if (name == ModelParser.ModuleAttribute)
                {
                    kind = name;
                }
            }

            return kind;
        }

        private static void Report(SymbolAnalysisContext context, DiagnosticSink sink)
        {
            foreach (Diagnostic diagnostic in sink.Diagnostics)
            {
                context.ReportDiagnostic(diagnostic);
            }
        }
    }
}
