namespace StaticGrad.Interchange
{
    /// <summary>
    /// The element type a file stores tensors in, when it may differ from the network's own: a double network exported
    /// with <see cref="Float"/> gets float tensors (its parameters rounded to the nearest float), which ONNX Runtime's CPU
    /// provider runs everywhere, while it has no double <c>Conv</c>.
    /// </summary>
    public enum ElementType
    {
        /// <summary>32-bit IEEE 754 (<see cref="float"/>; ONNX <c>FLOAT</c>).</summary>
        Float = 1,

        /// <summary>64-bit IEEE 754 (<see cref="double"/>; ONNX <c>DOUBLE</c>).</summary>
        Double = 11,
    }
}
