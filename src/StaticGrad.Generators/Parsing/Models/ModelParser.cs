using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using StaticGrad.Generators.Diagnostics;
using StaticGrad.Generators.Graph;
using StaticGrad.Generators.Graph.Ops;
using StaticGrad.Generators.Helpers;
using StaticGrad.Generators.Model;

namespace StaticGrad.Generators.Parsing.Models
{
    /// <summary>
    /// The front end of models written as C#: a <c>[Model]</c> class becomes a <see cref="GraphSpec"/> (its modules built as
    /// its constructor would build them, its <c>Forward</c> read into a graph of ops with every shape inferred), and every
    /// <c>[Module]</c> or <c>[Model]</c> class a <see cref="ModuleSpec"/> (the children the eager run time visits).
    /// </summary>
    internal static class ModelParser
    {
        public const string ModelAttribute = "StaticGrad.ModelAttribute";

        /// <summary>The metadata name of <c>[Model&lt;T&gt;]</c> (a model of float or double).</summary>
        public const string ModelGenericAttribute = "StaticGrad.ModelAttribute`1";
        public const string ModuleAttribute = "StaticGrad.ModuleAttribute";

        /// <summary>The public members a <c>[Model]</c> gets (its own <c>Forward(Tensor)</c> keeps the name: the generated ones take spans).</summary>
        private static readonly HashSet<string> GeneratedModelMembers = new()
        {
            "InputSize", "OutputSize", "ParameterCount", "BufferCount", "Architecture", "DefaultMaxBatchSize", "MaxBatchSize",
            "Parameters", "Gradients", "Buffers", "ZeroGradients", "Backward", "TrainStep", "EvaluateLoss", "Predict", "Accuracy",
            "Optimizer", "UseSgd", "UseAdam", "UseAdamW", "Step", "Description", "State", "SaveSafetensors", "LoadSafetensors", "PredictProbabilities",
            "OnnxGraph", "ExportOnnx", "Threads", "Save", "Load", "ComputeLoss", "ForwardTraining",
        };

        /// <summary>
        /// The private members a <c>[Model]</c>'s generated code declares whatever its graph (state arrays, the worker team, the
        /// run and check helpers); a user member of the same name would not compile, so it is SGR0006 instead.
        /// </summary>
        private static readonly HashSet<string> GeneratedPrivateMembers = new()
        {
            "_parameters", "_gradients", "_buffers", "_counters", "_training", "_team", "_batch", "_optimizer", "_labels", "_replaceGradients",
            "_predictions", "_dropoutState", "RunForward", "RunBackward", "RunBackwardToInput", "RequireOptimizer", "InitializeState",
            "BindModules", "ParameterOffset", "BufferOffset", "CounterIndex", "ForwardChunk", "CountExamples", "CopyInputs",
            "CheckLength", "CheckInputs", "Widen", "ArgMax", "TrainStepCore", "LoadImportedState", "CheckOnnxElementType",
        };

        /// <summary>
        /// Whether a [Model]'s generated code may declare a member of this name: the public and private members above, and the
        /// numbered ones of each node (<c>_v3</c>, <c>_g3</c>, <c>_node3Mean</c>, <c>Node3Forward</c>, <c>_gradientScratch0</c>,
        /// <c>ImportedStateBase0</c>) and the kernel shape structs (<c>Linear6To12ForwardProduct</c>, <c>Attention2x8x8x4Shape</c>).
        /// </summary>
        internal static bool IsGeneratedModelName(string name)
        {
            if (GeneratedModelMembers.Contains(name) || GeneratedPrivateMembers.Contains(name))
            {
                return true;
            }

            return StartsWithNumber(name, "_v") || StartsWithNumber(name, "_g") || StartsWithNumber(name, "_node") || StartsWithNumber(name, "Node")
                || StartsWithNumber(name, "_gradientScratch") || StartsWithNumber(name, "ImportedStateBase")
                || ((name.EndsWith("Product", System.StringComparison.Ordinal) || name.EndsWith("Shape", System.StringComparison.Ordinal))
                    && name.Length > 0 && char.IsLetter(name[0]) && name.Any(char.IsDigit));

            static bool StartsWithNumber(string text, string prefix) =>
                text.Length > prefix.Length && text.StartsWith(prefix, System.StringComparison.Ordinal) && char.IsDigit(text[prefix.Length]);
        }

