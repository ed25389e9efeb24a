using System;
using System.Text;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;
using StaticGrad.Generators.Diagnostics;

namespace StaticGrad.Generators
{
    /// <summary>
    /// Every file the generator adds goes through here: the emitter runs inside a catch-all, so an exception in it (a bug)
    /// becomes error SGR0028 naming the type and the exception, and no file, instead of escaping into the compiler (which
    /// reports only warning CS8785 and leaves the user facing errors about missing members). Cancellation still propagates.
    /// </summary>
    internal static class EmitGuard
    {
        /// <summary>
        /// For tests only: called with each type's display name before its files are written; a test makes it throw for one
        /// type name of its own to check the catch-all. Null in every build a user runs.
        /// </summary>
        internal static Action<string>? BeforeEmitForTests { get; set; }

        /// <summary>Writes the files <paramref name="emit"/> returns (hint name and text), or SGR0028 if it throws.</summary>
        public static void AddSources(SourceProductionContext output, string typeName, Func<(string HintName, string Text)[]> emit)
        {
            (string HintName, string Text)[] files;
            try
            {
                BeforeEmitForTests?.Invoke(typeName);
                files = emit();
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                output.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.InternalError, Location.None, typeName, $"{e.GetType().Name}: {e.Message}"));
                return;
            }

            foreach ((string hintName, string text) in files)
            {
                output.AddSource(hintName, SourceText.From(text, Encoding.UTF8));
            }
        }
    }
}
