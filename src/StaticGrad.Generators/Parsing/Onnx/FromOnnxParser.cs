using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using StaticGrad.Generators.Diagnostics;
using StaticGrad.Generators.Graph;
using StaticGrad.Generators.Helpers;
using StaticGrad.Generators.Model;
using StaticGrad.Generators.Onnx;
using StaticGrad.Generators.Parsing.Models;

namespace StaticGrad.Generators.Parsing.Onnx
{
    /// <summary>
    /// What a <c>[FromOnnx(path, Loss = …)]</c> class asks for, as plain values (so the pipeline caches): where the code goes,
    /// the file's path as written, the loss, and the module members every model gets.
    /// </summary>
    internal sealed record FromOnnxRequest(TypeHierarchy Type, string Path, LossKind Loss, bool HasUserConstructor, bool NullableDirective, ModuleSpec Module)
    {
        /// <summary>The ONNX value or node the import ends at (<c>Output = …</c>), or null for the graph's output.</summary>
        public string? Output { get; init; }

        /// <summary>The outputs of a new Linear head (<c>Head = …</c>), or 0.</summary>
        public int Head { get; init; }

        /// <summary>Whether the imported layers are frozen (<c>Freeze = true</c>).</summary>
        public bool Freeze { get; init; }
    }

    /// <summary>What the generator writes for a <c>[FromOnnx]</c> class: the imported graph and the module members.</summary>
    internal sealed record ImportedModel(GraphSpec Graph, ModuleSpec Module);

    /// <summary>
    /// The <c>[FromOnnx]</c> front end: checks the class (as a <c>[Model]</c>'s: partial, no generated member declared), finds
    /// the file among the additional files (the build targets' text copies), reads it through <see cref="OnnxModelCache"/> and
    /// imports its graph (<see cref="OnnxImporter"/>) into a <see cref="GraphSpec"/> the model emitter writes as any model.
    /// Every error is reported on the attribute's path argument and names the file (and the node).
    /// </summary>
    internal static class FromOnnxParser
    {
        public const string Attribute = "StaticGrad.FromOnnxAttribute";

        /// <summary>Reads the class and the attribute; reports and returns null when the class cannot be a model.</summary>
        public static FromOnnxRequest? ReadRequest(INamedTypeSymbol type, AttributeData attribute, Compilation compilation, DiagnosticSink sink, CancellationToken cancellationToken, bool reportContainers = true)
        {
            Location where = PathLocation(attribute, type, cancellationToken);
            if (type.GetAttributes().Any(a => a.AttributeClass is { } c && ModelParser.IsStaticGradType(c) && c.Name is "ModelAttribute" or "ModuleAttribute"))
            {
                sink.Report(DiagnosticDescriptors.ModelDeclaration, where, $"'{type.Name}' has [FromOnnx] and [Model] or [Module]; an imported model takes its graph from the file, so remove the other attribute");
                return null;
            }

            ModuleSpec? module = ModelParser.ParseModule(type, compilation, sink, cancellationToken, reportContainers);
            if (module is null)
            {
                return null;
            }

            if (!TargetChecks.RuntimeKernelsAvailable(compilation))
            {
                sink.Report(DiagnosticDescriptors.ModelDeclaration, where, $"'{type.Name}' is a [FromOnnx] model, which needs StaticGrad's run-time library (StaticGrad.Runtime: a .NET 8 or later target)");
                return null;
            }

            if (module.Children.Count > 0)
            {
                sink.Report(DiagnosticDescriptors.ModelDeclaration, where, $"'{type.Name}' is a [FromOnnx] model but declares module fields ({string.Join(", ", module.Children.Select(c => c.Field))}); its graph comes from the file");
                return null;
            }

            IMethodSymbol[] constructors = TargetChecks.UserMembers(type).OfType<IMethodSymbol>().Where(m => m.MethodKind == MethodKind.Constructor).ToArray();
            if (constructors.Any(c => c.Parameters.Length != 0))
            {
                sink.Report(DiagnosticDescriptors.ModelDeclaration, where, $"'{type.Name}' declares a constructor with parameters; a [FromOnnx] model is created by its generated constructor (seed, maxBatchSize)");
                return null;
            }

            string? path = attribute.ConstructorArguments.Length == 1 ? attribute.ConstructorArguments[0].Value as string : null;
            if (string.IsNullOrWhiteSpace(path))
            {
                sink.Report(DiagnosticDescriptors.OnnxFileNotFound, where, "[FromOnnx] needs the path of an ONNX file that is an AdditionalFiles item of the project, such as \"models/digits.onnx\"");
                return null;
            }

            int head = attribute.NamedArguments.FirstOrDefault(a => a.Key == "Head").Value.Value is int h ? h : 0;
            bool freeze = attribute.NamedArguments.FirstOrDefault(a => a.Key == "Freeze").Value.Value is true;
            if (head < 0 || (freeze && head == 0))
            {
                sink.Report(DiagnosticDescriptors.ModelDeclaration, NamedArgumentLocation(attribute, head < 0 ? "Head" : "Freeze", cancellationToken) ?? where, head < 0
                    ? $"Head must be the positive number of outputs of the new head, got {head}"
                    : "Freeze = true freezes the imported layers, so it needs a new head to train: add Head = <outputs>");
                return null;
            }

            LossKind loss = ModelParser.ReadLoss(attribute);
            if (loss == LossKind.MulticlassSvm)
            {
                sink.Report(DiagnosticDescriptors.ModelDeclaration, where, "Loss.MulticlassSvm is not available for models yet; use Loss.SoftmaxCrossEntropy or Loss.MeanSquaredError");
                return null;
            }

            return new FromOnnxRequest(
                TypeHierarchyReader.Read(type),
                path!,
                loss,
                constructors.Length > 0,
                TargetChecks.NullableDirectiveAllowed(type.DeclaringSyntaxReferences.FirstOrDefault()?.SyntaxTree),
                module)
            {
                Output = attribute.NamedArguments.FirstOrDefault(a => a.Key == "Output").Value.Value as string,
                Head = head,
                Freeze = freeze,
            };
        }

