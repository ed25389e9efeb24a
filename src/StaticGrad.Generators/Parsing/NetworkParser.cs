using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Text.RegularExpressions;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using StaticGrad.Generators.Catalogue;
using StaticGrad.Generators.Diagnostics;
using StaticGrad.Generators.Helpers;
using StaticGrad.Generators.Model;

namespace StaticGrad.Generators.Parsing
{
    /// <summary>
    /// Turns the layer and loss attributes of one class (<c>[Linear(64, 32), ReLU, Linear(32, 10), SoftmaxCrossEntropy]</c>)
    /// into a <see cref="NetworkSpec"/>, or into diagnostics. Shared by the generator and the analyzer: the spec is
    /// <see langword="null"/> exactly when an error was found.
    /// </summary>
    internal static class NetworkParser
    {
        /// <summary>
        /// Generated per-layer members (<c>Layer0Weight</c>, <c>_layer2Indices</c>), the lowered graph's per-node members
        /// (<c>Node3Forward</c>, <c>_node3Indices</c>) and shared kernel shapes (<c>Linear64To32ForwardProduct</c>, …).
        /// </summary>
        private static readonly Regex LayerMemberName = new("^(_layer[0-9]+|Layer[0-9]+|_node[0-9]+|Node[0-9]+|Linear[0-9]+To[0-9]+)", RegexOptions.CultureInvariant);

        /// <summary>Generated members of a network class that no user member may share a name with (plus <c>Layer{i}…</c>).</summary>
        public static readonly ImmutableArray<string> ReservedNames = ImmutableArray.Create(
            "InputSize", "OutputSize", "ParameterCount", "Architecture", "DefaultMaxBatchSize", "MaxBatchSize",
            "Parameters", "Gradients", "Forward", "Backward", "ZeroGradients", "ComputeLoss", "TrainStep",
            "UseSgd", "UseAdam", "Step", "Predict", "PredictProbabilities", "Accuracy", "EvaluateLoss", "Save", "Load",
            "InputVector", "OutputVector", "OptimizerState", "FileMagic", "FileVersion",
            "_parameters", "_gradients", "_activations", "_gradientScratch", "_batch", "_optimizer",
            "InitializeParameters", "CheckBatch", "CheckLabels", "ArgMax", "ThrowLengthMismatch", "Checksum",
            "RunForward", "RunBackward", "RunLoss", "StepRange", "LoadBytes", "Threads", "_team",
            "Description", "SaveSafetensors", "LoadSafetensors", "ExportOnnx",
            "Optimizer", "UseAdamW", "RequireOptimizer", "NoOptimizerMessage", "LabelSpan", "Labels",
            "ComputeLossCore", "TrainStepCore", "EvaluateLossCore", "AccuracyCore", "_training", "_dropoutState", "_replaceGradients");

        /// <summary>Whether <paramref name="name"/> is a member name network classes get (a user member by that name collides).</summary>
        public static bool IsReservedMemberName(string name) => ReservedNames.Contains(name) || LayerMemberName.IsMatch(name);

