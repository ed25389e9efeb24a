using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Operations;
using StaticGrad.Generators.Diagnostics;
using StaticGrad.Generators.Graph;
using StaticGrad.Generators.Graph.Ops;
using StaticGrad.Generators.Helpers;

namespace StaticGrad.Generators.Parsing.Models
{
    /// <summary>
    /// Reads a model the way it would run, through Roslyn's operation tree (<see cref="IOperation"/>): module constructors
    /// with their arguments bound, field initialisers, then the forward pass, statement by statement, turning every tensor
    /// expression into a node of the graph with its shape. Everything it cannot follow is a located diagnostic; it never throws.
    /// </summary>
    internal sealed class ModelInterpreter
    {
        private const int MaxDepth = 32;
        private const int MaxLoopIterations = 4096;
        private const int MaxNodes = 20000;
        private const int MaxEvaluations = 1_000_000;

        private readonly Compilation _compilation;
        private readonly ModelDiagnostics _diagnostics;
        private readonly CancellationToken _cancellationToken;
        private readonly List<GraphNode> _nodes = new();
        private int _depth;
        private int _evaluations;

        public ModelInterpreter(Compilation compilation, ModelDiagnostics diagnostics, CancellationToken cancellationToken)
        {
            _compilation = compilation;
            _diagnostics = diagnostics;
            _cancellationToken = cancellationToken;
        }

        /// <summary>The graph's nodes so far, in topological order.</summary>
        public IReadOnlyList<GraphNode> Nodes => _nodes;

        /// <summary>The stateful modules in the order they were stored in fields (PyTorch's registration order).</summary>
        public List<ModuleModelValue> Registered { get; } = new();

        /// <summary>Whether the reading had to stop somewhere (an error was reported).</summary>
        public bool Failed => _diagnostics.HasErrors;

        /// <summary>Adds a model input node: a Tensor of floats, or token ids when <paramref name="tokens"/>.</summary>
        public TensorModelValue AddInput(string name, EquatableArray<int> shape, bool tokens = false)
        {
            var node = new GraphNode(_nodes.Count, (tokens ? InputOp.Tokens : InputOp.Instance).Key, EquatableArray.Empty<int>(), shape, new OpSettings(shape, EquatableArray.Empty<double>(), name), -1, name);
            _nodes.Add(node);
            return new TensorModelValue(node.Id, shape);
        }

        /// <summary>Creates an instance of a <c>[Module]</c> or <c>[Model]</c> class: its field initialisers, then the constructor's body.</summary>
        /// <param name="type">The class.</param>
        /// <param name="constructor">The constructor the <c>new</c> calls, or null for none.</param>
        /// <param name="arguments">Its parameters, bound to the values given at the <c>new</c>.</param>
        /// <param name="location">Where errors about the class itself go.</param>
        /// <param name="path">The root model's empty path; null for a module that gets its name when a field stores it.</param>
        public ModuleModelValue? Instantiate(INamedTypeSymbol type, IMethodSymbol? constructor, Dictionary<ISymbol, ModelValue> arguments, Location location, string? path = null)
        {
            if (!ModelParser.IsModuleClass(type))
            {
                _diagnostics.Report(DiagnosticDescriptors.ModelUnsupported, location, $"'{type.Name}' is neither a StaticGrad module nor a class marked [Module]; mark it [Module] to use it in a model");
                return null;
            }

            // A [Module] the generator gives no code (a base class, not partial…) does not derive from StaticGrad.Module, and
            // the model's code that registers it would not compile; its own error is on its declaration, this one on the use.
            if (path is null && ModelParser.ParseModule(type, _compilation, DiagnosticSink.ErrorsOnly(), _cancellationToken) is null)
            {
                _diagnostics.Report(DiagnosticDescriptors.ModelDeclaration, location, $"'{type.Name}' cannot be used as a module until the error on its declaration is fixed");
                return null;
            }

            if (++_depth > MaxDepth)
            {
                _depth--;
                _diagnostics.Report(DiagnosticDescriptors.ModelUnsupported, location, $"modules nested more than {MaxDepth} deep (is '{type.Name}' built from itself?)");
                return null;
            }

            try
            {
                ModuleModelValue instance = ModuleModelValue.User(type);
                instance.Path = path;
                var frame = new Frame(instance, type);
                foreach (IFieldSymbol field in type.GetMembers().OfType<IFieldSymbol>())
                {
                    if (field.IsStatic || field.IsConst)
                    {
                        continue;
                    }

                    foreach (SyntaxReference reference in field.DeclaringSyntaxReferences)
                    {
                        if (reference.GetSyntax(_cancellationToken) is VariableDeclaratorSyntax { Initializer: { } initializer }
                            && Operation(initializer.Value) is { } value)
                        {
                            ModelValue? result = Evaluate(value, frame);
                            if (result is not null)
                            {
                                StoreField(instance, field, result, value);
                            }
                        }
                    }
                }

                if (constructor is not null && Body(constructor) is IConstructorBodyOperation body)
                {
                    foreach (KeyValuePair<ISymbol, ModelValue> argument in arguments)
                    {
                        frame.Locals[argument.Key] = argument.Value;
                    }

                    if (body.Initializer is { } chained && !chained.IsImplicit)
                    {
                        _diagnostics.Report(DiagnosticDescriptors.ModelUnsupported, chained.Syntax.GetLocation(), "a constructor that calls another constructor (': this(...)' or ': base(...)'); build the modules in one constructor");
                        return instance;
                    }

                    if (body.BlockBody is { } block)
                    {
                        Execute(block, frame);
                    }
                    else if (body.ExpressionBody is { } expression)
                    {
                        Execute(expression, frame);
                    }
                }

                return instance;
            }
            finally
            {
                _depth--;
            }
        }