        /// <summary>
        /// Finds the file, reads and imports it; reports through <paramref name="report"/> (descriptor and message) and returns
        /// null when it cannot. <paramref name="rawFiles"/> are the paths of .onnx additional files left binary.
        /// </summary>
        public static ImportedModel? Import(FromOnnxRequest request, IReadOnlyList<OnnxAdditionalFile> files, IReadOnlyList<string> rawFiles, Action<DiagnosticDescriptor, string>? report, CancellationToken cancellationToken)
        {
            report ??= static (_, _) => { };
            string name = request.Path;
            OnnxAdditionalFile? file = files.FirstOrDefault(f => f.Matches(name));
            if (file is null)
            {
                bool raw = rawFiles.Any(f => OnnxAdditionalFile.PathMatches(f, name));
                report(DiagnosticDescriptors.OnnxFileNotFound, raw
                    ? $"'{name}' is an AdditionalFiles item, but compilers give generators text only and it was not converted: the StaticGrad package's build targets do that (build/StaticGrad.targets; a project that references the generator directly must import it)"
                    : $"'{name}' is not an AdditionalFiles item of this project; add it to the project file: <ItemGroup><AdditionalFiles Include=\"{name}\" /></ItemGroup>");
                return null;
            }

            string? decodeError = null;
            OnnxResult<OnnxModel> read = OnnxModelCache.Read(file.FullPath, file.Checksum, () => file.Decode(out decodeError) ?? Array.Empty<byte>());
            if (!read.IsSuccess)
            {
                report(DiagnosticDescriptors.OnnxFileInvalid, decodeError is not null ? $"'{name}': {decodeError}" : $"'{name}' cannot be read as ONNX: {read.Error!.Message}");
                return null;
            }

            string? importError = null;
            bool fileError = false;
            ImportedGraph? graph = OnnxImporter.Import(read.Value!, request.Output, (message, invalidFile) => { importError ??= message; fileError |= invalidFile; }, cancellationToken);
            if (graph is null)
            {
                report(fileError ? DiagnosticDescriptors.OnnxFileInvalid : DiagnosticDescriptors.OnnxUnsupported, $"'{name}': {importError ?? "the graph cannot be imported"}");
                return null;
            }

            if (graph.Outputs.Count > 1 && (request.Head > 0 || request.Loss != LossKind.None))
            {
                string outputs = string.Join(", ", graph.Outputs.Select(o => $"'{o.Name}'"));
                report(DiagnosticDescriptors.ModelDeclaration, request.Head > 0
                    ? $"'{name}': Head adds a layer after the graph's output, but the graph has {graph.Outputs.Count} ({outputs}); name the one to build on with Output = \"…\""
                    : $"'{name}': Loss.{request.Loss} needs one output, but the graph has {graph.Outputs.Count} ({outputs}); leave Loss out and compute each output's loss and gradient (StaticGrad.Kernels.Losses), then call Backward with every gradient and Step, or keep one with Output = \"…\"");
                return null;
            }

            if (request.Head > 0)
            {
                graph = WithHead(graph, request.Head, request.Freeze);
            }

            GraphNode output = graph.Nodes[graph.Output];
            if (request.Loss == LossKind.SoftmaxCrossEntropy && (output.Shape.Count > 2 || output.Shape[output.Shape.Count - 1] < 2))
            {
                report(DiagnosticDescriptors.ModelShape, $"'{name}': SoftmaxCrossEntropy needs one score per class (at least 2 per example), but the graph's output is {Shapes.Text(output.Shape)} per example");
                return null;
            }

            var spec = new GraphSpec(
                request.Type,
                EquatableArray.From(graph.Inputs),
                EquatableArray.From(graph.Nodes),
                EquatableArray.From(OutputsOf(graph)),
                EquatableArray.From(graph.Modules),
                EquatableArray.From(graph.Parameters),
                EquatableArray.From(graph.Buffers),
                EquatableArray.From(graph.Counters),
                request.Loss,
                request.HasUserConstructor,
                request.NullableDirective)
            {
                ImportedFrom = name,
                ImportedState = EquatableArray.From(graph.State),
            };
            return new ImportedModel(spec, request.Module);
        }

