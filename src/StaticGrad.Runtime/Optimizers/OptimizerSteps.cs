using System;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace StaticGrad.Optimizers
{
    /// <summary>
    /// One optimizer update over flat parameter, gradient and state arrays, fused into a single vectorised pass: each
    /// element is read and written once (Vector512 for Adam where the CPU has AVX-512, Vector256, Vector128, then a scalar tail; every
    /// path computes each element with the same operations, so the width never changes a result).
    /// The formulas are PyTorch's (<c>torch.optim.SGD</c>, <c>torch.optim.Adam</c> with <c>weight_decay</c>).
    /// </summary>
    /// <remarks>
    /// With <c>zeroGradients</c> set, each gradient is cleared in the same pass right after it is used, which saves the
    /// separate sweep that the next training step would otherwise start with. Generated networks call these from
    /// <c>Step()</c> and <c>TrainStep</c>; they are public so hand-written training code can use them too.
    /// </remarks>
    public static class OptimizerSteps
    {
        /// <summary>SGD without momentum: <c>θ −= η·(g + λ·θ)</c>.</summary>
        /// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
        /// <param name="parameters">θ, updated in place.</param>
        /// <param name="gradients">g, as long as <paramref name="parameters"/>; cleared when <paramref name="zeroGradients"/> is set.</param>
        /// <param name="learningRate">η.</param>
        /// <param name="weightDecay">λ (0 for none).</param>
        /// <param name="zeroGradients">Whether to clear each gradient after using it.</param>
        /// <exception cref="ArgumentException">The spans differ in length.</exception>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)] // optimised from the first call: no on-stack replacement in the middle of a step
        public static void Sgd<T>(Span<T> parameters, Span<T> gradients, T learningRate, T weightDecay, bool zeroGradients)
            where T : unmanaged, IBinaryFloatingPointIeee754<T>
        {
            CheckLength(parameters, gradients.Length, nameof(gradients));
            ref T theta = ref MemoryMarshal.GetReference(parameters);
            ref T grad = ref MemoryMarshal.GetReference(gradients);
            int length = parameters.Length, i = 0;
            if (Vector256.IsHardwareAccelerated && length >= Vector256<T>.Count)
            {
                var lr = Vector256.Create(learningRate);
                var decay = Vector256.Create(weightDecay);
                for (; i <= length - Vector256<T>.Count; i += Vector256<T>.Count)
                {
                    var p = Vector256.LoadUnsafe(ref theta, (nuint)i);
                    var g = Vector256.LoadUnsafe(ref grad, (nuint)i) + (decay * p);
                    (p - (lr * g)).StoreUnsafe(ref theta, (nuint)i);
                    if (zeroGradients)
                    {
                        Vector256<T>.Zero.StoreUnsafe(ref grad, (nuint)i);
                    }
                }
            }
            else if (Vector128.IsHardwareAccelerated && length >= Vector128<T>.Count)
            {
                var lr = Vector128.Create(learningRate);
                var decay = Vector128.Create(weightDecay);
                for (; i <= length - Vector128<T>.Count; i += Vector128<T>.Count)
                {
                    var p = Vector128.LoadUnsafe(ref theta, (nuint)i);
                    var g = Vector128.LoadUnsafe(ref grad, (nuint)i) + (decay * p);
                    (p - (lr * g)).StoreUnsafe(ref theta, (nuint)i);
                    if (zeroGradients)
                    {
                        Vector128<T>.Zero.StoreUnsafe(ref grad, (nuint)i);
                    }
                }
            }

            for (; i < length; i++)
            {
                T p = Unsafe.Add(ref theta, i);
                T g = Unsafe.Add(ref grad, i) + (weightDecay * p);
                Unsafe.Add(ref theta, i) = p - (learningRate * g);
                if (zeroGradients)
                {
                    Unsafe.Add(ref grad, i) = T.Zero;
                }
            }
        }

        /// <summary>SGD with momentum (PyTorch's form): <c>v = μ·v + (g + λ·θ)</c>, <c>θ −= η·v</c>.</summary>
        /// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
        /// <param name="parameters">θ, updated in place.</param>
        /// <param name="gradients">g; cleared when <paramref name="zeroGradients"/> is set.</param>
        /// <param name="velocity">v, the momentum buffer, updated in place.</param>
        /// <param name="learningRate">η.</param>
        /// <param name="momentum">μ.</param>
        /// <param name="weightDecay">λ (0 for none).</param>
        /// <param name="zeroGradients">Whether to clear each gradient after using it.</param>
        /// <exception cref="ArgumentException">The spans differ in length.</exception>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)] // optimised from the first call: no on-stack replacement in the middle of a step
        public static void SgdMomentum<T>(Span<T> parameters, Span<T> gradients, Span<T> velocity, T learningRate, T momentum, T weightDecay, bool zeroGradients)
            where T : unmanaged, IBinaryFloatingPointIeee754<T>
        {
            CheckLength(parameters, gradients.Length, nameof(gradients));
            CheckLength(parameters, velocity.Length, nameof(velocity));
            ref T theta = ref MemoryMarshal.GetReference(parameters);
            ref T grad = ref MemoryMarshal.GetReference(gradients);
            ref T vel = ref MemoryMarshal.GetReference(velocity);
            int length = parameters.Length, i = 0;
            if (Vector256.IsHardwareAccelerated && length >= Vector256<T>.Count)
            {
                var lr = Vector256.Create(learningRate);
                var mu = Vector256.Create(momentum);
                var decay = Vector256.Create(weightDecay);
                for (; i <= length - Vector256<T>.Count; i += Vector256<T>.Count)
                {
                    var p = Vector256.LoadUnsafe(ref theta, (nuint)i);
                    var v = (mu * Vector256.LoadUnsafe(ref vel, (nuint)i)) + Vector256.LoadUnsafe(ref grad, (nuint)i) + (decay * p);
                    v.StoreUnsafe(ref vel, (nuint)i);
                    (p - (lr * v)).StoreUnsafe(ref theta, (nuint)i);
                    if (zeroGradients)
                    {
                        Vector256<T>.Zero.StoreUnsafe(ref grad, (nuint)i);
                    }
                }
            }
            else if (Vector128.IsHardwareAccelerated && length >= Vector128<T>.Count)
            {
                var lr = Vector128.Create(learningRate);
                var mu = Vector128.Create(momentum);
                var decay = Vector128.Create(weightDecay);
                for (; i <= length - Vector128<T>.Count; i += Vector128<T>.Count)
                {
                    var p = Vector128.LoadUnsafe(ref theta, (nuint)i);
                    var v = (mu * Vector128.LoadUnsafe(ref vel, (nuint)i)) + Vector128.LoadUnsafe(ref grad, (nuint)i) + (decay * p);
                    v.StoreUnsafe(ref vel, (nuint)i);
                    (p - (lr * v)).StoreUnsafe(ref theta, (nuint)i);
                    if (zeroGradients)
                    {
                        Vector128<T>.Zero.StoreUnsafe(ref grad, (nuint)i);
                    }
                }
            }

            for (; i < length; i++)
            {
                T p = Unsafe.Add(ref theta, i);
                T v = (momentum * Unsafe.Add(ref vel, i)) + Unsafe.Add(ref grad, i) + (weightDecay * p);
                Unsafe.Add(ref vel, i) = v;
                Unsafe.Add(ref theta, i) = p - (learningRate * v);
                if (zeroGradients)
                {
                    Unsafe.Add(ref grad, i) = T.Zero;
                }
            }
        }

        /// <summary>
        /// Adam (PyTorch's form): <c>g = ∂L/∂θ + λ·θ</c>, <c>m = β₁m + (1−β₁)g</c>, <c>v = β₂v + (1−β₂)g²</c>,
        /// <c>θ −= (η/(1−β₁ᵗ)) · m / (√v·(1/√(1−β₂ᵗ)) + ε)</c>.
        /// </summary>
        /// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
        /// <param name="parameters">θ, updated in place.</param>
        /// <param name="gradients">∂L/∂θ; cleared when <paramref name="zeroGradients"/> is set.</param>
        /// <param name="firstMoment">m, updated in place.</param>
        /// <param name="secondMoment">v, updated in place.</param>
        /// <param name="learningRate">η.</param>
        /// <param name="beta1">β₁.</param>
        /// <param name="beta2">β₂.</param>
        /// <param name="epsilon">ε.</param>
        /// <param name="weightDecay">λ (0 for none; L2 added to the gradient, as Adam's <c>weight_decay</c>).</param>
        /// <param name="step">t, the number of this step, from 1.</param>
        /// <param name="zeroGradients">Whether to clear each gradient after using it.</param>
        /// <exception cref="ArgumentException">The spans differ in length.</exception>
        /// <exception cref="ArgumentOutOfRangeException"><paramref name="step"/> is less than 1.</exception>
        public static void Adam<T>(Span<T> parameters, Span<T> gradients, Span<T> firstMoment, Span<T> secondMoment, T learningRate, T beta1, T beta2, T epsilon, T weightDecay, long step, bool zeroGradients)
            where T : unmanaged, IBinaryFloatingPointIeee754<T>
        {
            AdamCore(parameters, gradients, firstMoment, secondMoment, learningRate, beta1, beta2, epsilon, weightDecay, T.One, step, zeroGradients);
        }

        /// <summary>
        /// AdamW (PyTorch's <c>torch.optim.AdamW</c>): weight decay decoupled from the gradient, <c>θ ← θ·(1 − η·λ)</c>,
        /// then Adam's update with <c>g = ∂L/∂θ</c>, in the same pass.
        /// </summary>
        /// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
        /// <param name="parameters">θ, updated in place.</param>
        /// <param name="gradients">∂L/∂θ; cleared when <paramref name="zeroGradients"/> is set.</param>
        /// <param name="firstMoment">m, updated in place.</param>
        /// <param name="secondMoment">v, updated in place.</param>
        /// <param name="learningRate">η.</param>
        /// <param name="beta1">β₁.</param>
        /// <param name="beta2">β₂.</param>
        /// <param name="epsilon">ε.</param>
        /// <param name="weightDecay">λ (0 for none), decoupled: the parameter shrinks by η·λ of itself.</param>
        /// <param name="step">t, the number of this step, from 1.</param>
        /// <param name="zeroGradients">Whether to clear each gradient after using it.</param>
        /// <exception cref="ArgumentException">The spans differ in length.</exception>
        /// <exception cref="ArgumentOutOfRangeException"><paramref name="step"/> is less than 1.</exception>
        public static void AdamW<T>(Span<T> parameters, Span<T> gradients, Span<T> firstMoment, Span<T> secondMoment, T learningRate, T beta1, T beta2, T epsilon, T weightDecay, long step, bool zeroGradients)
            where T : unmanaged, IBinaryFloatingPointIeee754<T>
        {
            // 1 − η·λ in double, as PyTorch computes it in Python floats before it scales the tensor.
            T keep = T.CreateTruncating(1 - (double.CreateTruncating(learningRate) * double.CreateTruncating(weightDecay)));
            AdamCore(parameters, gradients, firstMoment, secondMoment, learningRate, beta1, beta2, epsilon, T.Zero, keep, step, zeroGradients);
        }

        /// <summary>Adam with L2 decay <paramref name="weightDecay"/> in the gradient and the parameter first scaled by <paramref name="keep"/> (1 for Adam, 1 − ηλ for AdamW).</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)] // optimised from the first call: no on-stack replacement in the middle of a step
        private static void AdamCore<T>(Span<T> parameters, Span<T> gradients, Span<T> firstMoment, Span<T> secondMoment, T learningRate, T beta1, T beta2, T epsilon, T weightDecay, T keep, long step, bool zeroGradients)
            where T : unmanaged, IBinaryFloatingPointIeee754<T>
        {
            CheckLength(parameters, gradients.Length, nameof(gradients));
            CheckLength(parameters, firstMoment.Length, nameof(firstMoment));
            CheckLength(parameters, secondMoment.Length, nameof(secondMoment));
            if (step < 1)
            {
                throw new ArgumentOutOfRangeException(nameof(step), step, "step counts from 1.");
            }

            // Bias corrections in double, as PyTorch computes them in Python floats.
            double correction1 = 1 - Math.Pow(double.CreateTruncating(beta1), step);
            double correction2 = 1 - Math.Pow(double.CreateTruncating(beta2), step);
            T stepSize = T.CreateTruncating(double.CreateTruncating(learningRate) / correction1);
            // PyTorch divides √v by √(1−β₂ᵗ); multiplying by its inverse saves a division per element (≤ 1 ulp apart).
            T inverseSqrtCorrection2 = T.CreateTruncating(1 / Math.Sqrt(correction2));
            T oneMinusBeta1 = T.One - beta1, oneMinusBeta2 = T.One - beta2;

            ref T theta = ref MemoryMarshal.GetReference(parameters);
            ref T grad = ref MemoryMarshal.GetReference(gradients);
            ref T mRef = ref MemoryMarshal.GetReference(firstMoment);
            ref T vRef = ref MemoryMarshal.GetReference(secondMoment);
            int length = parameters.Length, i = 0;
            if (Vector512.IsHardwareAccelerated && length >= Vector512<T>.Count)
            {
                var b1 = Vector512.Create(beta1);
                var b2 = Vector512.Create(beta2);
                var c1 = Vector512.Create(oneMinusBeta1);
                var c2 = Vector512.Create(oneMinusBeta2);
                var eps = Vector512.Create(epsilon);
                var decay = Vector512.Create(weightDecay);
                var size = Vector512.Create(stepSize);
                var root2 = Vector512.Create(inverseSqrtCorrection2);
                var shrink = Vector512.Create(keep);
                for (; i <= length - Vector512<T>.Count; i += Vector512<T>.Count)
                {
                    var p = Vector512.LoadUnsafe(ref theta, (nuint)i) * shrink;
                    var g = Vector512.LoadUnsafe(ref grad, (nuint)i) + (decay * p);
                    var m = (b1 * Vector512.LoadUnsafe(ref mRef, (nuint)i)) + (c1 * g);
                    var v = (b2 * Vector512.LoadUnsafe(ref vRef, (nuint)i)) + (c2 * g * g);
                    m.StoreUnsafe(ref mRef, (nuint)i);
                    v.StoreUnsafe(ref vRef, (nuint)i);
                    (p - (size * m / ((Vector512.Sqrt(v) * root2) + eps))).StoreUnsafe(ref theta, (nuint)i);
                    if (zeroGradients)
                    {
                        Vector512<T>.Zero.StoreUnsafe(ref grad, (nuint)i);
                    }
                }
            }

            if (Vector256.IsHardwareAccelerated && length - i >= Vector256<T>.Count)
            {
                var b1 = Vector256.Create(beta1);
                var b2 = Vector256.Create(beta2);
                var c1 = Vector256.Create(oneMinusBeta1);
                var c2 = Vector256.Create(oneMinusBeta2);
                var eps = Vector256.Create(epsilon);
                var decay = Vector256.Create(weightDecay);
                var size = Vector256.Create(stepSize);
                var root2 = Vector256.Create(inverseSqrtCorrection2);
                var shrink = Vector256.Create(keep);
                for (; i <= length - Vector256<T>.Count; i += Vector256<T>.Count)
                {
                    var p = Vector256.LoadUnsafe(ref theta, (nuint)i) * shrink;
                    var g = Vector256.LoadUnsafe(ref grad, (nuint)i) + (decay * p);
                    var m = (b1 * Vector256.LoadUnsafe(ref mRef, (nuint)i)) + (c1 * g);
                    var v = (b2 * Vector256.LoadUnsafe(ref vRef, (nuint)i)) + (c2 * g * g);
                    m.StoreUnsafe(ref mRef, (nuint)i);
                    v.StoreUnsafe(ref vRef, (nuint)i);
                    (p - (size * m / ((Vector256.Sqrt(v) * root2) + eps))).StoreUnsafe(ref theta, (nuint)i);
                    if (zeroGradients)
                    {
                        Vector256<T>.Zero.StoreUnsafe(ref grad, (nuint)i);
                    }
                }
            }

            if (Vector128.IsHardwareAccelerated && length - i >= Vector128<T>.Count)
            {
                var b1 = Vector128.Create(beta1);
                var b2 = Vector128.Create(beta2);
                var c1 = Vector128.Create(oneMinusBeta1);
                var c2 = Vector128.Create(oneMinusBeta2);
                var eps = Vector128.Create(epsilon);
                var decay = Vector128.Create(weightDecay);
                var size = Vector128.Create(stepSize);
                var root2 = Vector128.Create(inverseSqrtCorrection2);
                var shrink = Vector128.Create(keep);
                for (; i <= length - Vector128<T>.Count; i += Vector128<T>.Count)
                {
                    var p = Vector128.LoadUnsafe(ref theta, (nuint)i) * shrink;
                    var g = Vector128.LoadUnsafe(ref grad, (nuint)i) + (decay * p);
                    var m = (b1 * Vector128.LoadUnsafe(ref mRef, (nuint)i)) + (c1 * g);
                    var v = (b2 * Vector128.LoadUnsafe(ref vRef, (nuint)i)) + (c2 * g * g);
                    m.StoreUnsafe(ref mRef, (nuint)i);
                    v.StoreUnsafe(ref vRef, (nuint)i);
                    (p - (size * m / ((Vector128.Sqrt(v) * root2) + eps))).StoreUnsafe(ref theta, (nuint)i);
                    if (zeroGradients)
                    {
                        Vector128<T>.Zero.StoreUnsafe(ref grad, (nuint)i);
                    }
                }
            }

            for (; i < length; i++)
            {
                T p = Unsafe.Add(ref theta, i) * keep;
                T g = Unsafe.Add(ref grad, i) + (weightDecay * p);
                T m = (beta1 * Unsafe.Add(ref mRef, i)) + (oneMinusBeta1 * g);
                T v = (beta2 * Unsafe.Add(ref vRef, i)) + (oneMinusBeta2 * g * g);
                Unsafe.Add(ref mRef, i) = m;
                Unsafe.Add(ref vRef, i) = v;
                Unsafe.Add(ref theta, i) = p - (stepSize * m / ((T.Sqrt(v) * inverseSqrtCorrection2) + epsilon));
                if (zeroGradients)
                {
                    Unsafe.Add(ref grad, i) = T.Zero;
                }
            }
        }

        private static void CheckLength<T>(Span<T> parameters, int length, string name)
        {
            if (length != parameters.Length)
            {
                throw new ArgumentException($"{name} must have the length of parameters ({parameters.Length}), but has length {length}.", name);
            }
        }
    }
}