        /// <summary>Whether an attribute class is <c>[Model]</c> or <c>[Model&lt;T&gt;]</c>.</summary>
        public static bool IsModelAttribute(INamedTypeSymbol? attributeClass) => attributeClass is { Name: "ModelAttribute" } && IsStaticGradType(attributeClass);

        private static bool IsModel(INamedTypeSymbol type) =>
            type.GetAttributes().Any(a => a.AttributeClass is { Name: "ModelAttribute" or "FromOnnxAttribute" } c && IsStaticGradType(c));

        /// <summary>Whether a type lives in the <c>StaticGrad</c> namespace (the run-time library's modules, Tensor, Functional).</summary>
        public static bool IsStaticGradType(ITypeSymbol? type) =>
            type?.ContainingNamespace is { Name: "StaticGrad", ContainingNamespace.IsGlobalNamespace: true };

        public static bool IsTensor(ITypeSymbol? type) => type is { Name: "Tensor" } && IsStaticGradType(type);

        /// <summary>Whether a type is <c>StaticGrad.Tokens</c>, an input of int ids.</summary>
        public static bool IsTokens(ITypeSymbol? type) => type is { Name: "Tokens" } && IsStaticGradType(type);

        /// <summary>Whether a type is <c>StaticGrad.Parameter</c>, a learned tensor held directly by a module's field.</summary>
        private static bool IsParameter(ITypeSymbol? type) => type is { Name: "Parameter" } && IsStaticGradType(type);

        /// <summary>Whether a class carries <c>[Module]</c> or <c>[Model]</c>.</summary>
        public static bool IsModuleClass(INamedTypeSymbol type) =>
            type.GetAttributes().Any(a => a.AttributeClass is { } c && IsStaticGradType(c) && c.Name is "ModuleAttribute" or "ModelAttribute");

        /// <summary>Whether a field of this type holds a module: a StaticGrad module class or a <c>[Module]</c> class.</summary>
        private static bool IsModuleType(ITypeSymbol type) =>
            type is INamedTypeSymbol named && ((IsStaticGradType(named) && OpCatalogue.ForModule(named.Name) is not null) || IsModuleClass(named));

        /// <summary>Reads a <c>[Module]</c> or <c>[Model]</c> class's module fields; reports a declaration the generator cannot extend.</summary>
        public static ModuleSpec? ParseModule(INamedTypeSymbol type, Compilation compilation, DiagnosticSink sink, CancellationToken cancellationToken, bool reportContainers = true)
        {
            TargetChecks.CheckTarget(type, reportContainers, sink, cancellationToken);
            if (type.TypeKind != TypeKind.Class || type.IsStatic || type.IsGenericType)
            {
                sink.Report(DiagnosticDescriptors.ModelDeclaration, TargetChecks.IdentifierLocation(type, cancellationToken), $"'{type.Name}' must be a non-generic, non-static class to be a StaticGrad module");
                return null;
            }

            // StaticGrad.Module is the base StaticGrad gives (an analyzer that runs on the compilation with the generated code sees it).
            if (type.BaseType is { SpecialType: not SpecialType.System_Object } baseType && !(baseType.Name == "Module" && IsStaticGradType(baseType)))
            {
                sink.Report(DiagnosticDescriptors.ModelDeclaration, TargetChecks.BaseListLocation(type, cancellationToken), $"'{type.Name}' derives from '{baseType.Name}', but StaticGrad gives modules their base class (StaticGrad.Module); remove the base class");
                return null;
            }

            string attribute = IsModel(type) ? "Model" : "Module";
            foreach (ISymbol member in TargetChecks.UserMembers(type))
            {
                if (member.Name == "Visit" || (attribute == "Model" && IsGeneratedModelName(member.Name)))
                {
                    sink.Report(DiagnosticDescriptors.MemberCollision, TargetChecks.SourceLocation(member), type.Name, member.Name, attribute);
                }
            }

            if (sink.HasErrors)
            {
                return null;
            }

            var children = new List<ModuleChild>();
            foreach (IFieldSymbol field in type.GetMembers().OfType<IFieldSymbol>())
            {
                if (field.IsStatic || field.IsImplicitlyDeclared)
                {
                    continue;
                }

                if (IsModuleType(field.Type))
                {
                    children.Add(new ModuleChild(field.Name, IsArray: false, IsParameter(field.Type)));
                }
                else if (field.Type is IArrayTypeSymbol { Rank: 1, ElementType: { } element } && IsModuleType(element))
                {
                    children.Add(new ModuleChild(field.Name, IsArray: true, IsParameter(element)));
                }
            }

            return new ModuleSpec(TypeHierarchyReader.Read(type), EquatableArray.From(children), TargetChecks.NullableDirectiveAllowed(type.DeclaringSyntaxReferences.FirstOrDefault()?.SyntaxTree));
        }

