using StaticGrad.Generators.Graph;

namespace StaticGrad.Generators.Emit.Graph
{
    /// <summary>Writes what a <c>[Module]</c> class gets: the base class <c>StaticGrad.Module</c> and the list of its children for the eager run time.</summary>
    internal static class ModuleEmitter
    {
        public static string HintName(ModuleSpec spec) => GeneratedFile.HintName(spec.Type);

        public static string Emit(ModuleSpec spec)
        {
            var w = new SourceWriter();
            GeneratedFile.Open(w, spec.Type, "Module", spec.NullableDirective, "global::StaticGrad.Module");
            WriteVisit(w, spec);
            GeneratedFile.Close(w, spec.Type);
            return w.ToString();
        }

        /// <summary>The override that lists the module's children (PyTorch's registration: their names prefix their parameters') and its Parameter fields.</summary>
        public static void WriteVisit(SourceWriter w, ModuleSpec spec)
        {
            w.Line("/// <summary>Lists the modules this one holds, by field name, so that parameter names read as PyTorch's (<c>conv1.weight</c>).</summary>");
            w.Open("protected override void Visit(global::StaticGrad.ModuleVisitor visitor)");
            foreach (ModuleChild child in spec.Children)
            {
                if (child.IsArray)
                {
                    w.Open($"if ({child.Field} is not null)");
                    w.Open($"for (int i = 0; i < {child.Field}.Length; i++)");
                    w.Open($"if ({child.Field}[i] is not null)");
                    w.Line($"visitor.{(child.IsParameter ? "Parameter" : "Module")}(\"{child.Field}.\" + i.ToString(global::System.Globalization.CultureInfo.InvariantCulture), {child.Field}[i]);");
                    w.Close();
                    w.Close();
                    w.Close();
                }
                else
                {
                    w.Open($"if ({child.Field} is not null)");
                    w.Line($"visitor.{(child.IsParameter ? "Parameter" : "Module")}(\"{child.Field}\", {child.Field});");
                    w.Close();
                }
            }

            w.Close();
        }
    }
}