        /// <summary>Runs <c>Forward</c> of a module with the given arguments; returns what it returns.</summary>
        public ModelValue? CallMethod(ModuleModelValue? self, IMethodSymbol method, IReadOnlyList<ModelValue> arguments, Location location)
        {
            if (Body(method) is not IMethodBodyOperation body || (body.BlockBody ?? body.ExpressionBody) is not { } block)
            {
                _diagnostics.Report(DiagnosticDescriptors.ModelUnsupported, location, $"'{method.Name}' has no body StaticGrad can read (it must be written in C# in this compilation)");
                return null;
            }

            if (++_depth > MaxDepth)
            {
                _depth--;
                _diagnostics.Report(DiagnosticDescriptors.ModelUnsupported, location, $"calls nested more than {MaxDepth} deep (does '{method.Name}' call itself?)");
                return null;
            }

            try
            {
                var frame = new Frame(self, method.ContainingType);
                for (int i = 0; i < method.Parameters.Length && i < arguments.Count; i++)
                {
                    frame.Locals[method.Parameters[i]] = arguments[i];
                }

                Flow flow = Execute(block, frame);
                if (flow.Kind == FlowKind.Return)
                {
                    return flow.Value;
                }

                if (!Failed)
                {
                    _diagnostics.Report(DiagnosticDescriptors.ModelUnsupported, location, $"'{method.Name}' ended without returning a value");
                }

                return null;
            }
            finally
            {
                _depth--;
            }
        }

        private IOperation? Body(IMethodSymbol method)
        {
            foreach (SyntaxReference reference in method.DeclaringSyntaxReferences)
            {
                SyntaxNode syntax = reference.GetSyntax(_cancellationToken);
                if (syntax is BaseMethodDeclarationSyntax)
                {
                    return Operation(syntax);
                }
            }

            return null;
        }

        private IOperation? Operation(SyntaxNode syntax) =>
            _compilation.GetSemanticModel(syntax.SyntaxTree).GetOperation(syntax, _cancellationToken);

        // ---- statements ----

        private enum FlowKind
        {
            Next,
            Return,
            Break,
            Continue,
            Stop,
        }

        private readonly struct Flow
        {
            public Flow(FlowKind kind, ModelValue? value = null)
            {
                Kind = kind;
                Value = value;
            }

            public FlowKind Kind { get; }

            public ModelValue? Value { get; }
        }

        private sealed class Frame
        {
            public Frame(ModuleModelValue? self, INamedTypeSymbol type)
            {
                Self = self;
                Type = type;
            }

            public ModuleModelValue? Self { get; }

            public INamedTypeSymbol Type { get; }

            public Dictionary<ISymbol, ModelValue> Locals { get; } = new(SymbolEqualityComparer.Default);
        }

        private Flow Execute(IOperation operation, Frame frame)
        {
            _cancellationToken.ThrowIfCancellationRequested();
            switch (operation)
            {
                case IBlockOperation block:
                    foreach (IOperation statement in block.Operations)
                    {
                        Flow flow = Execute(statement, frame);
                        if (flow.Kind != FlowKind.Next)
                        {
                            return flow;
                        }
                    }

                    return new Flow(FlowKind.Next);

                case IVariableDeclarationGroupOperation group:
                    foreach (IVariableDeclarationOperation declaration in group.Declarations)
                    {
                        foreach (IVariableDeclaratorOperation declarator in declaration.Declarators)
                        {
                            IVariableInitializerOperation? initializer = declarator.Initializer ?? declaration.Initializer;
                            if (initializer is null)
                            {
                                continue;
                            }

                            ModelValue? value = Evaluate(initializer.Value, frame);
                            if (value is null)
                            {
                                return new Flow(FlowKind.Stop);
                            }

                            frame.Locals[declarator.Symbol] = value;
                        }
                    }

                    return new Flow(FlowKind.Next);

                case IExpressionStatementOperation statement:
                    return Evaluate(statement.Operation, frame) is null && Failed ? new Flow(FlowKind.Stop) : new Flow(FlowKind.Next);

                case IReturnOperation { ReturnedValue: { } returned }:
                    ModelValue? result = Evaluate(returned, frame);
                    return result is null ? new Flow(FlowKind.Stop) : new Flow(FlowKind.Return, result);

                case IForLoopOperation loop:
                    return ExecuteFor(loop, frame);

                case IForEachLoopOperation loop:
                    return ExecuteForEach(loop, frame);

                case IConditionalOperation conditional:
                    ModelValue? condition = Evaluate(conditional.Condition, frame);
                    if (condition is not ConstantModelValue { Value: bool taken })
                    {
                        return Unsupported(conditional.Condition, "an 'if' whose condition is not a constant (the graph is fixed at compile time)");
                    }

                    return taken ? Execute(conditional.WhenTrue, frame) : conditional.WhenFalse is { } otherwise ? Execute(otherwise, frame) : new Flow(FlowKind.Next);

                case IBranchOperation { BranchKind: BranchKind.Break }:
                    return new Flow(FlowKind.Break);

                case IBranchOperation { BranchKind: BranchKind.Continue }:
                    return new Flow(FlowKind.Continue);

                case IEmptyOperation:
                    return new Flow(FlowKind.Next);

                default:
                    return Unsupported(operation, $"the statement '{Text(operation)}' ({Microsoft.CodeAnalysis.CSharp.CSharpExtensions.Kind(operation.Syntax)}); a forward pass may declare locals, assign, loop with constant bounds, and return");
            }
        }

        private Flow Unsupported(IOperation operation, string message)
        {
            _diagnostics.Report(DiagnosticDescriptors.ModelUnsupported, operation.Syntax.GetLocation(), message);
            return new Flow(FlowKind.Stop);
        }

        private Flow ExecuteFor(IForLoopOperation loop, Frame frame)
        {
            foreach (IOperation before in loop.Before)
            {
                if (Execute(before, frame).Kind == FlowKind.Stop)
                {
                    return new Flow(FlowKind.Stop);
                }
            }

            for (int iteration = 0; ; iteration++)
            {
                if (iteration >= MaxLoopIterations)
                {
                    return Unsupported(loop, $"a loop of more than {MaxLoopIterations} iterations");
                }

                if (loop.Condition is { } conditionOperation)
                {
                    ModelValue? condition = Evaluate(conditionOperation, frame);
                    if (condition is not ConstantModelValue { Value: bool more })
                    {
                        return Unsupported(conditionOperation, "a 'for' loop whose condition is not constant (loops need bounds known at compile time)");
                    }

                    if (!more)
                    {
                        return new Flow(FlowKind.Next);
                    }
                }

                Flow flow = Execute(loop.Body, frame);
                if (flow.Kind is FlowKind.Return or FlowKind.Stop)
                {
                    return flow;
                }

                if (flow.Kind == FlowKind.Break)
                {
                    return new Flow(FlowKind.Next);
                }

                foreach (IOperation step in loop.AtLoopBottom)
                {
                    if (Execute(step, frame).Kind == FlowKind.Stop)
                    {
                        return new Flow(FlowKind.Stop);
                    }
                }
            }
        }