        /// <summary>The model's outputs, each named for the generated spans after its ONNX value where that makes a C# parameter.</summary>
        private static IEnumerable<GraphOutput> OutputsOf(ImportedGraph graph)
        {
            string[] names = ModelNames.ImportedOutputs(graph.Outputs.Select(o => o.Name).ToList(), graph.Inputs.Select(i => i.Name).ToList());
            return graph.Outputs.Select((output, i) => new GraphOutput(names[i], output.Node));
        }

        /// <summary>
        /// The imported graph with a new <c>Linear(features, outputs)</c> called <c>head</c> after its output (PyTorch's
        /// initialisation, from the seed: its parameters come after the file's, so the imported state still loads by offset),
        /// and with <paramref name="freeze"/> a <see cref="Graph.Ops.DetachOp"/> before it, the file's tensors then out of weight decay.
        /// </summary>
        private static ImportedGraph WithHead(ImportedGraph graph, int outputs, bool freeze)
        {
            var nodes = new List<GraphNode>(graph.Nodes);
            int features = nodes[graph.Output].Shape[nodes[graph.Output].Shape.Count - 1];
            int input = graph.Output;
            if (freeze)
            {
                input = nodes.Count;
                nodes.Add(new GraphNode(input, Graph.Ops.DetachOp.Instance.Key, EquatableArray.Of(graph.Output), nodes[graph.Output].Shape, OpSettings.None, -1, "Freeze = true: the imported layers are not trained"));
            }

            string path = graph.Modules.Any(m => m.Path == "head") ? "new_head" : "head";
            var settings = new OpSettings(EquatableArray.Of(features, outputs, 1), EquatableArray.Empty<double>(), string.Empty);
            var modules = new List<ModuleEntry>(graph.Modules) { new ModuleEntry(path, Graph.Ops.LinearOp.Instance.Key, settings, Graph.Ops.LinearOp.Instance.Describe(settings)) };
            int head = nodes.Count;
            nodes.Add(new GraphNode(head, Graph.Ops.LinearOp.Instance.Key, EquatableArray.Of(input), Shapes.Of(ReplaceLast(nodes[input].Shape, outputs)), settings, modules.Count - 1, $"Head = {outputs}: a new Linear({features}, {outputs})"));
            var parameters = freeze ? graph.Parameters.Select(p => p with { IsWeight = false }).ToList() : new List<StateTensor>(graph.Parameters);
            int offset = parameters.Count == 0 ? 0 : parameters[parameters.Count - 1].Offset + parameters[parameters.Count - 1].Count;
            parameters.Add(new StateTensor(path + ".weight", Shapes.Of(outputs, features), offset, true, InitKind.UniformFanIn, features));
            parameters.Add(new StateTensor(path + ".bias", Shapes.Of(outputs), offset + (outputs * features), false, InitKind.UniformFanIn, features));
            return new ImportedGraph(graph.Inputs, nodes, new List<(string, int)> { ("output", head) }, modules, parameters, graph.Buffers, graph.Counters, graph.State);
        }

        private static int[] ReplaceLast(EquatableArray<int> shape, int last)
        {
            var dims = shape.ToArray();
            dims[dims.Length - 1] = last;
            return dims;
        }

        /// <summary>The attribute's path argument, where every [FromOnnx] error goes (the attribute, or the class, without one).</summary>
        public static Location PathLocation(AttributeData attribute, INamedTypeSymbol type, CancellationToken cancellationToken)
        {
            if (attribute.ApplicationSyntaxReference?.GetSyntax(cancellationToken) is AttributeSyntax syntax)
            {
                return syntax.ArgumentList?.Arguments.FirstOrDefault(a => a.NameEquals is null)?.GetLocation() ?? syntax.GetLocation();
            }

            return TargetChecks.IdentifierLocation(type, cancellationToken);
        }

        private static Location? NamedArgumentLocation(AttributeData attribute, string name, CancellationToken cancellationToken) =>
            attribute.ApplicationSyntaxReference?.GetSyntax(cancellationToken) is AttributeSyntax syntax
                ? syntax.ArgumentList?.Arguments.FirstOrDefault(a => a.NameEquals?.Name.Identifier.ValueText == name)?.GetLocation()
                : null;
    }
}
