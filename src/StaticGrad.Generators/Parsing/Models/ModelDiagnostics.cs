using System.Collections.Generic;
using Microsoft.CodeAnalysis;
using StaticGrad.Generators.Diagnostics;

namespace StaticGrad.Generators.Parsing.Models
{
    /// <summary>
    /// Reports a model's diagnostics into a <see cref="DiagnosticSink"/>, each once: a module used twice (block1, block2) walks
    /// its forward pass twice, and an error inside it would otherwise be reported twice on the same expression.
    /// </summary>
    internal sealed class ModelDiagnostics
    {
        private readonly DiagnosticSink _sink;
        private readonly HashSet<(string Id, Location Location, string Message)> _seen = new();

        public ModelDiagnostics(DiagnosticSink sink) => _sink = sink;

        public bool HasErrors => _sink.HasErrors;

        public void Report(DiagnosticDescriptor descriptor, Location location, string message)
        {
            if (_seen.Add((descriptor.Id, location, message)))
            {
                _sink.Report(descriptor, location, message);
            }
        }

        /// <summary>Reports with a code fix: <paramref name="fixLocation"/> (a constructor argument) should read <paramref name="expected"/>.</summary>
        public void ReportWithFix(DiagnosticDescriptor descriptor, Location location, string message, Location fixLocation, int expected)
        {
            if (_seen.Add((descriptor.Id, location, message)))
            {
                var properties = System.Collections.Immutable.ImmutableDictionary<string, string?>.Empty
                    .Add(DiagnosticDescriptors.ExpectedArgumentProperty, expected.ToString(System.Globalization.CultureInfo.InvariantCulture));
                _sink.ReportWithFix(descriptor, location, fixLocation, properties, message);
            }
        }
    }
}