        /// <summary>Reads a <c>[Model]</c> class into its graph, or reports why it cannot be one and returns null.</summary>
        public static GraphSpec? ParseModel(INamedTypeSymbol type, Compilation compilation, DiagnosticSink sink, CancellationToken cancellationToken, bool reportContainers = true) =>
            ParseModel(type, compilation, sink, cancellationToken, out _, reportContainers);

        /// <summary>Reads a <c>[Model]</c> class into its graph and its module members (<paramref name="module"/>), or reports why it cannot be one.</summary>
        public static GraphSpec? ParseModel(INamedTypeSymbol type, Compilation compilation, DiagnosticSink sink, CancellationToken cancellationToken, out ModuleSpec? module, bool reportContainers = true)
        {
            module = ParseModule(type, compilation, sink, cancellationToken, reportContainers);
            if (module is null)
            {
                return null;
            }

            var diagnostics = new ModelDiagnostics(sink);
            Location where = TargetChecks.IdentifierLocation(type, cancellationToken);
            LossKind loss = ReadLoss(type);
            if (ReadElement(type, sink, cancellationToken) is not { } element)
            {
                return null;
            }

            if (!TargetChecks.RuntimeKernelsAvailable(compilation) || compilation.GetTypeByMetadataName("StaticGrad.Tensor") is null)
            {
                diagnostics.Report(DiagnosticDescriptors.ModelDeclaration, where, $"'{type.Name}' is a [Model], which needs StaticGrad's run-time library (StaticGrad.Runtime: a .NET 8 or later target)");
                return null;
            }

            IMethodSymbol? constructor = null;
            foreach (IMethodSymbol candidate in type.InstanceConstructors.Where(c => !c.IsImplicitlyDeclared))
            {
                if (candidate.Parameters.Length != 0)
                {
                    diagnostics.Report(DiagnosticDescriptors.ModelDeclaration, TargetChecks.SourceLocation(candidate), $"'{type.Name}' declares a constructor with parameters; a [Model] is created by its generated constructor (seed, maxBatchSize), so its modules must be built from constants (declare no constructor, or one without parameters)");
                    return null;
                }

                constructor = candidate;
            }

            IMethodSymbol[] forwards = type.GetMembers("Forward").OfType<IMethodSymbol>().Where(m => !m.IsStatic && (IsTensor(m.ReturnType) || m.ReturnType.IsTupleType)).ToArray();
            if (forwards.Length != 1)
            {
                diagnostics.Report(DiagnosticDescriptors.ModelDeclaration, where, forwards.Length == 0
                    ? $"'{type.Name}' is a [Model] without a forward pass: declare 'public Tensor Forward([Shape(...)] Tensor x)'"
                    : $"'{type.Name}' declares {forwards.Length} Forward methods that return a Tensor or a tuple; a [Model] has one");
                return null;
            }

            IMethodSymbol forward = forwards[0];
            var interpreter = new ModelInterpreter(compilation, diagnostics, cancellationToken);
            var inputs = new List<GraphInput>();
            var arguments = new List<ModelValue>();
            foreach (IParameterSymbol parameter in forward.Parameters)
            {
                bool tokens = IsTokens(parameter.Type);
                if (!(tokens || IsTensor(parameter.Type)) || ReadShape(parameter) is not { } shape)
                {
                    diagnostics.Report(DiagnosticDescriptors.ModelDeclaration, TargetChecks.SourceLocation(parameter), $"the input '{parameter.Name}' of {type.Name}.Forward must be a Tensor (floats) or Tokens (int ids) with its shape per example, e.g. '[Shape(1, 28, 28)] Tensor {parameter.Name}' or '[Shape(64)] Tokens {parameter.Name}'");
                    return null;
                }

                int maxRank = tokens ? 3 : 4;
                if (shape.Count < 1 || shape.Count > maxRank || shape.Any(d => d <= 0) || Shapes.LongSize(shape) > int.MaxValue / 64)
                {
                    diagnostics.Report(DiagnosticDescriptors.ModelDeclaration, TargetChecks.SourceLocation(parameter), $"the shape of '{parameter.Name}' must have 1 to {maxRank} positive dimensions (the batch is left out{(tokens ? "; an embedding adds one" : string.Empty)}), got [{string.Join(", ", shape)}]");
                    return null;
                }

                TensorModelValue input = interpreter.AddInput(parameter.Name, shape, tokens);
                inputs.Add(new GraphInput(parameter.Name, shape, input.Node, tokens));
                arguments.Add(input);
            }

            if (inputs.Count == 0)
            {
                diagnostics.Report(DiagnosticDescriptors.ModelDeclaration, TargetChecks.SourceLocation(forward), $"{type.Name}.Forward takes no input; give it at least one '[Shape(...)] Tensor' or '[Shape(...)] Tokens' parameter");
                return null;
            }

            ModuleModelValue? model = interpreter.Instantiate(type, constructor, new Dictionary<ISymbol, ModelValue>(SymbolEqualityComparer.Default), where, path: string.Empty);
            if (model is null || interpreter.Failed)
            {
                return null;
            }
            ModelValue? result = interpreter.CallMethod(model, forward, arguments, TargetChecks.SourceLocation(forward));
            if (result is null || interpreter.Failed)
            {
                return null;
            }

            List<GraphOutput>? outputs = ReadOutputs(type, forward, result, inputs, interpreter, diagnostics);
            if (outputs is null || !CheckLoss(loss, outputs, interpreter, type, forward, diagnostics))
            {
                return null;
            }

            (EquatableArray<StateTensor> parameters, EquatableArray<StateTensor> buffers, EquatableArray<StateTensor> counters, EquatableArray<ModuleEntry> modules) = State(interpreter.Registered);
            return new GraphSpec(
                TypeHierarchyReader.Read(type),
                EquatableArray.From(inputs),
                EquatableArray.From(interpreter.Nodes),
                EquatableArray.From(outputs),
                modules,
                parameters,
                buffers,
                counters,
                loss,
                constructor is not null,
                TargetChecks.NullableDirectiveAllowed(type.DeclaringSyntaxReferences.FirstOrDefault()?.SyntaxTree))
            {
                Element = element,
            };
        }