        private Flow ExecuteForEach(IForEachLoopOperation loop, Frame frame)
        {
            ModelValue? collection = Evaluate(Unwrap(loop.Collection), frame);
            if (collection is not ArrayModelValue array)
            {
                return collection is null ? new Flow(FlowKind.Stop) : Unsupported(loop.Collection, "a 'foreach' over something other than an array of modules or constants");
            }

            if (loop.LoopControlVariable is not IVariableDeclaratorOperation variable)
            {
                return Unsupported(loop.LoopControlVariable, "a 'foreach' that deconstructs its items");
            }

            foreach (ModelValue? item in array.Items)
            {
                if (item is null)
                {
                    return Unsupported(loop.Collection, "an array with an element that was never assigned");
                }

                frame.Locals[variable.Symbol] = item;
                Flow flow = Execute(loop.Body, frame);
                if (flow.Kind is FlowKind.Return or FlowKind.Stop)
                {
                    return flow;
                }

                if (flow.Kind == FlowKind.Break)
                {
                    break;
                }
            }

            return new Flow(FlowKind.Next);
        }

        // ---- expressions ----

        private static IOperation Unwrap(IOperation operation)
        {
            while (operation is IConversionOperation conversion)
            {
                operation = conversion.Operand;
            }

            return operation;
        }

        private static string Text(IOperation operation)
        {
            string text = operation.Syntax.ToString().Replace("\r", string.Empty).Replace("\n", " ");
            while (text.Contains("  "))
            {
                text = text.Replace("  ", " ");
            }

            return text.Length > 120 ? text.Substring(0, 117) + "..." : text;
        }

        private ModelValue? Fail(IOperation operation, string message)
        {
            _diagnostics.Report(DiagnosticDescriptors.ModelUnsupported, operation.Syntax.GetLocation(), message);
            return null;
        }

        private ModelValue? Evaluate(IOperation operation, Frame frame)
        {
            _cancellationToken.ThrowIfCancellationRequested();
            if (++_evaluations > MaxEvaluations)
            {
                return _evaluations == MaxEvaluations + 1
                    ? Fail(operation, $"more than {MaxEvaluations:N0} evaluations while reading the model (loops nested too deep?); the graph must be small enough to read while you type")
                    : null;
            }

            if (operation.ConstantValue.HasValue)
            {
                return new ConstantModelValue(operation.ConstantValue.Value);
            }

            switch (operation)
            {
                case IConversionOperation conversion:
                    return Convert(Evaluate(conversion.Operand, frame), conversion);

                case IParenthesizedOperation parenthesized:
                    return Evaluate(parenthesized.Operand, frame);

                case ILocalReferenceOperation local:
                    return Lookup(frame, local.Local, operation);

                case IParameterReferenceOperation parameter:
                    return Lookup(frame, parameter.Parameter, operation);

                case IInstanceReferenceOperation when frame.Self is not null:
                    return frame.Self;

                case IFieldReferenceOperation field:
                    return ReadField(field, frame);

                case IPropertyReferenceOperation { Property.Name: "Length" } length when Evaluate(length.Instance!, frame) is ArrayModelValue array:
                    return new ConstantModelValue(array.Items.Count);

                case IArrayElementReferenceOperation element:
                    return ReadElement(element, frame);

                case ISimpleAssignmentOperation assignment:
                    return Assign(assignment.Target, Evaluate(assignment.Value, frame), assignment, frame);

                case ICompoundAssignmentOperation compound:
                    return Assign(compound.Target, Binary(compound, compound.OperatorKind, compound.OperatorMethod, compound.Target, compound.Value, frame), compound, frame);

                case IIncrementOrDecrementOperation increment:
                    {
                        if (Evaluate(increment.Target, frame) is not ConstantModelValue { Value: int before })
                        {
                            return Fail(operation, "'++' or '--' on something other than an int");
                        }

                        int after = increment.Kind == OperationKind.Increment ? before + 1 : before - 1;
                        Assign(increment.Target, new ConstantModelValue(after), increment, frame);
                        return new ConstantModelValue(increment.IsPostfix ? before : after);
                    }

                case IBinaryOperation binary:
                    return Binary(binary, binary.OperatorKind, binary.OperatorMethod, binary.LeftOperand, binary.RightOperand, frame);

                case IUnaryOperation { OperatorKind: UnaryOperatorKind.Minus, OperatorMethod: null } unary:
                    return Evaluate(unary.Operand, frame) switch
                    {
                        ConstantModelValue { Value: int i } => new ConstantModelValue(-i),
                        ConstantModelValue { Value: double d } => new ConstantModelValue(-d),
                        null => null,
                        _ => Fail(operation, "'-' on something other than a constant number (write 0 - x for tensors)"),
                    };

                case IObjectCreationOperation creation:
                    return Create(creation, frame);

                case IArrayCreationOperation arrayCreation:
                    return CreateArray(arrayCreation, frame);

                case IArrayInitializerOperation initializer:
                    // A field's bare initializer, 'Linear[] layers = { ... };', is an initializer without a creation around it.
                    return Collect(initializer.ElementValues, frame);

                case IInvocationOperation invocation:
                    return Invoke(invocation, frame);

                case ITupleOperation tuple:
                    {
                        var items = new List<ModelValue>();
                        foreach (IOperation element in tuple.Elements)
                        {
                            if (Evaluate(element, frame) is not { } item)
                            {
                                return null;
                            }

                            items.Add(item);
                        }

                        return new TupleModelValue(items);
                    }

                case IDeconstructionAssignmentOperation deconstruction:
                    {
                        ModelValue? value = Evaluate(deconstruction.Value, frame);
                        return value is null ? null : Deconstruct(deconstruction.Target, value, frame);
                    }

                case IConditionalOperation conditional:
                    return Evaluate(conditional.Condition, frame) is ConstantModelValue { Value: bool taken }
                        ? Evaluate(taken ? conditional.WhenTrue : conditional.WhenFalse!, frame)
                        : Fail(conditional.Condition, "a condition that is not constant (the graph is fixed at compile time)");

                default:
                    if (operation.Kind.ToString() == "CollectionExpression")
                    {
                        return CreateCollection(operation, frame);
                    }

                    return Fail(operation, $"'{Text(operation)}' ({Microsoft.CodeAnalysis.CSharp.CSharpExtensions.Kind(operation.Syntax)}); {Supported()}");
            }
        }

