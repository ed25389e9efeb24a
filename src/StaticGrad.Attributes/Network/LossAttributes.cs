using System;
using System.Diagnostics;

namespace StaticGrad
{
    /// <summary>
    /// Softmax followed by cross-entropy against integer class labels, averaged over the batch:
    /// <c>L = −(1/B) Σ_b log softmax(z_b)[label_b]</c>. Computed stably (the row maximum is subtracted before
    /// exponentiating); the fused backward is <c>dz = (softmax(z) − onehot(label)) / B</c>. Optional; when present, last.
    /// </summary>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
    [Conditional("STATICGRAD_KEEP_ATTRIBUTES")]
    public sealed class SoftmaxCrossEntropyAttribute : Attribute
    {
    }

    /// <summary>
    /// Multiclass SVM (hinge) loss against integer class labels, the CS231n form, averaged over the batch:
    /// <c>L = (1/B) Σ_b Σ_{j≠y_b} max(0, z_bj − z_by_b + Δ)</c> with margin <c>Δ = </c><see cref="Margin"/>. Optional; when present, last.
    /// </summary>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
    [Conditional("STATICGRAD_KEEP_ATTRIBUTES")]
    public sealed class MulticlassSvmAttribute : Attribute
    {
        /// <summary>The margin Δ, a finite number greater than 0 (else SGR0019); 1 by default.</summary>
        public double Margin { get; set; } = 1.0;
    }

    /// <summary>
    /// Mean squared error against target values, averaged over every element of the batch
    /// (PyTorch's <c>nn.MSELoss()</c>): <c>L = (1/(B·n)) Σ (y − t)²</c>; backward <c>dy = 2(y − t)/(B·n)</c>. Optional; when present, last.
    /// </summary>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
    [Conditional("STATICGRAD_KEEP_ATTRIBUTES")]
    public sealed class MeanSquaredErrorAttribute : Attribute
    {
    }
}