        /// <summary>
        /// Parses the network of <paramref name="type"/>. <paramref name="owner"/> says which generator provider asks (the
        /// metadata name of Linear, Linear&lt;T&gt;, Input or Input&lt;T&gt;); only the provider of the network's first such
        /// attribute gets the spec, so a class that carries several is generated once. <see langword="null"/> (the analyzer)
        /// always parses.
        /// </summary>
        public static NetworkSpec? Parse(
            INamedTypeSymbol type,
            Compilation compilation,
            DiagnosticSink sink,
            CancellationToken cancellationToken,
            string? owner = null,
            bool reportContainers = true)
        {
            var attributes = type.GetAttributes().Where(a => StaticGradAttributes.IsNetwork(a.AttributeClass)).ToList();
            if (attributes.Count == 0
                || type.GetAttributes().Any(a => StaticGradAttributes.IsMatMul(a.AttributeClass)) // MatMulParser reports SGR0009
                || TargetChecks.HasMissingName(type))
            {
                return null;
            }

            var entries = attributes
                .Select(a =>
                {
                    var syntax = a.ApplicationSyntaxReference?.GetSyntax(cancellationToken) as AttributeSyntax;
                    return new NetworkEntry(a, syntax, syntax?.GetLocation() ?? type.Locations.FirstOrDefault() ?? Location.None);
                })
                .OrderBy(e => e.Syntax?.SyntaxTree.FilePath ?? string.Empty, System.StringComparer.Ordinal)
                .ThenBy(e => e.Syntax?.SpanStart ?? 0)
                .ToList();

            if (owner is not null)
            {
                var anchor = entries.FirstOrDefault(e => StaticGradAttributes.AnchorName(e.Data.AttributeClass) is not null);
                if (anchor is null || StaticGradAttributes.AnchorName(anchor.Data.AttributeClass) != owner)
                {
                    return null; // another provider owns this class
                }
            }

            // Attributes the compiler rejects, or a network on something other than a class: say that no code follows.
            bool usable = true;
            foreach (NetworkEntry entry in entries)
            {
                if (TargetChecks.AttributeProblem(entry.Data, type, classesOnly: true) is { } problem)
                {
                    sink.Report(DiagnosticDescriptors.AttributeNotUsable, entry.Location, type.Name, problem);
                    usable = false;
                }
            }

            if (!usable || !CheckSingleDeclaration(type, entries, sink))
            {
                return null;
            }

            var chain = new NetworkChain(type, sink);
            bool runtime = TargetChecks.RuntimeKernelsAvailable(compilation);
            LossKind loss = LossKind.None;
            double margin = 1.0;
            NetworkEntry? lossEntry = null;
            for (int index = 0; index < entries.Count; index++)
            {
                NetworkEntry entry = entries[index];
                INamedTypeSymbol attributeClass = entry.Data.AttributeClass!;

                if (lossEntry is not null)
                {
                    sink.Report(DiagnosticDescriptors.LossNotLast, lossEntry.Location, AttributeName(lossEntry.Data), AttributeName(entry.Data));
                    lossEntry = null; // report each misplaced loss once
                }

                if (LayerCatalogue.Loss(attributeClass) is { } lossDefinition)
                {
                    loss = lossDefinition.Kind;
                    margin = lossDefinition.ParseMargin(chain, entry);
                    lossEntry = entry;
                    if (index == 0)
                    {
                        sink.Report(DiagnosticDescriptors.NetworkWithoutLinear, entry.Location, type.Name, $"starts with {lossDefinition.Name}");
                        chain.ChainValid = false;
                    }
                    else if (chain.ChainValid && chain.Width < lossDefinition.MinimumWidth)
                    {
                        sink.Report(DiagnosticDescriptors.LossWidth, entry.Location, lossDefinition.Name, chain.Width);
                    }

                    continue;
                }

                // Every other network attribute is a layer of the catalogue (IsNetwork chose them). A layer's index is its
                // position among the layers (Input is not one), as in PyTorch's nn.Sequential.
                LayerDefinition definition = LayerCatalogue.Layer(attributeClass)!;
                if (definition.NeedsRuntime && !runtime)
                {
                    sink.Report(DiagnosticDescriptors.LayerShape, entry.Location, $"{definition.Name} needs StaticGrad.Runtime, the package's library for .NET 8 and later; this project targets a framework without it (netstandard2.0 or .NET Framework)");
                    chain.ChainValid = false;
                }

                if (!definition.Parse(chain, entry, chain.Layers.Count))
                {
                    return null;
                }
            }

            List<LayerSpec> layers = chain.Layers;
            ElementKind? element = chain.Element;
            NetworkEntry? elementSource = chain.ElementSource;
            if (!layers.Any(l => l.HasParameters) && chain.ChainValid)
            {
                sink.Report(DiagnosticDescriptors.NetworkWithoutLinear, entries[0].Location, type.Name, "has no Linear layer");
            }

            // Only when every layer is valid on its own: a layer whose weights alone are too large has said so (on its
            // arguments), and its weight count, an int, would have wrapped around here.
            long parameterCount = layers.Sum(l => (long)l.WeightCount + l.BiasCount);
            if (!sink.HasErrors && parameterCount > TargetChecks.MaxElements && elementSource is not null)
            {
                sink.Report(DiagnosticDescriptors.ShapeTooLarge, elementSource.Location, "the parameters of all layers", parameterCount, 1, parameterCount, TargetChecks.MaxElements);
            }

            if (type.IsStatic)
            {
                sink.Report(DiagnosticDescriptors.UnsupportedTarget, TargetChecks.IdentifierLocation(type, cancellationToken), type.Name, "a network is an instance class that owns its parameters, and this class is static");
            }

            string attributeText = layers.Count > 0 ? layers[0].Describe() : AttributeName(entries[0].Data);
            TargetChecks.CheckTarget(type, reportContainers, sink, cancellationToken);
            CheckCollisions(type, attributeText, compilation, sink, cancellationToken);
            TargetChecks.CheckSpanAvailable(compilation, entries[0].Location, sink);

            if (sink.HasErrors || element is null || !layers.Any(l => l.HasParameters))
            {
                return null;
            }

            return new NetworkSpec(
                TypeHierarchyReader.Read(type),
                element.Value,
                new EquatableArray<LayerSpec>(AssignOffsets(layers)),
                loss,
                margin,
                (int)parameterCount,
                TargetChecks.NullableDirectiveAllowed(entries[0].Syntax?.SyntaxTree),
                TargetChecks.PublicType(compilation, "System.MathF") is not null,
                runtime);
        }

        /// <summary>How the first layer of a network reads in another type's message (<c>Linear(64, 32)</c>).</summary>
        public static string DescribeFirstLayer(AttributeData attribute) =>
            StaticGradAttributes.IsLinear(attribute.AttributeClass) && attribute.ConstructorArguments.Length == 2
                ? $"{AttributeName(attribute)}({attribute.ConstructorArguments[0].Value}, {attribute.ConstructorArguments[1].Value})"
                : AttributeName(attribute);