        private static string Supported() =>
            $"a forward pass is made of locals, module calls (.Forward), Functional calls ({OpCatalogue.Supported(op => op.Function)}), " +
            $"tensor operators and members ({OpCatalogue.Supported(op => op.TensorMember)}, Size), constant ints, and calls of the class's own methods";

        private ModelValue? Convert(ModelValue? value, IConversionOperation conversion)
        {
            // A module that is a value by itself (a Parameter field) becomes a tensor where C# converts it to one: 'x + position'.
            if (value is ModuleModelValue { Op: { Arity: 0 } op } module && ModelParser.IsTensor(conversion.Type))
            {
                return module.Index < 0
                    ? Fail(conversion, $"{module.Display} is created inside the forward pass; create it in a field or the constructor, so that the model owns and trains it")
                    : AddNode(op, System.Array.Empty<TensorModelValue>(), module.Settings, module.Index, conversion);
            }

            if (value is ConstantModelValue { Value: { } constant } && conversion.Type is { SpecialType: not SpecialType.None } target)
            {
                try
                {
                    return target.SpecialType switch
                    {
                        SpecialType.System_Int32 => new ConstantModelValue(System.Convert.ToInt32(constant, System.Globalization.CultureInfo.InvariantCulture)),
                        SpecialType.System_Double => new ConstantModelValue(System.Convert.ToDouble(constant, System.Globalization.CultureInfo.InvariantCulture)),
                        SpecialType.System_Single => new ConstantModelValue((double)System.Convert.ToSingle(constant, System.Globalization.CultureInfo.InvariantCulture)),
                        _ => value,
                    };
                }
                catch (System.Exception e) when (e is System.FormatException or System.InvalidCastException or System.OverflowException)
                {
                    return value;
                }
            }

            return value;
        }

        private ModelValue? Lookup(Frame frame, ISymbol symbol, IOperation operation)
        {
            if (frame.Locals.TryGetValue(symbol, out ModelValue? value))
            {
                return value;
            }

            return Fail(operation, $"'{symbol.Name}' has no value here (locals must be assigned before use, and constructor parameters are known only at a 'new')");
        }

        private ModelValue? ReadField(IFieldReferenceOperation field, Frame frame)
        {
            if (field.Field.IsStatic)
            {
                return Fail(field, $"the static field '{field.Field.Name}' (only constants and instance fields holding modules are read)");
            }

            ModelValue? owner = field.Instance is null ? frame.Self : Evaluate(field.Instance, frame);
            if (owner is TupleModelValue tuple && field.Field.ContainingType is { IsTupleType: true } tupleType)
            {
                // 'gru.Forward(x).Output' or 'result.Item2': the element at the field's position.
                int position = TuplePosition(tupleType, field.Field);
                return position >= 0 && position < tuple.Items.Count ? tuple.Items[position] : Fail(field, $"the tuple element '{field.Field.Name}'");
            }

            if (owner is not ModuleModelValue module || module.Op is not null)
            {
                return owner is null ? null : Fail(field, $"the field '{field.Field.Name}' of {owner.Describe()}");
            }

            if (module.Fields.TryGetValue(field.Field, out ModelValue? value))
            {
                return value;
            }

            return Fail(field, $"the field '{field.Field.Name}' is read before it is assigned (assign it in its initialiser or the constructor)");
        }

        private static int TuplePosition(INamedTypeSymbol tupleType, IFieldSymbol field)
        {
            IFieldSymbol wanted = field.CorrespondingTupleField ?? field;
            for (int i = 0; i < tupleType.TupleElements.Length; i++)
            {
                IFieldSymbol element = tupleType.TupleElements[i];
                if (SymbolEqualityComparer.Default.Equals(element, field) || SymbolEqualityComparer.Default.Equals(element.CorrespondingTupleField ?? element, wanted))
                {
                    return i;
                }
            }

            return -1;
        }

        /// <summary>
        /// <c>var (output, hidden) = gru.Forward(x);</c>, <c>(y, h) = …</c>, nested tuples and discards: each target receives its
        /// element of the tuple value.
        /// </summary>
        private ModelValue? Deconstruct(IOperation target, ModelValue value, Frame frame)
        {
            switch (target)
            {
                case IDeclarationExpressionOperation declaration:
                    return Deconstruct(declaration.Expression, value, frame);
                case IDiscardOperation:
                    return value;
                case ITupleOperation tuple:
                    if (value is not TupleModelValue items || items.Items.Count != tuple.Elements.Length)
                    {
                        return Fail(target, $"deconstructing {value.Describe()} into {tuple.Elements.Length} parts");
                    }

                    for (int i = 0; i < tuple.Elements.Length; i++)
                    {
                        if (Deconstruct(tuple.Elements[i], items.Items[i], frame) is null)
                        {
                            return null;
                        }
                    }

                    return value;
                default:
                    return Assign(target, value, target, frame);
            }
        }

        private ModelValue? ReadElement(IArrayElementReferenceOperation element, Frame frame)
        {
            if (Evaluate(element.ArrayReference, frame) is not ArrayModelValue array)
            {
                return Fail(element, "indexing something other than an array");
            }

            if (element.Indices.Length != 1 || Evaluate(element.Indices[0], frame) is not ConstantModelValue { Value: int index })
            {
                return Fail(element, "an array index that is not a constant int");
            }

            if (index < 0 || index >= array.Items.Count)
            {
                return Fail(element, $"index {index} is outside the array of {array.Items.Count}");
            }

            return array.Items[index] ?? Fail(element, $"element {index} of the array is read before it is assigned");
        }

