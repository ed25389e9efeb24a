using System;
using System.Collections.Generic;

namespace StaticGrad
{
    /// <summary>
    /// The base of every module: the built-in layers (<see cref="Linear"/>, <see cref="Conv2d"/>, <see cref="BatchNorm2d"/>, ...) and
    /// the <c>[Module]</c>/<c>[Model]</c> classes whose generated partial part derives from it and lists their children in <see cref="Visit"/>.
    /// </summary>
    /// <remarks>
    /// Like PyTorch's <c>nn.Module</c>: a module is in training mode when created; <see cref="Eval"/> and <see cref="Train"/>
    /// switch it and all its descendants; <see cref="NamedParameters"/> gives <c>state_dict</c>'s dotted names and order.
    /// </remarks>
    public abstract class Module
    {
        [ThreadStatic]
        private static Random? initRandom;

        /// <summary>Whether the module is in training mode (batch statistics in BatchNorm, dropping in Dropout); <see langword="true"/> when created.</summary>
        public bool Training { get; private set; } = true;

        /// <summary>Sets training mode on this module and every descendant, like PyTorch's <c>module.train(mode)</c>.</summary>
        /// <param name="training"><see langword="true"/> for training mode, <see langword="false"/> for evaluation mode.</param>
        public void Train(bool training = true)
        {
            foreach (Module module in Modules())
                module.Training = training;
        }

        /// <summary>Sets evaluation mode on this module and every descendant, like PyTorch's <c>module.eval()</c>: the same as <c>Train(false)</c>.</summary>
        public void Eval() => Train(false);

        /// <summary>
        /// Seeds the generator that initialises new <see cref="Linear"/> and <see cref="Conv2d"/> parameters and seeds new
        /// <see cref="Dropout"/> modules on this thread, like PyTorch's <c>torch.manual_seed</c>: the same seed and the same
        /// constructions give the same values. Until it is called, the generator is seeded from <see cref="Random.Shared"/>.
        /// </summary>
        /// <param name="seed">The seed.</param>
        public static void ManualSeed(int seed) => initRandom = new Random(seed);

        /// <summary>
        /// The learnable parameters of this module and its descendants with PyTorch's dotted names (<c>block1.conv1.weight</c>),
        /// in PyTorch's order: a module's own parameters, then each child's in the order <see cref="Visit"/> lists them.
        /// A parameter or module reached twice is listed once, under its first name.
        /// </summary>
        /// <returns>The names and parameters.</returns>
        public IReadOnlyList<KeyValuePair<string, Parameter>> NamedParameters()
        {
            var result = new List<KeyValuePair<string, Parameter>>();
            var seen = new HashSet<object>(ReferenceEqualityComparer.Instance);
            Walk((prefix, state) =>
            {
                foreach (var (name, p) in state.Parameters)
                    if (seen.Add(p)) result.Add(new(prefix + name, p));
            });
            return result;
        }

        /// <summary>
        /// The float buffers (state that is saved but not learned, such as BatchNorm's <c>running_mean</c> and <c>running_var</c>)
        /// of this module and its descendants, with dotted names in the order of <see cref="NamedParameters"/>.
        /// </summary>
        /// <returns>The names and buffers.</returns>
        public IReadOnlyList<KeyValuePair<string, Parameter>> NamedBuffers()
        {
            var result = new List<KeyValuePair<string, Parameter>>();
            var seen = new HashSet<object>(ReferenceEqualityComparer.Instance);
            Walk((prefix, state) =>
            {
                foreach (var (name, b) in state.Buffers)
                    if (seen.Add(b)) result.Add(new(prefix + name, b));
            });
            return result;
        }

        /// <summary>
        /// The integer buffers (BatchNorm's <c>num_batches_tracked</c>) of this module and its descendants, with dotted names
        /// in the order of <see cref="NamedParameters"/>.
        /// </summary>
        /// <returns>The names and counters.</returns>
        public IReadOnlyList<KeyValuePair<string, Counter>> NamedCounters()
        {
            var result = new List<KeyValuePair<string, Counter>>();
            var seen = new HashSet<object>(ReferenceEqualityComparer.Instance);
            Walk((prefix, state) =>
            {
                foreach (var (name, c) in state.Counters)
                    if (seen.Add(c)) result.Add(new(prefix + name, c));
            });
            return result;
        }

