using System.Collections.Generic;
using System.Collections.Immutable;
using Microsoft.CodeAnalysis;

namespace StaticGrad.Generators.Diagnostics
{
    /// <summary>
    /// Collects what the parser finds wrong. The analyzer keeps the diagnostics and reports them; the
    /// generator only asks <see cref="HasErrors"/>, so it never builds diagnostics it would throw away.
    /// </summary>
    internal sealed class DiagnosticSink
    {
        private readonly List<Diagnostic>? _diagnostics;

        private DiagnosticSink(List<Diagnostic>? diagnostics) => _diagnostics = diagnostics;

        /// <summary>A sink that keeps every diagnostic (for the analyzer).</summary>
        public static DiagnosticSink Collecting() => new(new List<Diagnostic>());

        /// <summary>A sink that only records whether an error happened (for the generator).</summary>
        public static DiagnosticSink ErrorsOnly() => new(null);

        public bool HasErrors { get; private set; }

        public IReadOnlyList<Diagnostic> Diagnostics => (IReadOnlyList<Diagnostic>?)_diagnostics ?? System.Array.Empty<Diagnostic>();

        public void Report(DiagnosticDescriptor descriptor, Location? location, params object?[] args) =>
            ReportWithProperties(descriptor, location, null, args);

        /// <summary>Reports with properties a code fix reads (for example the size that would chain).</summary>
        /// <summary>Reports with a second location (where a code fix edits) and properties (what it writes there).</summary>
        public void ReportWithFix(DiagnosticDescriptor descriptor, Location location, Location fixLocation, ImmutableDictionary<string, string?> properties, params object?[] args)
        {
            HasErrors |= descriptor.DefaultSeverity == DiagnosticSeverity.Error;
            _diagnostics?.Add(Diagnostic.Create(descriptor, location, new[] { fixLocation }, properties, args));
        }

        public void ReportWithProperties(DiagnosticDescriptor descriptor, Location? location, ImmutableDictionary<string, string?>? properties, params object?[] args)
        {
            if (descriptor.DefaultSeverity == DiagnosticSeverity.Error)
            {
                HasErrors = true;
            }

            _diagnostics?.Add(Diagnostic.Create(descriptor, location, properties, args));
        }
    }
}
