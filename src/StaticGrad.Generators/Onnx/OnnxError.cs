using System;
using System.Globalization;

namespace StaticGrad.Generators.Onnx
{
    /// <summary>What kind of problem an <see cref="OnnxError"/> reports; the generator can map each to a diagnostic.</summary>
    internal enum OnnxErrorKind
    {
        /// <summary>The bytes are not a Protocol Buffers encoding of an ONNX ModelProto (or it has no graph).</summary>
        NotOnnx,

        /// <summary>The file ends inside a field: a declared length or a varint runs past its last byte.</summary>
        Truncated,

        /// <summary>The encoding is inconsistent inside the file (a nested length past its message's end, a bad packed field, tensor data that does not match its dims).</summary>
        Corrupt,

        /// <summary>A tensor has more elements than a .NET array holds.</summary>
        TooLarge,

        /// <summary>A tensor's values are stored outside the file (ONNX external data).</summary>
        ExternalData,

        /// <summary>Valid ONNX that StaticGrad does not read: subgraph attributes, sparse tensors, an element type the caller did not ask for.</summary>
        Unsupported,

        /// <summary>Messages nested deeper than <see cref="OnnxReader.MaxDepth"/>.</summary>
        TooDeep,

        /// <summary>The graph has a cycle.</summary>
        Cycle,

        /// <summary>A node reads a value (or the graph outputs one) that no graph input, initializer or node defines.</summary>
        UndefinedValue,

        /// <summary>Two definitions (nodes, inputs, initializers) of one value name.</summary>
        DuplicateValue,

        /// <summary>The model imports no opset for the default ONNX domain, or two different ones.</summary>
        MissingOpset,
    }

    /// <summary>
    /// Why an ONNX file could not be read or checked: a kind, and a message that names what is wrong and where (the byte
    /// offset and the chain of messages for wire-format errors, the tensor or node for the others). The message does not name
    /// the file: the caller (the generator's diagnostic) does. An immutable value; equal when kind, message and offset are.
    /// </summary>
    internal sealed class OnnxError : IEquatable<OnnxError>
    {
        public OnnxError(OnnxErrorKind kind, string message, long byteOffset = -1)
        {
            Kind = kind;
            Message = message;
            ByteOffset = byteOffset;
        }

        /// <summary>What kind of problem this is.</summary>
        public OnnxErrorKind Kind { get; }

        /// <summary>A sentence (starting lower case, so it can follow "'model.onnx': ") that names the problem and where it is.</summary>
        public string Message { get; }

        /// <summary>The byte of the file where the problem was found, or -1 when it is not about one place in the bytes.</summary>
        public long ByteOffset { get; }

        public bool Equals(OnnxError? other) => other is not null && other.Kind == Kind && other.ByteOffset == ByteOffset && other.Message == Message;

        public override bool Equals(object? obj) => Equals(obj as OnnxError);

        public override int GetHashCode() => unchecked(((int)Kind * 397) ^ Message.GetHashCode());

        public override string ToString() => Message;

        /// <summary>A count with thousands separators, invariant culture: 1,048,576.</summary>
        internal static string Count(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

        /// <summary>An element count as a message says it: 2^40 when it is a power of two above 2^20, else with separators.</summary>
        internal static string Elements(ulong value)
        {
            if (value > (1UL << 20) && (value & (value - 1)) == 0)
            {
                int power = 0;
                while ((value >>= 1) != 0)
                {
                    power++;
                }

                return "2^" + power.ToString(CultureInfo.InvariantCulture);
            }

            return value.ToString("N0", CultureInfo.InvariantCulture);
        }
    }

    /// <summary>Either a value or the <see cref="OnnxError"/> that kept it from being made; never both.</summary>
    internal readonly struct OnnxResult<T>
    {
        private OnnxResult(T? value, OnnxError? error)
        {
            Value = value;
            Error = error;
        }

        /// <summary>The value; <c>default</c> when <see cref="Error"/> is set.</summary>
        public T? Value { get; }

        /// <summary>The error, or null on success.</summary>
        public OnnxError? Error { get; }

        /// <summary>True when there is a value.</summary>
        public bool IsSuccess => Error is null;

        public static OnnxResult<T> Success(T value) => new(value, null);

        public static OnnxResult<T> Failure(OnnxError error) => new(default, error);

        public static implicit operator OnnxResult<T>(OnnxError error) => new(default, error);

        public override string ToString() => Error is null ? "success: " + Value : "error: " + Error.Message;
    }
}