        private ModelValue? Assign(IOperation target, ModelValue? value, IOperation site, Frame frame)
        {
            if (value is null)
            {
                return null;
            }

            switch (target)
            {
                case ILocalReferenceOperation local:
                    frame.Locals[local.Local] = value;
                    return value;
                case IParameterReferenceOperation parameter:
                    frame.Locals[parameter.Parameter] = value;
                    return value;
                case IFieldReferenceOperation field when !field.Field.IsStatic:
                    ModelValue? owner = field.Instance is null ? frame.Self : Evaluate(field.Instance, frame);
                    if (owner is not ModuleModelValue module || module.Op is not null || !ReferenceEquals(owner, frame.Self))
                    {
                        return Fail(site, $"assigning '{field.Field.Name}' of another object; a module sets its own fields");
                    }

                    if (value is TensorModelValue)
                    {
                        return Fail(site, $"storing a tensor in the field '{field.Field.Name}'; keep tensors in locals");
                    }

                    StoreField(module, field.Field, value, site);
                    return value;
                case IArrayElementReferenceOperation element:
                    if (Evaluate(element.ArrayReference, frame) is not ArrayModelValue array
                        || element.Indices.Length != 1
                        || Evaluate(element.Indices[0], frame) is not ConstantModelValue { Value: int index }
                        || index < 0 || index >= array.Items.Count)
                    {
                        return Fail(site, "assigning an array element other than a constant index of an array of modules");
                    }

                    array.Items[index] = value;
                    if (array.Path is not null)
                    {
                        Name(value, $"{array.Path}.{index}");
                    }

                    return value;
                default:
                    return Fail(site, $"assigning to '{Text(target)}'");
            }
        }

        private void StoreField(ModuleModelValue owner, IFieldSymbol field, ModelValue value, IOperation site)
        {
            owner.Fields[field] = value;
            if (owner.Path is null)
            {
                return; // named, with its children, when the owner itself is stored
            }

            string path = owner.Path is null or "" ? field.Name : $"{owner.Path}.{field.Name}";
            Name(value, path);
        }

        /// <summary>Gives a module (or an array's modules) its dotted name and registers the stateful ones, on first storage.</summary>
        private void Name(ModelValue value, string path)
        {
            switch (value)
            {
                case ModuleModelValue module when module.Path is null:
                    module.Path = path;
                    if (module.Op is not null)
                    {
                        module.Index = Registered.Count;
                        Registered.Add(module);
                    }
                    else
                    {
                        foreach (KeyValuePair<IFieldSymbol, ModelValue> child in module.Fields.ToList())
                        {
                            Name(child.Value, $"{path}.{child.Key.Name}");
                        }
                    }

                    break;
                case ArrayModelValue array when array.Path is null:
                    array.Path = path;
                    for (int i = 0; i < array.Items.Count; i++)
                    {
                        if (array.Items[i] is { } item)
                        {
                            Name(item, $"{path}.{i}");
                        }
                    }

                    break;
            }
        }

        private ModelValue? Binary(IOperation site, BinaryOperatorKind kind, IMethodSymbol? method, IOperation leftOperation, IOperation rightOperation, Frame frame)
        {
            ModelValue? left = Evaluate(leftOperation, frame);
            if (left is null)
            {
                return null;
            }

            if (kind == BinaryOperatorKind.ConditionalAnd && left is ConstantModelValue { Value: false })
            {
                return left;
            }

            if (kind == BinaryOperatorKind.ConditionalOr && left is ConstantModelValue { Value: true })
            {
                return left;
            }

            ModelValue? right = Evaluate(rightOperation, frame);
            if (right is null)
            {
                return null;
            }

            if (method is not null && ModelParser.IsTensor(method.ContainingType))
            {
                if (OpCatalogue.ForTensorMember(method.Name) is not { } op || left is not TensorModelValue a || right is not TensorModelValue b)
                {
                    return Fail(site, $"the tensor operator in '{Text(site)}'; tensors support + - * between two tensors");
                }

                return AddNode(op, new[] { a, b }, OpSettings.None, -1, site);
            }

            if (left is ConstantModelValue { Value: int x } && right is ConstantModelValue { Value: int y })
            {
                long wide = kind switch
                {
                    BinaryOperatorKind.Add => (long)x + y,
                    BinaryOperatorKind.Subtract => (long)x - y,
                    BinaryOperatorKind.Multiply => (long)x * y,
                    _ => 0,
                };
                if (wide is > int.MaxValue or < int.MinValue)
                {
                    return Fail(site, $"'{Text(site)}' overflows an int ({x} and {y} give {wide})");
                }

                switch (kind)
                {
                    case BinaryOperatorKind.Add: return new ConstantModelValue(x + y);
                    case BinaryOperatorKind.Subtract: return new ConstantModelValue(x - y);
                    case BinaryOperatorKind.Multiply: return new ConstantModelValue(x * y);
                    case BinaryOperatorKind.Divide when y != 0 && !(x == int.MinValue && y == -1): return new ConstantModelValue(x / y);
                    case BinaryOperatorKind.Remainder when y != 0 && y != -1: return new ConstantModelValue(x % y);
                    case BinaryOperatorKind.LessThan: return new ConstantModelValue(x < y);
                    case BinaryOperatorKind.LessThanOrEqual: return new ConstantModelValue(x <= y);
                    case BinaryOperatorKind.GreaterThan: return new ConstantModelValue(x > y);
                    case BinaryOperatorKind.GreaterThanOrEqual: return new ConstantModelValue(x >= y);
                    case BinaryOperatorKind.Equals: return new ConstantModelValue(x == y);
                    case BinaryOperatorKind.NotEquals: return new ConstantModelValue(x != y);
                }
            }

            if (left is ConstantModelValue { Value: double or int } && right is ConstantModelValue { Value: double or int })
            {
                double p = System.Convert.ToDouble(((ConstantModelValue)left).Value, System.Globalization.CultureInfo.InvariantCulture);
                double q = System.Convert.ToDouble(((ConstantModelValue)right).Value, System.Globalization.CultureInfo.InvariantCulture);
                switch (kind)
                {
                    case BinaryOperatorKind.Add: return new ConstantModelValue(p + q);
                    case BinaryOperatorKind.Subtract: return new ConstantModelValue(p - q);
                    case BinaryOperatorKind.Multiply: return new ConstantModelValue(p * q);
                    case BinaryOperatorKind.Divide: return new ConstantModelValue(p / q);
                }
            }

            if (left is ConstantModelValue { Value: bool l } && right is ConstantModelValue { Value: bool r })
            {
                switch (kind)
                {
                    case BinaryOperatorKind.ConditionalAnd or BinaryOperatorKind.And: return new ConstantModelValue(l && r);
                    case BinaryOperatorKind.ConditionalOr or BinaryOperatorKind.Or: return new ConstantModelValue(l || r);
                }
            }

            return Fail(site, $"'{Text(site)}' combines {left.Describe()} and {right.Describe()}; only tensor + - * tensor and arithmetic on constant numbers are supported");
        }

