using System.Collections.Immutable;
using System.Composition;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using StaticGrad.Generators.Diagnostics;

namespace StaticGrad.CodeFixes
{
    /// <summary>SGR0003: changes a layer's input size to what the layer before it produces, so the chain connects.</summary>
    [ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(ChainLayerInputCodeFix))]
    [Shared]
    public sealed class ChainLayerInputCodeFix : CodeFixProvider
    {
        /// <inheritdoc/>
        public override ImmutableArray<string> FixableDiagnosticIds { get; } =
            ImmutableArray.Create(DiagnosticDescriptors.LayerSizeMismatchId);

        /// <inheritdoc/>
        public override FixAllProvider GetFixAllProvider() => WellKnownFixAllProviders.BatchFixer;

        /// <inheritdoc/>
        public override async Task RegisterCodeFixesAsync(CodeFixContext context)
        {
            SyntaxNode? root = await context.Document.GetSyntaxRootAsync(context.CancellationToken).ConfigureAwait(false);
            if (root is null)
            {
                return;
            }

            foreach (Diagnostic diagnostic in context.Diagnostics)
            {
                if (!diagnostic.Properties.TryGetValue(DiagnosticDescriptors.ExpectedInputsProperty, out string? expectedText)
                    || !int.TryParse(expectedText, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int expected)
                    || root.FindNode(diagnostic.Location.SourceSpan) is not { } node
                    || node.FirstAncestorOrSelf<AttributeArgumentSyntax>() is not { } argument)
                {
                    continue;
                }

                context.RegisterCodeFix(
                    CodeAction.Create(
                        $"Change the input size to {expected}, the previous layer's output",
                        _ =>
                        {
                            var literal = SyntaxFactory.LiteralExpression(SyntaxKind.NumericLiteralExpression, SyntaxFactory.Literal(expected))
                                .WithTriviaFrom(argument.Expression);
                            return Task.FromResult(context.Document.WithSyntaxRoot(root.ReplaceNode(argument.Expression, literal)));
                        },
                        equivalenceKey: nameof(ChainLayerInputCodeFix)),
                    diagnostic);
            }
        }
    }
}
