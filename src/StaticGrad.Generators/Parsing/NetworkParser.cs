using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Text.RegularExpressions;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
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
        private static readonly string[] LinearParameterNames = { "inputs", "outputs" };

        /// <summary>Generated per-layer members (<c>Layer0Weight</c>, …) and shared kernels (<c>Linear64To32ForwardKernel</c>, …).</summary>
        private static readonly Regex LayerMemberName = new("^(Layer[0-9]+|Linear[0-9]+To[0-9]+)", RegexOptions.CultureInvariant);

        /// <summary>Generated members of a network class that no user member may share a name with (plus <c>Layer{i}…</c>).</summary>
        public static readonly ImmutableArray<string> ReservedNames = ImmutableArray.Create(
            "InputSize", "OutputSize", "ParameterCount", "Architecture", "DefaultMaxBatchSize", "MaxBatchSize",
            "Parameters", "Gradients", "Forward", "Backward", "ZeroGradients", "ComputeLoss", "TrainStep",
            "UseSgd", "UseAdam", "Step", "Predict", "Accuracy", "EvaluateLoss", "Save", "Load",
            "InputVector", "OutputVector", "OptimizerState", "FileMagic", "FileVersion",
            "_parameters", "_gradients", "_activations", "_gradientScratch", "_batch", "_optimizer",
            "InitializeParameters", "CheckBatch", "CheckLabels", "ArgMax", "ThrowLengthMismatch", "Checksum",
            "RunForward", "RunBackward", "RunLoss", "StepRange", "LoadBytes", "Threads", "_team",
            "Description", "SaveSafetensors", "LoadSafetensors", "ExportOnnx",
            "Optimizer", "UseAdamW", "RequireOptimizer", "NoOptimizerMessage", "LabelSpan", "Labels",
            "ComputeLossCore", "TrainStepCore", "EvaluateLossCore", "AccuracyCore");

        private sealed record Entry(AttributeData Data, AttributeSyntax? Syntax, Location Location);

        /// <summary>
        /// Parses the network of <paramref name="type"/>. <paramref name="ownerIsGeneric"/> says which generator
        /// provider asks (Linear or Linear&lt;T&gt;); only the provider of the first Linear attribute gets the spec,
        /// so a class mixing both forms is generated once.
        /// </summary>
        public static NetworkSpec? Parse(
            INamedTypeSymbol type,
            Compilation compilation,
            DiagnosticSink sink,
            CancellationToken cancellationToken,
            bool? ownerIsGeneric = null,
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
                    return new Entry(a, syntax, syntax?.GetLocation() ?? type.Locations.FirstOrDefault() ?? Location.None);
                })
                .OrderBy(e => e.Syntax?.SyntaxTree.FilePath ?? string.Empty, System.StringComparer.Ordinal)
                .ThenBy(e => e.Syntax?.SpanStart ?? 0)
                .ToList();

            if (ownerIsGeneric is { } generic)
            {
                var firstLinear = entries.FirstOrDefault(e => StaticGradAttributes.IsLinear(e.Data.AttributeClass));
                if (firstLinear is null || firstLinear.Data.AttributeClass!.IsGenericType != generic)
                {
                    return null; // the other provider owns this class
                }
            }

            // Attributes the compiler rejects, or a network on something other than a class: say that no code follows.
            bool usable = true;
            foreach (Entry entry in entries)
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

            var layers = new List<LayerSpec>();
            LossKind loss = LossKind.None;
            double margin = 1.0;
            ElementKind? element = null;
            Entry? elementSource = null;
            Entry? lossEntry = null;
            int width = 0;
            LayerSpec? lastLinear = null;
            bool chainValid = true;

            for (int index = 0; index < entries.Count; index++)
            {
                Entry entry = entries[index];
                INamedTypeSymbol attributeClass = entry.Data.AttributeClass!;

                if (lossEntry is not null)
                {
                    sink.Report(DiagnosticDescriptors.LossNotLast, lossEntry.Location, Name(lossEntry.Data), Name(entry.Data));
                    lossEntry = null; // report each misplaced loss once
                }

                if (StaticGradAttributes.LossName(attributeClass) is { } lossName)
                {
                    loss = lossName switch
                    {
                        "SoftmaxCrossEntropy" => LossKind.SoftmaxCrossEntropy,
                        "MulticlassSvm" => LossKind.MulticlassSvm,
                        _ => LossKind.MeanSquaredError,
                    };
                    foreach (var named in entry.Data.NamedArguments)
                    {
                        if (named.Key == "Margin" && named.Value.Value is double value)
                        {
                            margin = value;
                            if (!(value > 0) || double.IsInfinity(value))
                            {
                                sink.Report(
                                    DiagnosticDescriptors.InvalidLossSetting,
                                    AttributeArguments.NamedLocation(entry.Syntax, "Margin") ?? entry.Location,
                                    "MulticlassSvm Margin",
                                    value.ToString("R", System.Globalization.CultureInfo.InvariantCulture));
                            }
                        }
                    }

                    lossEntry = entry;
                    if (index == 0)
                    {
                        sink.Report(DiagnosticDescriptors.NetworkWithoutLinear, entry.Location, type.Name, $"starts with {lossName}");
                        chainValid = false;
                    }
                    else if (loss is LossKind.SoftmaxCrossEntropy or LossKind.MulticlassSvm && chainValid && width < 2)
                    {
                        sink.Report(DiagnosticDescriptors.LossWidth, entry.Location, lossName, width);
                    }

                    continue;
                }

                if (StaticGradAttributes.LayerName(attributeClass) is { } activation)
                {
                    if (index == 0)
                    {
                        sink.Report(DiagnosticDescriptors.NetworkWithoutLinear, entry.Location, type.Name, $"starts with {activation}");
                        chainValid = false;
                    }

                    var kind = activation switch
                    {
                        "ReLU" => LayerKind.ReLU,
                        "Sigmoid" => LayerKind.Sigmoid,
                        _ => LayerKind.Tanh,
                    };
                    layers.Add(new LayerSpec(index, kind, width, width, false, 0, 0, false));
                    continue;
                }

                // Linear or Linear<T>
                ElementKind layerElement = ElementKind.Float;
                if (attributeClass.IsGenericType)
                {
                    Location location = AttributeArguments.TypeArgumentLocation(entry.Syntax) ?? entry.Location;
                    if (TargetChecks.ElementOf(attributeClass.TypeArguments[0], location, sink) is not { } kind)
                    {
                        chainValid = false;
                        continue;
                    }

                    layerElement = kind;
                }

                if (element is null)
                {
                    element = layerElement;
                    elementSource = entry;
                }
                else if (element != layerElement)
                {
                    sink.Report(
                        DiagnosticDescriptors.MixedElementTypes,
                        AttributeArguments.TypeArgumentLocation(entry.Syntax) ?? entry.Location,
                        Name(entry.Data),
                        layerElement.Keyword(),
                        element.Value.Keyword());
                }

                if (entry.Data.ConstructorArguments.Length != 2 || entry.Data.ConstructorArguments.Any(a => a.Value is not int))
                {
                    sink.Report(DiagnosticDescriptors.AttributeNotUsable, entry.Location, type.Name, "Linear takes two int arguments (inputs, outputs)");
                    return null;
                }

                int inputs = (int)entry.Data.ConstructorArguments[0].Value!;
                int outputs = (int)entry.Data.ConstructorArguments[1].Value!;
                bool hasBias = !entry.Data.NamedArguments.Any(n => n.Key == "Bias" && n.Value.Value is false);
                bool dimensionsValid = true;
                for (int i = 0; i < 2; i++)
                {
                    int value = i == 0 ? inputs : outputs;
                    if (value <= 0)
                    {
                        sink.Report(
                            DiagnosticDescriptors.NonPositiveDimension,
                            AttributeArguments.PositionalLocation(entry.Syntax, i, LinearParameterNames) ?? entry.Location,
                            "Linear",
                            LinearParameterNames[i],
                            value);
                        dimensionsValid = false;
                    }
                }

                if (dimensionsValid && (long)inputs * outputs > TargetChecks.MaxElements)
                {
                    sink.Report(
                        DiagnosticDescriptors.ShapeTooLarge,
                        AttributeArguments.RangeLocation(entry.Syntax, 0, 1, LinearParameterNames) ?? entry.Location,
                        $"W of layer {index}",
                        outputs,
                        inputs,
                        (long)inputs * outputs,
                        TargetChecks.MaxElements);
                }

                var layer = new LayerSpec(index, LayerKind.Linear, inputs, outputs, hasBias, 0, 0, false);
                if (index > 0 && chainValid && dimensionsValid && inputs != width)
                {
                    LayerSpec previous = layers[layers.Count - 1];
                    string before = previous.Kind == LayerKind.Linear || lastLinear is null
                        ? previous.Describe()
                        : $"{previous.Describe()} after {lastLinear.Value.Describe()}";
                    sink.ReportWithProperties(
                        DiagnosticDescriptors.LayerSizeMismatch,
                        AttributeArguments.PositionalLocation(entry.Syntax, 0, LinearParameterNames) ?? entry.Location,
                        ImmutableDictionary<string, string?>.Empty.Add(DiagnosticDescriptors.ExpectedInputsProperty, width.ToString(System.Globalization.CultureInfo.InvariantCulture)),
                        layer.Describe(),
                        inputs,
                        before,
                        width);
                }

                chainValid &= dimensionsValid;
                width = outputs;
                layers.Add(layer);
                lastLinear = layer;
            }

            if (lastLinear is null && chainValid)
            {
                sink.Report(DiagnosticDescriptors.NetworkWithoutLinear, entries[0].Location, type.Name, "has no Linear layer");
            }

            long parameterCount = layers.Sum(l => (long)l.WeightCount + l.BiasCount);
            if (parameterCount > TargetChecks.MaxElements && elementSource is not null)
            {
                sink.Report(DiagnosticDescriptors.ShapeTooLarge, elementSource.Location, "the parameters of all Linear layers", parameterCount, 1, parameterCount, TargetChecks.MaxElements);
            }

            if (type.IsStatic)
            {
                sink.Report(DiagnosticDescriptors.UnsupportedTarget, TargetChecks.IdentifierLocation(type, cancellationToken), type.Name, "a network is an instance class that owns its parameters, and this class is static");
            }

            string attributeText = layers.Count > 0 ? layers[0].Describe() : Name(entries[0].Data);
            TargetChecks.CheckTarget(type, reportContainers, sink, cancellationToken);
            CheckCollisions(type, attributeText, compilation, sink, cancellationToken);
            TargetChecks.CheckSpanAvailable(compilation, entries[0].Location, sink);

            if (sink.HasErrors || element is null || lastLinear is null)
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
                TargetChecks.RuntimeKernelsAvailable(compilation));
        }

        /// <summary>How the first layer of a network reads in another type's message (<c>Linear(64, 32)</c>).</summary>
        public static string DescribeFirstLayer(AttributeData attribute) =>
            StaticGradAttributes.IsLinear(attribute.AttributeClass) && attribute.ConstructorArguments.Length == 2
                ? $"{Name(attribute)}({attribute.ConstructorArguments[0].Value}, {attribute.ConstructorArguments[1].Value})"
                : Name(attribute);

        /// <summary>Lays the parameters out flat, layer by layer: W (row-major, out×in) then b; picks each layer's initialisation.</summary>
        private static ImmutableArray<LayerSpec> AssignOffsets(List<LayerSpec> layers)
        {
            var result = ImmutableArray.CreateBuilder<LayerSpec>(layers.Count);
            int offset = 0;
            for (int i = 0; i < layers.Count; i++)
            {
                LayerSpec layer = layers[i];
                if (layer.Kind == LayerKind.Linear)
                {
                    bool he = i + 1 < layers.Count && layers[i + 1].Kind == LayerKind.ReLU;
                    layer = layer with { WeightOffset = offset, BiasOffset = offset + layer.WeightCount, HeInit = he };
                    offset += layer.WeightCount + layer.BiasCount;
                }

                result.Add(layer);
            }

            return result.MoveToImmutable();
        }

        /// <summary>All layer attributes on one declaration, so "attribute order" means one thing.</summary>
        private static bool CheckSingleDeclaration(INamedTypeSymbol type, List<Entry> entries, DiagnosticSink sink)
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

        private static string Name(AttributeData attribute)
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
