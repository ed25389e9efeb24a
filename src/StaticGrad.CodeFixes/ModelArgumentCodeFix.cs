using System.Collections.Immutable;
using System.Composition;
using System.Globalization;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using StaticGrad.Generators.Diagnostics;

namespace StaticGrad.CodeFixes
{
    /// <summary>
    /// SGR0021 where one number repairs it: a module's size argument (Linear's in-features, Conv2d's in-channels, a norm's
    /// features) becomes what the value it receives has. The diagnostic sits on the call; the number is where the module is
    /// created, which the diagnostic carries as its additional location (possibly in another file).
    /// </summary>
    [ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(ModelArgumentCodeFix))]
    [Shared]
    public sealed class ModelArgumentCodeFix : CodeFixProvider
    {
        /// <inheritdoc/>
        public override ImmutableArray<string> FixableDiagnosticIds { get; } = ImmutableArray.Create(DiagnosticDescriptors.ModelShapeId);

        /// <inheritdoc/>
        public override FixAllProvider GetFixAllProvider() => WellKnownFixAllProviders.BatchFixer;

        /// <inheritdoc/>
        public override Task RegisterCodeFixesAsync(CodeFixContext context)
        {
            foreach (Diagnostic diagnostic in context.Diagnostics)
            {
                if (!diagnostic.Properties.TryGetValue(DiagnosticDescriptors.ExpectedArgumentProperty, out string? expectedText)
                    || !int.TryParse(expectedText, NumberStyles.None, CultureInfo.InvariantCulture, out int expected)
                    || diagnostic.AdditionalLocations.FirstOrDefault() is not { SourceTree: { } tree } where
                    || context.Document.Project.Solution.GetDocument(tree) is not { } document)
                {
                    continue;
                }

                context.RegisterCodeFix(
                    CodeAction.Create(
                        $"Change it to {expected.ToString(CultureInfo.InvariantCulture)}, the size it receives",
                        cancellationToken => Replace(document, where, expected, cancellationToken),
                        equivalenceKey: nameof(ModelArgumentCodeFix)),
                    diagnostic);
            }

            return Task.CompletedTask;
        }

        private static async Task<Solution> Replace(Document document, Location where, int expected, CancellationToken cancellationToken)
        {
            SyntaxNode? root = await document.GetSyntaxRootAsync(cancellationToken).ConfigureAwait(false);
            if (root?.FindNode(where.SourceSpan, getInnermostNodeForTie: true) is not ExpressionSyntax written)
            {
                return document.Project.Solution;
            }

            var literal = SyntaxFactory.LiteralExpression(SyntaxKind.NumericLiteralExpression, SyntaxFactory.Literal(expected)).WithTriviaFrom(written);
            return document.WithSyntaxRoot(root.ReplaceNode(written, literal)).Project.Solution;
        }
    }
}
