namespace StaticGrad.Generators
{
    /// <summary>Names of the generator's pipeline steps, for incremental-caching tests.</summary>
    internal static class TrackingNames
    {
        public const string MatMulFloat = nameof(MatMulFloat);
        public const string MatMulGeneric = nameof(MatMulGeneric);
        public const string NetworkFloat = nameof(NetworkFloat);
        public const string NetworkGeneric = nameof(NetworkGeneric);
    }
}