        // ---- modules and calls ----

        private ModelValue? Create(IObjectCreationOperation creation, Frame frame)
        {
            if (creation.Type is not INamedTypeSymbol type || creation.Constructor is not { } constructor)
            {
                return Fail(creation, "creating an object whose type is not known");
            }

            if (ModelParser.IsStaticGradType(type) && OpCatalogue.ForModule(type.Name) is { } op)
            {
                var arguments = new OpArguments(this, creation, creation.Arguments, frame, _diagnostics);
                OpSettings settings = op.ReadSettings(arguments);
                if (arguments.Failed)
                {
                    return null;
                }

                ModuleModelValue module = ModuleModelValue.BuiltIn(type, op, settings);
                foreach (IArgumentOperation argument in creation.Arguments)
                {
                    if (!argument.IsImplicit && argument.Parameter is { } parameter && argument.Syntax is ArgumentSyntax syntax)
                    {
                        module.Arguments[parameter.Name] = syntax.Expression.GetLocation();
                    }
                }

                return module;
            }

            var bound = new Dictionary<ISymbol, ModelValue>(SymbolEqualityComparer.Default);
            foreach (IArgumentOperation argument in creation.Arguments)
            {
                ModelValue? value = Evaluate(argument.Value, frame);
                if (value is null)
                {
                    return null;
                }

                if (argument.Parameter is { } parameter)
                {
                    bound[parameter] = value;
                }
            }

            if (creation.Initializer is not null)
            {
                return Fail(creation, "an object initializer ({ ... }) on a module; pass settings to its constructor");
            }

            return Instantiate(type, constructor, bound, creation.Syntax.GetLocation());
        }

        private ModelValue? CreateArray(IArrayCreationOperation creation, Frame frame)
        {
            if (creation.Initializer is { } initializer)
            {
                return Collect(initializer.ElementValues, frame);
            }

            if (creation.DimensionSizes.Length == 1 && Evaluate(creation.DimensionSizes[0], frame) is ConstantModelValue { Value: int length } && length >= 0 && length <= MaxLoopIterations)
            {
                return new ArrayModelValue(Enumerable.Repeat<ModelValue?>(null, length).ToList());
            }

            return Fail(creation, "an array whose length is not a constant int");
        }

        private ModelValue? CreateCollection(IOperation collection, Frame frame)
        {
            // ICollectionExpressionOperation is newer than the Roslyn StaticGrad compiles against; its elements are its children.
            return Collect(collection.ChildOperations.ToImmutableArray(), frame);
        }

        private ModelValue? Collect(ImmutableArray<IOperation> elements, Frame frame)
        {
            var items = new List<ModelValue?>();
            foreach (IOperation element in elements)
            {
                if (element.Kind.ToString() == "Spread")
                {
                    return Fail(element, "a spread ('..') in an array of modules");
                }

                ModelValue? value = Evaluate(element, frame);
                if (value is null)
                {
                    return null;
                }

                items.Add(value);
            }

            return new ArrayModelValue(items);
        }

        private ModelValue? Invoke(IInvocationOperation invocation, Frame frame)
        {
            IMethodSymbol method = invocation.TargetMethod;
            if (method.IsStatic && ModelParser.IsStaticGradType(method.ContainingType) && method.ContainingType.Name == "Functional")
            {
                return CallFunction(invocation, frame);
            }

            if (!method.IsStatic && invocation.Instance is { } instanceOperation && ModelParser.IsTensor(method.ContainingType))
            {
                return CallTensorMember(invocation, instanceOperation, frame);
            }

            if (!method.IsStatic && invocation.Instance is { } moduleOperation && method.Name == "Forward")
            {
                ModelValue? target = Evaluate(moduleOperation, frame);
                if (target is not ModuleModelValue module)
                {
                    return target is null ? null : Fail(invocation, $"calling Forward on {target.Describe()}");
                }

                var arguments = new List<ModelValue>();
                foreach (IArgumentOperation argument in invocation.Arguments)
                {
                    ModelValue? value = Evaluate(argument.Value, frame);
                    if (value is null)
                    {
                        return null;
                    }

                    arguments.Add(value);
                }

                return CallModule(module, method, arguments, invocation);
            }

            if (SymbolEqualityComparer.Default.Equals(method.ContainingType, frame.Type) && method.MethodKind == MethodKind.Ordinary)
            {
                var arguments = new List<ModelValue>();
                foreach (IArgumentOperation argument in invocation.Arguments.OrderBy(a => a.Parameter?.Ordinal ?? 0))
                {
                    ModelValue? value = Evaluate(argument.Value, frame);
                    if (value is null)
                    {
                        return null;
                    }

                    arguments.Add(value);
                }

                return CallMethod(method.IsStatic ? null : frame.Self, method, arguments, invocation.Syntax.GetLocation());
            }

            return Fail(invocation, $"the call of '{method.ContainingType?.Name}.{method.Name}'; {Supported()}");
        }

        private ModelValue? CallModule(ModuleModelValue module, IMethodSymbol method, IReadOnlyList<ModelValue> arguments, IInvocationOperation site)
        {
            if (module.Op is { } op)
            {
                if (module.Index < 0)
                {
                    return Fail(site, $"{module.Display} is created inside the forward pass; create modules in fields or the constructor, so that they own their parameters");
                }

                if (arguments.Count != 1 || arguments[0] is not TensorModelValue x)
                {
                    return Fail(site, $"{module.Display}.Forward takes one tensor");
                }

                ModelValue? result = AddNode(op, new[] { x }, module.Settings, module.Index, site);
                return result is TensorModelValue packed && op.Parts(module.Settings, packed.Shape) is { } parts ? Unpack(packed, parts, site) : result;
            }

            return CallMethod(module, method, arguments, site.Syntax.GetLocation());
        }

