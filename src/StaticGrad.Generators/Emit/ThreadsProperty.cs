namespace StaticGrad.Generators.Emit
{
    /// <summary>
    /// The body of the generated <c>Threads</c> property that networks and models share: 1–64, a <c>WorkerTeam</c> in the
    /// class's <c>_team</c> field (null on one thread), the old team's workers ended when the count changes.
    /// </summary>
    internal static class ThreadsProperty
    {
        /// <summary>Writes the property after its documentation, which the caller writes (what its class splits differs).</summary>
        public static void Write(SourceWriter w)
        {
            w.Line("/// <exception cref=\"global::System.ArgumentOutOfRangeException\">The value is outside 1–64.</exception>");
            w.Line("public int Threads");
            w.Line("{");
            w.Line("    get => _team?.Threads ?? 1;");
            w.Line("    set");
            w.Line("    {");
            w.Line("        if (value < 1 || value > 64) throw new global::System.ArgumentOutOfRangeException(nameof(Threads), value, \"Threads must be between 1 and 64.\");");
            w.Line("        if (value == Threads) return;");
            w.Line("        _team?.Dispose(); // its workers end");
            w.Line("        _team = value == 1 ? null : new global::StaticGrad.Kernels.WorkerTeam(value);");
            w.Line("    }");
            w.Line("}");
            w.Line();
        }
    }
}