        /// <summary>The element type of <c>[Model&lt;T&gt;]</c> (float for <c>[Model]</c>); null after SGR0007 for a T that is neither float nor double.</summary>
        private static ElementKind? ReadElement(INamedTypeSymbol type, DiagnosticSink sink, CancellationToken cancellationToken)
        {
            foreach (AttributeData attribute in type.GetAttributes())
            {
                if (attribute.AttributeClass is { Name: "ModelAttribute", TypeArguments.Length: 1 } c && IsStaticGradType(c))
                {
                    Location location = attribute.ApplicationSyntaxReference?.GetSyntax(cancellationToken).GetLocation() ?? TargetChecks.IdentifierLocation(type, cancellationToken);
                    return TargetChecks.ElementOf(c.TypeArguments[0], "Model<T>", location, sink);
                }
            }

            return ElementKind.Float;
        }

        /// <summary>
        /// The values Forward returns: one tensor (its spans are called <c>outputs</c>), or a tuple of tensors, each named for
        /// the generated spans after its element (<c>(Tensor Scores, Tensor Value)</c> gives <c>scores</c> and <c>value</c>).
        /// Null after reporting a result that is not one, an input returned unchanged, a value returned twice, or a name that
        /// clashes with an input's.
        /// </summary>
        private static List<GraphOutput>? ReadOutputs(INamedTypeSymbol type, IMethodSymbol forward, ModelValue result, List<GraphInput> inputs, ModelInterpreter interpreter, ModelDiagnostics diagnostics)
        {
            Location location = TargetChecks.SourceLocation(forward);
            var outputs = new List<GraphOutput>();
            if (result is TensorModelValue single && IsTensor(forward.ReturnType))
            {
                outputs.Add(new GraphOutput("outputs", single.Node));
            }
            else if (result is TupleModelValue tuple && forward.ReturnType is INamedTypeSymbol { IsTupleType: true } tupleType
                && tupleType.TupleElements.Length == tuple.Items.Count && tupleType.TupleElements.All(e => IsTensor(e.Type)) && tuple.Items.All(i => i is TensorModelValue))
            {
                for (int i = 0; i < tuple.Items.Count; i++)
                {
                    IFieldSymbol element = tupleType.TupleElements[i];
                    string name = element.IsExplicitlyNamedTupleElement ? ModelNames.Parameter(element.Name) : $"output{i + 1}";
                    outputs.Add(new GraphOutput(name, ((TensorModelValue)tuple.Items[i]).Node));
                }
            }
            else
            {
                diagnostics.Report(DiagnosticDescriptors.ModelUnsupported, location, $"{type.Name}.Forward returns {result.Describe()}; a [Model]'s Forward returns a Tensor, or a tuple of Tensors such as '(Tensor Scores, Tensor Value)'");
                return null;
            }

            for (int i = 0; i < outputs.Count; i++)
            {
                GraphNode node = interpreter.Nodes[outputs[i].Node];
                if (OpCatalogue.Of(node.Op).IsInput)
                {
                    diagnostics.Report(DiagnosticDescriptors.ModelUnsupported, location, $"{type.Name}.Forward returns its input '{node.Settings.Text}' unchanged; a model computes something from it");
                    return null;
                }

                for (int j = 0; j < i; j++)
                {
                    if (outputs[j].Node == outputs[i].Node)
                    {
                        diagnostics.Report(DiagnosticDescriptors.ModelUnsupported, location, $"{type.Name}.Forward returns the same value as '{outputs[j].Name}' and '{outputs[i].Name}'; return it once");
                        return null;
                    }

                    if (outputs[j].Name == outputs[i].Name)
                    {
                        diagnostics.Report(DiagnosticDescriptors.ModelUnsupported, location, $"{type.Name}.Forward returns two values named '{outputs[i].Name}'; name the tuple's elements apart");
                        return null;
                    }
                }

                if (outputs.Count > 1 && ModelNames.Clash(outputs[i].Name, outputs.Count, inputs.Select(input => input.Name).ToList()) is { } clash)
                {
                    diagnostics.Report(DiagnosticDescriptors.ModelUnsupported, location, $"the output '{outputs[i].Name}' of {type.Name}.Forward takes a name the generated members or the exported ONNX graph give an input ({clash}); rename the tuple element");
                    return null;
                }
            }

            return outputs;
        }

