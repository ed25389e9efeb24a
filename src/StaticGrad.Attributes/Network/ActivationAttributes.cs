using System;
using System.Diagnostics;

namespace StaticGrad
{
    /// <summary>Rectified linear unit, element-wise: <c>y = max(0, x)</c>; backward <c>dx = dy · [x &gt; 0]</c>.</summary>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
    [Conditional("STATICGRAD_KEEP_ATTRIBUTES")]
    public sealed class ReLUAttribute : Attribute
    {
    }

    /// <summary>Logistic sigmoid, element-wise: <c>y = 1 / (1 + e^(−x))</c>, computed without overflow for either sign; backward <c>dx = dy · y · (1 − y)</c>.</summary>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
    [Conditional("STATICGRAD_KEEP_ATTRIBUTES")]
    public sealed class SigmoidAttribute : Attribute
    {
    }

    /// <summary>Hyperbolic tangent, element-wise: <c>y = tanh(x)</c>; backward <c>dx = dy · (1 − y²)</c>.</summary>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
    [Conditional("STATICGRAD_KEEP_ATTRIBUTES")]
    public sealed class TanhAttribute : Attribute
    {
    }
}
