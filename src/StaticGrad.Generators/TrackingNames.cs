namespace StaticGrad.Generators
{
    /// <summary>Names of the generator's pipeline steps, for incremental-caching tests.</summary>
    internal static class TrackingNames
    {
        public const string MatMulFloat = nameof(MatMulFloat);
        public const string MatMulGeneric = nameof(MatMulGeneric);
        public const string NetworkFloat = nameof(NetworkFloat);
        public const string NetworkGeneric = nameof(NetworkGeneric);
        public const string NetworkInput = nameof(NetworkInput);
        public const string NetworkInputGeneric = nameof(NetworkInputGeneric);
        public const string Model = nameof(Model);
        public const string Module = nameof(Module);
        public const string FromOnnx = nameof(FromOnnx);
        public const string OnnxFiles = nameof(OnnxFiles);
        public const string OnnxImport = nameof(OnnxImport);

        /// <summary>The step of the network provider that finds networks by <paramref name="anchor"/>.</summary>
        public static string Network(string anchor) => anchor switch
        {
            Parsing.StaticGradAttributes.Linear => NetworkFloat,
            Parsing.StaticGradAttributes.LinearGeneric => NetworkGeneric,
            Parsing.StaticGradAttributes.Input => NetworkInput,
            _ => NetworkInputGeneric,
        };
    }
}