        /// <summary>
        /// The C# tuple a module's Forward returns (GRU's output and final state): one Narrow of the module's value per part,
        /// nested as the parts are.
        /// </summary>
        private ModelValue? Unpack(TensorModelValue packed, OutputParts parts, IOperation site)
        {
            if (parts.Items is not { } items)
            {
                var settings = new OpSettings(EquatableArray.Of(0, parts.Start, parts.Length), EquatableArray.Empty<double>(), string.Empty);
                return AddNode(NarrowOp.Instance, new[] { packed }, settings, -1, site);
            }

            var values = new List<ModelValue>();
            foreach (OutputParts item in items)
            {
                if (Unpack(packed, item, site) is not { } value)
                {
                    return null;
                }

                values.Add(value);
            }

            return new TupleModelValue(values);
        }

        private ModelValue? CallFunction(IInvocationOperation invocation, Frame frame)
        {
            string name = invocation.TargetMethod.Name;
            if (OpCatalogue.ForFunction(name) is not { } op)
            {
                return Fail(invocation, $"Functional.{name} is not one the generator compiles yet; it supports {OpCatalogue.Supported(o => o.Function)}");
            }

            var tensors = new List<TensorModelValue>();
            var settings = new List<IArgumentOperation>();
            foreach (IArgumentOperation argument in invocation.Arguments)
            {
                ITypeSymbol? type = argument.Parameter?.Type;
                bool isTensor = type is INamedTypeSymbol named && ModelParser.IsTensor(named);
                bool isTensorArray = type is IArrayTypeSymbol { ElementType: INamedTypeSymbol element } && ModelParser.IsTensor(element);
                if (!isTensor && !isTensorArray)
                {
                    settings.Add(argument);
                    continue;
                }

                IEnumerable<IOperation> operands = isTensorArray && Unwrap(argument.Value) is IArrayCreationOperation { Initializer: { } initializer }
                    ? initializer.ElementValues
                    : new[] { argument.Value };
                foreach (IOperation operand in operands)
                {
                    ModelValue? value = Evaluate(operand, frame);
                    if (value is null)
                    {
                        return null;
                    }

                    if (value is not TensorModelValue tensor)
                    {
                        return Fail(operand, $"{name} takes tensors here, but this is {value.Describe()}");
                    }

                    tensors.Add(tensor);
                }
            }

            var arguments = new OpArguments(this, invocation, settings.ToImmutableArray(), frame, _diagnostics);
            OpSettings opSettings = op.ReadSettings(arguments);
            if (arguments.Failed)
            {
                return null;
            }

            if (op.Arity >= 0 ? tensors.Count != op.Arity : tensors.Count == 0)
            {
                return Fail(invocation, $"{name} takes {(op.Arity >= 0 ? op.Arity.ToString(System.Globalization.CultureInfo.InvariantCulture) : "at least one")} tensor(s), got {tensors.Count}");
            }

            return AddNode(op, tensors, opSettings, -1, invocation);
        }

        private ModelValue? CallTensorMember(IInvocationOperation invocation, IOperation instanceOperation, Frame frame)
        {
            ModelValue? instance = Evaluate(instanceOperation, frame);
            if (instance is not TensorModelValue tensor)
            {
                return instance is null ? null : Fail(invocation, $"a Tensor method called on {instance.Describe()}");
            }

            string name = invocation.TargetMethod.Name;
            var ints = new List<int>();
            foreach (IArgumentOperation argument in invocation.Arguments)
            {
                IEnumerable<IOperation> operands = argument.ArgumentKind == ArgumentKind.ParamArray && Unwrap(argument.Value) is IArrayCreationOperation { Initializer: { } initializer }
                    ? initializer.ElementValues
                    : new[] { argument.Value };
                foreach (IOperation operand in operands)
                {
                    if (Evaluate(operand, frame) is not ConstantModelValue { Value: int value })
                    {
                        return Failed ? null : Fail(operand, $"Tensor.{name} takes constant ints (known at compile time)");
                    }

                    ints.Add(value);
                }
            }

            if (name == "Size")
            {
                int d = ints.Count == 1 ? ints[0] : int.MinValue;
                d = d < 0 && d != int.MinValue ? d + tensor.Shape.Count : d;
                if (d < 0 || d >= tensor.Shape.Count)
                {
                    return Fail(invocation, $"Size({(ints.Count == 1 ? ints[0].ToString(System.Globalization.CultureInfo.InvariantCulture) : "?")}) of {Shapes.Text(tensor.Shape)}: a shape of rank {tensor.Shape.Count} has dimensions 0 to {tensor.Shape.Count - 1} (the batch is not counted)");
                }

                return new ConstantModelValue(tensor.Shape[d]);
            }

            if (OpCatalogue.ForTensorMember(name) is not { } op)
            {
                return Fail(invocation, $"Tensor.{name} is not one the generator compiles; it supports {OpCatalogue.Supported(o => o.TensorMember)}, Size");
            }

            if (op.Key == "Transpose" && ints.Count != 2)
            {
                return Fail(invocation, "Transpose takes two dimensions");
            }

            return AddNode(op, new[] { tensor }, new OpSettings(EquatableArray.From(ints), EquatableArray.Empty<double>(), string.Empty), -1, invocation);
        }

        private ModelValue? AddNode(OpDefinition op, IReadOnlyList<TensorModelValue> inputs, OpSettings settings, int module, IOperation site)
        {
            if (_nodes.Count >= MaxNodes)
            {
                return Fail(site, $"a graph of more than {MaxNodes} ops");
            }

            foreach (TensorModelValue input in inputs)
            {
                if (OpCatalogue.Of(_nodes[input.Node].Op).HoldsIntegers && op.IndexLimit(settings) is null)
                {
                    return Fail(site, $"{op.Describe(settings)} reads floats, but receives token ids; an Embedding turns ids into vectors first");
                }
            }

            var errors = new ShapeErrors(_diagnostics, site.Syntax.GetLocation(), module >= 0 ? Registered[module] : null);
            EquatableArray<int>? shape = op.InferShape(settings, inputs.Select(i => i.Shape).ToList(), errors);
            if (shape is not { } output)
            {
                return null;
            }

            if (Shapes.LongSize(output) > int.MaxValue / 64)
            {
                return Fail(site, $"the value {Shapes.Text(output)} per example is too large for an array");
            }

            SyntaxNode syntax = site.Syntax;
            // No line number: an edit elsewhere in the file must not change the model (and regenerate it).
            string source = $"{System.IO.Path.GetFileName(syntax.SyntaxTree.FilePath)}: {Text(site)}";
            var node = new GraphNode(_nodes.Count, op.Key, EquatableArray.From(inputs.Select(i => i.Node)), output, settings, module, source);
            _nodes.Add(node);
            return new TensorModelValue(node.Id, output);
        }