        private static bool CheckLoss(LossKind loss, List<GraphOutput> outputs, ModelInterpreter interpreter, INamedTypeSymbol type, IMethodSymbol forward, ModelDiagnostics diagnostics)
        {
            Location location = TargetChecks.SourceLocation(forward);
            if (loss != LossKind.None && outputs.Count > 1)
            {
                diagnostics.Report(DiagnosticDescriptors.ModelDeclaration, location, $"Loss.{loss} needs one output, but {type.Name}.Forward returns {outputs.Count} ({string.Join(", ", outputs.Select(o => o.Name))}); leave Loss out and compute each output's loss and gradient (StaticGrad.Kernels.Losses), then call Backward with every gradient and Step");
                return false;
            }

            EquatableArray<int> shape = interpreter.Nodes[outputs[0].Node].Shape;
            switch (loss)
            {
                case LossKind.SoftmaxCrossEntropy or LossKind.MulticlassSvm when shape.Count > 2 || shape[shape.Count - 1] < 2:
                    diagnostics.Report(DiagnosticDescriptors.ModelShape, location, $"{loss} needs one score per class (at least 2 per example), or per position (positions×classes, a label for each), but {type.Name}.Forward returns {Shapes.Text(shape)}");
                    return false;
                default:
                    return true;
            }
        }