        /// <summary>
        /// Lists this module's direct children, parameters, buffers and counters by name, in declaration order. The generated
        /// partial part of a <c>[Module]</c> class writes it (<c>visitor.Module("conv1", conv1);</c>, arrays as <c>"blocks.0"</c>, ...).
        /// </summary>
        /// <param name="visitor">Receives each member.</param>
        protected abstract void Visit(ModuleVisitor visitor);

        /// <summary>The generator that initialises parameters on this thread.</summary>
        internal static Random InitRandom => initRandom ??= new Random(Random.Shared.Next());

        /// <summary>This module and its descendants, each once, parents first.</summary>
        private List<Module> Modules()
        {
            var modules = new List<Module>();
            Walk((_, state) => modules.Add(state.Owner));
            return modules;
        }

        /// <summary>Visits this module and its descendants once each in PyTorch's <c>named_modules</c> order (pre-order).</summary>
        private void Walk(Action<string, Members> onModule)
        {
            var seen = new HashSet<Module>(ReferenceEqualityComparer.Instance);
            WalkFrom(this, "", onModule, seen);
        }

        private static void WalkFrom(Module module, string prefix, Action<string, Members> onModule, HashSet<Module> seen)
        {
            if (!seen.Add(module)) return;
            var members = new Members(module);
            module.Visit(members);
            onModule(prefix, members);
            foreach (var (name, child) in members.Children)
                WalkFrom(child, prefix + name + ".", onModule, seen);
        }

        /// <summary>Collects what one module's <see cref="Visit"/> lists.</summary>
        private sealed class Members : ModuleVisitor
        {
            public Members(Module owner) => Owner = owner;

            public Module Owner { get; }

            public List<(string Name, Module Child)> Children { get; } = new();

            public List<(string Name, Parameter Parameter)> Parameters { get; } = new();

            public List<(string Name, Parameter Buffer)> Buffers { get; } = new();

            public List<(string Name, Counter Counter)> Counters { get; } = new();

            public override void Module(string name, Module child)
            {
                // A null child (an optional field left unset) is skipped, as PyTorch skips None submodules.
                if (child is not null) Children.Add((name, child));
            }

            public override void Parameter(string name, Parameter p)
            {
                if (p is not null) Parameters.Add((name, p));
            }

            public override void Buffer(string name, Parameter b)
            {
                if (b is not null) Buffers.Add((name, b));
            }

            public override void Counter(string name, Counter c)
            {
                if (c is not null) Counters.Add((name, c));
            }
        }
    }

    /// <summary>
    /// Receives the members of a module from <see cref="Module"/>'s <c>Visit</c>: child modules, learnable parameters,
    /// float buffers and counters, each with its name (PyTorch's attribute name; array elements as <c>"blocks.0"</c>).
    /// </summary>
    public abstract class ModuleVisitor
    {
        /// <summary>A child module.</summary>
        /// <param name="name">The child's name, the prefix of its members' dotted names.</param>
        /// <param name="child">The child.</param>
        public abstract void Module(string name, Module child);

        /// <summary>A learnable parameter of the visited module itself.</summary>
        /// <param name="name">Its name, such as <c>weight</c>.</param>
        /// <param name="p">The parameter.</param>
        public abstract void Parameter(string name, Parameter p);

        /// <summary>A float buffer of the visited module itself (saved, not learned).</summary>
        /// <param name="name">Its name, such as <c>running_mean</c>.</param>
        /// <param name="b">The buffer.</param>
        public abstract void Buffer(string name, Parameter b);

        /// <summary>An integer buffer of the visited module itself.</summary>
        /// <param name="name">Its name, such as <c>num_batches_tracked</c>.</param>
        /// <param name="c">The counter.</param>
        public abstract void Counter(string name, Counter c);
    }
}