        /// <summary>Lays the parameters out flat, layer by layer: W (row-major, out×in) then b; picks each layer's initialisation.</summary>
        private static ImmutableArray<LayerSpec> AssignOffsets(List<LayerSpec> layers)
        {
            var result = ImmutableArray.CreateBuilder<LayerSpec>(layers.Count);
            int offset = 0;
            for (int i = 0; i < layers.Count; i++)
            {
                LayerSpec layer = layers[i];
                if (layer.HasParameters)
                {
                    bool he = i + 1 < layers.Count && layers[i + 1].Definition.WantsHeInitialisation;
                    layer = layer with { WeightOffset = offset, BiasOffset = offset + layer.WeightCount, HeInit = he };
                    offset += layer.WeightCount + layer.BiasCount;
                }

                result.Add(layer);
            }

            return result.MoveToImmutable();
        }

        /// <summary>All layer attributes on one declaration, so "attribute order" means one thing.</summary>
        private static bool CheckSingleDeclaration(INamedTypeSymbol type, List<NetworkEntry> entries, DiagnosticSink sink)
        {
            SyntaxNode? firstDeclaration = null;
            foreach (var entry in entries)
            {
                SyntaxNode? declaration = entry.Syntax?.Parent?.Parent;
                if (firstDeclaration is null)
                {
                    firstDeclaration = declaration;
                }
                else if (declaration is not null && declaration != firstDeclaration)
                {
                    sink.Report(DiagnosticDescriptors.LayersSplit, entry.Location, type.Name);
                    return false;
                }
            }

            return true;
        }

        private static void CheckCollisions(INamedTypeSymbol type, string attributeText, Compilation compilation, DiagnosticSink sink, CancellationToken cancellationToken)
        {
            var reserved = new HashSet<string>(ReservedNames);
            TargetChecks.CheckReservedNames(type, reserved, attributeText, sink);
            foreach (ISymbol member in TargetChecks.UserMembers(type))
            {
                if (member is IMethodSymbol { MethodKind: MethodKind.Constructor, IsStatic: false } userConstructor
                    && !IsIntIntConstructor(userConstructor) // that one collides with the generated constructor: SGR0006 below
                    && !ChainsToThis(userConstructor))
                {
                    sink.Report(DiagnosticDescriptors.ConstructorMustChain, TargetChecks.SourceLocation(userConstructor), type.Name);
                }

                bool clash = reserved.Contains(member.Name) || LayerMemberName.IsMatch(member.Name)
                    || (member is IMethodSymbol { MethodKind: MethodKind.Constructor } constructor && IsIntIntConstructor(constructor));
                if (clash)
                {
                    string name = member is IMethodSymbol { MethodKind: MethodKind.Constructor } ? $"constructor {type.Name}(int, int)" : member.Name;
                    sink.Report(DiagnosticDescriptors.MemberCollision, TargetChecks.SourceLocation(member), type.Name, name, attributeText);
                }
            }

            // Inherited members by the same names would be hidden (CS0108) or clash: a network cannot derive from another one either.
            TargetChecks.ReportInherited(
                type,
                TargetChecks.InheritedMembers(type, compilation)
                    .Where(inherited => reserved.Contains(inherited.Member.Name) || LayerMemberName.IsMatch(inherited.Member.Name))
                    .Select(inherited => (inherited.Member.Name, inherited.From)),
                attributeText,
                sink,
                cancellationToken);
        }

        private static bool IsIntIntConstructor(IMethodSymbol constructor) =>
            constructor.Parameters.Length == 2 && constructor.Parameters.All(p => p.Type.SpecialType == SpecialType.System_Int32);

        /// <summary>Whether a user constructor starts with <c>: this(…)</c>, so the generated constructor creates the buffers.</summary>
        private static bool ChainsToThis(IMethodSymbol constructor) =>
            constructor.DeclaringSyntaxReferences.Any(r => r.GetSyntax() is ConstructorDeclarationSyntax
            {
                Initializer: { } initializer,
            } && initializer.IsKind(Microsoft.CodeAnalysis.CSharp.SyntaxKind.ThisConstructorInitializer));

        /// <summary>The attribute as written, without <c>Attribute</c>: <c>Linear</c>, <c>Linear&lt;double&gt;</c>, <c>ReLU</c>.</summary>
        public static string AttributeName(AttributeData attribute)
        {
            var attributeClass = attribute.AttributeClass!;
            string name = attributeClass.Name.EndsWith("Attribute", System.StringComparison.Ordinal)
                ? attributeClass.Name.Substring(0, attributeClass.Name.Length - "Attribute".Length)
                : attributeClass.Name;
            return attributeClass.IsGenericType
                ? $"{name}<{attributeClass.TypeArguments[0].ToDisplayString(SymbolDisplayFormat.MinimallyQualifiedFormat)}>"
                : name;
        }
    }
}