        private static (EquatableArray<StateTensor>, EquatableArray<StateTensor>, EquatableArray<StateTensor>, EquatableArray<ModuleEntry>) State(List<ModuleModelValue> registered)
        {
            var parameters = new List<StateTensor>();
            var buffers = new List<StateTensor>();
            var counters = new List<StateTensor>();
            var modules = new List<ModuleEntry>();
            int parameterOffset = 0, bufferOffset = 0, counterIndex = 0;
            foreach (ModuleModelValue module in registered)
            {
                OpDefinition op = module.Op!;
                modules.Add(new ModuleEntry(module.Path!, op.Key, module.Settings, module.Display));
                foreach (StateDeclaration declaration in op.State(module.Settings))
                {
                    // A Parameter field is its own state: its name is the field's ('position'), not 'position.weight'.
                    string name = declaration.Name.Length == 0 ? module.Path! : $"{module.Path}.{declaration.Name}";
                    switch (declaration.Kind)
                    {
                        case StateKind.Parameter:
                            var parameter = new StateTensor(name, declaration.Shape, parameterOffset, declaration.IsWeight, declaration.Init, declaration.FanIn);
                            parameters.Add(parameter);
                            parameterOffset += parameter.Count;
                            break;
                        case StateKind.Buffer:
                            var buffer = new StateTensor(name, declaration.Shape, bufferOffset, false, declaration.Init, 0);
                            buffers.Add(buffer);
                            bufferOffset += buffer.Count;
                            break;
                        default:
                            counters.Add(new StateTensor(name, declaration.Shape, counterIndex++, false, InitKind.Zeros, 0));
                            break;
                    }
                }
            }

            return (EquatableArray.From(parameters), EquatableArray.From(buffers), EquatableArray.From(counters), EquatableArray.From(modules));
        }

        private static EquatableArray<int>? ReadShape(IParameterSymbol parameter)
        {
            foreach (AttributeData attribute in parameter.GetAttributes())
            {
                if (attribute.AttributeClass is { Name: "ShapeAttribute" } c && IsStaticGradType(c) && attribute.ConstructorArguments.Length == 1)
                {
                    TypedConstant argument = attribute.ConstructorArguments[0];
                    if (argument.Kind == TypedConstantKind.Array && !argument.IsNull)
                    {
                        return EquatableArray.From(argument.Values.Select(v => v.Value is int i ? i : 0));
                    }
                }
            }

            return null;
        }

        private static LossKind ReadLoss(INamedTypeSymbol type)
        {
            foreach (AttributeData attribute in type.GetAttributes())
            {
                if (attribute.AttributeClass is { Name: "ModelAttribute" } c && IsStaticGradType(c))
                {
                    return ReadLoss(attribute);
                }
            }

            return LossKind.None;
        }

        /// <summary>The <c>Loss</c> named argument of a <c>[Model]</c> or <c>[FromOnnx]</c> attribute (None when it is absent).</summary>
        internal static LossKind ReadLoss(AttributeData attribute)
        {
            foreach (KeyValuePair<string, TypedConstant> argument in attribute.NamedArguments)
            {
                if (argument.Key == "Loss" && argument.Value.Type is INamedTypeSymbol enumType)
                {
                    string? name = enumType.GetMembers().OfType<IFieldSymbol>().FirstOrDefault(f => f.HasConstantValue && Equals(f.ConstantValue, argument.Value.Value))?.Name;
                    return name switch
                    {
                        "SoftmaxCrossEntropy" => LossKind.SoftmaxCrossEntropy,
                        "MeanSquaredError" => LossKind.MeanSquaredError,
                        "MulticlassSvm" => LossKind.MulticlassSvm,
                        _ => LossKind.None,
                    };
                }
            }

            return LossKind.None;
        }
    }
}