        /// <summary>Evaluates an argument for <see cref="OpArguments"/>.</summary>
        private ModelValue? EvaluateArgument(IOperation operation, Frame frame) => Evaluate(operation, frame);

        private sealed class ShapeErrors : IShapeErrors
        {
            private readonly ModelDiagnostics _diagnostics;
            private readonly Location _location;

            private readonly ModuleModelValue? _module;

            public ShapeErrors(ModelDiagnostics diagnostics, Location location, ModuleModelValue? module)
            {
                _diagnostics = diagnostics;
                _location = location;
                _module = module;
            }

            private string Text(string message) => _module is null ? message : $"{_module.Path}: {message}";

            public void Error(string message) => _diagnostics.Report(DiagnosticDescriptors.ModelShape, _location, Text(message));

            public void Error(string message, string argument, int expected)
            {
                // The fix edits the number where it is written, when it is written as numbers there (32, 32 * 7 * 7), not
                // through a name (a constructor parameter or a constant, which other uses may share).
                if (_module is not null && _module.Arguments.TryGetValue(argument, out Location? where)
                    && where.SourceTree?.GetRoot().FindNode(where.SourceSpan, getInnermostNodeForTie: true) is ExpressionSyntax written
                    && !written.DescendantNodesAndSelf().OfType<IdentifierNameSyntax>().Any())
                {
                    _diagnostics.ReportWithFix(DiagnosticDescriptors.ModelShape, _location, Text(message), where, expected);
                }
                else
                {
                    Error(message);
                }
            }
        }

        /// <summary>The arguments of a module constructor or function call, read by parameter name (defaults included).</summary>
        private sealed class OpArguments : IOpArguments
        {
            private readonly ModelInterpreter _interpreter;
            private readonly IOperation _site;
            private readonly Dictionary<string, IArgumentOperation> _arguments = new();
            private readonly Dictionary<string, List<Location>> _elements = new();
            private readonly Frame _frame;
            private readonly ModelDiagnostics _diagnostics;

            public OpArguments(ModelInterpreter interpreter, IOperation site, ImmutableArray<IArgumentOperation> arguments, Frame frame, ModelDiagnostics diagnostics)
            {
                _interpreter = interpreter;
                _site = site;
                _frame = frame;
                _diagnostics = diagnostics;
                foreach (IArgumentOperation argument in arguments)
                {
                    if (argument.Parameter is { } parameter)
                    {
                        _arguments[parameter.Name] = argument;
                    }
                }
            }

            public bool Failed { get; private set; }

            private object? Constant(string name, string expected)
            {
                if (!_arguments.TryGetValue(name, out IArgumentOperation? argument))
                {
                    Error(name, $"the argument '{name}' is missing");
                    return null;
                }

                ModelValue? value = _interpreter.EvaluateArgument(argument.Value, _frame);
                if (value is ConstantModelValue constant)
                {
                    return constant.Value;
                }

                if (value is not null)
                {
                    Error(name, $"{name} must be {expected} known at compile time (a literal, a const, or a constructor parameter bound to one), but it is {value.Describe()}");
                }
                else
                {
                    Failed = true;
                }

                return null;
            }

            public int Int(string name) => Constant(name, "an int") is { } value ? value is int i ? i : Wrong(name, "an int", value, 1) : Mark(1);

            public double Real(string name) => Constant(name, "a number") switch
            {
                int i => i,
                double d => d,
                float f => f,
                null => Mark(0.0),
                { } other => Wrong(name, "a number", other, 0.0),
            };

            public bool Bool(string name) => Constant(name, "a bool") is { } value ? value is bool b ? b : Wrong(name, "a bool", value, false) : Mark(false);

            public string Text(string name) => Constant(name, "a string") is { } value ? value is string s ? s : Wrong(name, "a string", value, string.Empty) : Mark(string.Empty);

            public int[] Ints(string name)
            {
                if (!_arguments.TryGetValue(name, out IArgumentOperation? argument))
                {
                    Error(name, $"the argument '{name}' is missing");
                    return System.Array.Empty<int>();
                }

                IEnumerable<IOperation> operands = Unwrap(argument.Value) is IArrayCreationOperation { Initializer: { } initializer }
                    ? initializer.ElementValues
                    : new[] { argument.Value };
                var values = new List<int>();
                _elements[name] = operands.Select(o => o.Syntax.GetLocation()).ToList();
                foreach (IOperation operand in operands)
                {
                    ModelValue? value = _interpreter.EvaluateArgument(operand, _frame);
                    if (value is ConstantModelValue { Value: int i })
                    {
                        values.Add(i);
                        continue;
                    }

                    if (value is not null)
                    {
                        _diagnostics.Report(DiagnosticDescriptors.ModelArgument, operand.Syntax.GetLocation(), $"{name} must be ints known at compile time, but '{operand.Syntax}' is {value.Describe()}");
                    }

                    Failed = true;
                    return System.Array.Empty<int>();
                }

                return values.ToArray();
            }

            private T Wrong<T>(string name, string expected, object value, T fallback)
            {
                Error(name, $"{name} must be {expected}, got {System.Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture)}");
                return fallback;
            }

            public void Error(string name, int element, string message)
            {
                if (_elements.TryGetValue(name, out List<Location>? locations) && element >= 0 && element < locations.Count)
                {
                    Failed = true;
                    _diagnostics.Report(DiagnosticDescriptors.ModelArgument, locations[element], message);
                    return;
                }

                Error(name, message);
            }

            public void Error(string name, string message)
            {
                Failed = true;
                Location location = _arguments.TryGetValue(name, out IArgumentOperation? argument) && !argument.IsImplicit
                    ? argument.Syntax.GetLocation()
                    : _site.Syntax.GetLocation();
                _diagnostics.Report(DiagnosticDescriptors.ModelArgument, location, message);
            }

            private T Mark<T>(T fallback)
            {
                Failed = true;
                return fallback;
            }
        }
    }
}
