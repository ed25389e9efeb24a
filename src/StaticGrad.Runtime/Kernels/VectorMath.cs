using System;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace StaticGrad.Kernels
{
    /// <summary>
    /// Float transcendental functions on whole vectors (.NET 8 has no vector exponential), each at every width the kernels
    /// use (Vector512, Vector256, Vector128) and as a scalar of the same algorithm for tails and the scalar path.
    /// <para>
    /// <c>Exp</c> is Cephes' <c>expf</c>: <c>x = n·ln 2 + r</c> with n = round(x/ln 2) (by adding and subtracting 1.5·2²³, whose
    /// bits then hold n: Floor and ConvertToInt32 are not single instructions everywhere) and ln 2 split in two so r is exact,
    /// a degree-6 polynomial in r (fused multiply-adds where the CPU has them), then 2ⁿ put into the exponent bits; about 1 ulp over the float range, 0 below
    /// −87.3 (where e^x would be subnormal) and +∞ above 88 (e^88 ≈ 1.65e38: the top of float's last binade is given up,
    /// so that 2ⁿ always fits the exponent). <c>Exp(hi, lo)</c> is e^(hi + lo) for an argument carried in two floats
    /// (lo much smaller than hi), reduced as <c>((hi − n·ln2₁) + lo) − n·ln2₂</c> so lo's bits are not rounded away.
    /// </para>
    /// <para>
    /// <c>NormalTail(a)</c> is Φ(−a) = ½·erfc(a/√2) for a ≥ 0, from the Chebyshev fit of Numerical Recipes' <c>erfcc</c>,
    /// <c>erfc(z) = t·exp(−z² + P(t))</c> with <c>t = 1/(1 + z/2)</c>, whose relative error is below 1.2e-7 for every z ≥ 0;
    /// −z² = −a²/2 is formed exactly (Dekker's product) and passed to <c>Exp(hi, lo)</c>, so the relative accuracy holds
    /// deep in the tail too (about 4e-7 in float).
    /// </para>
    /// </summary>
    internal static class VectorMath
    {
        private const float Log2E = 1.44269504088896341f;
        private const float Ln2High = 0.693359375f;
        private const float Ln2Low = -2.12194440e-4f;
        private const float ExpMin = -87.33654f;
        private const float ExpMax = 88f;
        private const float P0 = 1.9875691500E-4f, P1 = 1.3981999507E-3f, P2 = 8.3334519073E-3f, P3 = 4.1665795894E-2f, P4 = 1.6666665459E-1f, P5 = 5.0000001201E-1f;
        private const float InverseSqrtTwo = 0.70710678118654752f;

        /// <summary>1.5·2²³: adding it rounds a float below 2²² in magnitude to an integer, which then sits in the low bits.</summary>
        private const float RoundingShift = 12582912f;

        /// <summary>The bits of <see cref="RoundingShift"/>.</summary>
        private const int RoundingShiftBits = 0x4B400000;

        // erfcc's coefficients, from the innermost (t⁹) out.
        private const float E9 = 0.17087277f, E8 = -0.82215223f, E7 = 1.48851587f, E6 = -1.13520398f, E5 = 0.27886807f, E4 = -0.18628806f,
            E3 = 0.09678418f, E2 = 0.37409196f, E1 = 1.00002368f, E0 = -1.26551223f;

        /// <summary>Clears the low 12 of a float's 24 significand bits (Dekker's split: the high half squares exactly).</summary>
        private const int SplitMask = unchecked((int)0xFFFFF000);

        /// <summary><c>a·b + c</c>: one fused multiply-add where the CPU has it (AVX-512F), else a product and a sum.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector512<float> Mad(Vector512<float> a, Vector512<float> b, Vector512<float> c) =>
            Avx512F.IsSupported ? Avx512F.FusedMultiplyAdd(a, b, c) : (a * b) + c;

        /// <summary><c>a·b + c</c>: one fused multiply-add where the CPU has it (FMA3), else a product and a sum.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector256<float> Mad(Vector256<float> a, Vector256<float> b, Vector256<float> c) =>
            Fma.IsSupported ? Fma.MultiplyAdd(a, b, c) : (a * b) + c;

        /// <summary><c>a·b + c</c>: one fused multiply-add where the CPU has it (FMA3), else a product and a sum.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector128<float> Mad(Vector128<float> a, Vector128<float> b, Vector128<float> c) =>
            Fma.IsSupported ? Fma.MultiplyAdd(a, b, c) : (a * b) + c;

        /// <summary>e^x, scalar, the same algorithm as the vector versions.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static float Exp(float x) => Exp(x, 0f);

        /// <summary>e^(hi + lo), scalar.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static float Exp(float hi, float lo)
        {
            float x = hi + lo;
            if (float.IsNaN(x)) return x;
            if (x < ExpMin) return 0f;
            if (x > ExpMax) return float.PositiveInfinity;
            float n = MathF.Floor((x * Log2E) + 0.5f);
            float r = ((hi - (n * Ln2High)) + lo) - (n * Ln2Low);
            float p = (((((((((P0 * r) + P1) * r) + P2) * r) + P3) * r) + P4) * r) + P5;
            float y = (p * r * r) + r + 1f;
            return y * BitConverter.Int32BitsToSingle(((int)n + 127) << 23);
        }

        /// <summary>Φ(−a) = ½·erfc(a/√2) for a ≥ 0, scalar.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static float NormalTail(float a)
        {
            float t = 1f / (1f + (0.5f * InverseSqrtTwo * a));
            float p = (((((((((((((((((E9 * t) + E8) * t) + E7) * t) + E6) * t) + E5) * t) + E4) * t) + E3) * t) + E2) * t) + E1) * t) + E0;
            (float square, float error) = Square(a);
            return 0.5f * t * Exp(-0.5f * square, p - (0.5f * error));
        }

        /// <summary>e^(−a²/2), scalar, with a² formed exactly.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static float ExpMinusHalfSquare(float a)
        {
            (float square, float error) = Square(a);
            return Exp(-0.5f * square, -0.5f * error);
        }

        /// <summary>a² as an unevaluated sum of two floats (Dekker): the rounded square and its rounding error.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static (float Square, float Error) Square(float a)
        {
            float high = BitConverter.Int32BitsToSingle(BitConverter.SingleToInt32Bits(a) & SplitMask), low = a - high;
            float square = a * a;
            return (square, (((high * high) - square) + (2f * high * low)) + (low * low));
        }

        /// <summary>e^x on 16 floats.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<float> Exp(Vector512<float> x) => Exp(x, Vector512<float>.Zero);

        /// <summary>e^(hi + lo) on 16 floats.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<float> Exp(Vector512<float> hi, Vector512<float> lo)
        {
            Vector512<float> x = hi + lo;
            Vector512<float> low = Vector512.LessThan(x, Vector512.Create(ExpMin)), high = Vector512.GreaterThan(x, Vector512.Create(ExpMax));
            Vector512<float> c = Vector512.Min(Vector512.Max(x, Vector512.Create(ExpMin)), Vector512.Create(ExpMax));
            Vector512<float> shifted = Mad(c, Vector512.Create(Log2E), Vector512.Create(RoundingShift)); // n in the low significand bits
            Vector512<float> n = shifted - Vector512.Create(RoundingShift);
            Vector512<float> r = Mad(n, Vector512.Create(-Ln2Low), Mad(n, Vector512.Create(-Ln2High), hi) + lo);
            Vector512<float> p = Mad(Vector512.Create(P0), r, Vector512.Create(P1));
            p = Mad(p, r, Vector512.Create(P2));
            p = Mad(p, r, Vector512.Create(P3));
            p = Mad(p, r, Vector512.Create(P4));
            p = Mad(p, r, Vector512.Create(P5));
            Vector512<float> y = Mad(p * r, r, r) + Vector512<float>.One;
            y *= Vector512.ShiftLeft(shifted.AsInt32() - Vector512.Create(RoundingShiftBits - 127), 23).AsSingle();
            y = Vector512.ConditionalSelect(low, Vector512<float>.Zero, y);
            y = Vector512.ConditionalSelect(high, Vector512.Create(float.PositiveInfinity), y);
            return Vector512.ConditionalSelect(Vector512.Equals(x, x), y, x); // NaN stays NaN
        }

        /// <summary>Φ(−a) = ½·erfc(a/√2) for a ≥ 0 on 16 floats.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<float> NormalTail(Vector512<float> a)
        {
            Vector512<float> t = Vector512<float>.One / (Vector512<float>.One + (Vector512.Create(0.5f * InverseSqrtTwo) * a));
            Vector512<float> p = Vector512.Create(E9);
            p = Mad(p, t, Vector512.Create(E8));
            p = Mad(p, t, Vector512.Create(E7));
            p = Mad(p, t, Vector512.Create(E6));
            p = Mad(p, t, Vector512.Create(E5));
            p = Mad(p, t, Vector512.Create(E4));
            p = Mad(p, t, Vector512.Create(E3));
            p = Mad(p, t, Vector512.Create(E2));
            p = Mad(p, t, Vector512.Create(E1));
            p = Mad(p, t, Vector512.Create(E0));
            (Vector512<float> square, Vector512<float> error) = Square(a);
            Vector512<float> half = Vector512.Create(0.5f);
            return half * t * Exp(-half * square, p - (half * error));
        }

        /// <summary>e^(−a²/2) on 16 floats, with a² formed exactly.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<float> ExpMinusHalfSquare(Vector512<float> a)
        {
            (Vector512<float> square, Vector512<float> error) = Square(a);
            Vector512<float> half = Vector512.Create(-0.5f);
            return Exp(half * square, half * error);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static (Vector512<float> Square, Vector512<float> Error) Square(Vector512<float> a)
        {
            Vector512<float> high = (a.AsInt32() & Vector512.Create(SplitMask)).AsSingle(), low = a - high;
            Vector512<float> square = a * a;
            return (square, (((high * high) - square) + (Vector512.Create(2f) * high * low)) + (low * low));
        }

        /// <summary>e^x on 8 floats.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<float> Exp(Vector256<float> x) => Exp(x, Vector256<float>.Zero);

        /// <summary>e^(hi + lo) on 8 floats.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<float> Exp(Vector256<float> hi, Vector256<float> lo)
        {
            Vector256<float> x = hi + lo;
            Vector256<float> low = Vector256.LessThan(x, Vector256.Create(ExpMin)), high = Vector256.GreaterThan(x, Vector256.Create(ExpMax));
            Vector256<float> c = Vector256.Min(Vector256.Max(x, Vector256.Create(ExpMin)), Vector256.Create(ExpMax));
            Vector256<float> shifted = Mad(c, Vector256.Create(Log2E), Vector256.Create(RoundingShift)); // n in the low significand bits
            Vector256<float> n = shifted - Vector256.Create(RoundingShift);
            Vector256<float> r = Mad(n, Vector256.Create(-Ln2Low), Mad(n, Vector256.Create(-Ln2High), hi) + lo);
            Vector256<float> p = Mad(Vector256.Create(P0), r, Vector256.Create(P1));
            p = Mad(p, r, Vector256.Create(P2));
            p = Mad(p, r, Vector256.Create(P3));
            p = Mad(p, r, Vector256.Create(P4));
            p = Mad(p, r, Vector256.Create(P5));
            Vector256<float> y = Mad(p * r, r, r) + Vector256<float>.One;
            y *= Vector256.ShiftLeft(shifted.AsInt32() - Vector256.Create(RoundingShiftBits - 127), 23).AsSingle();
            y = Vector256.ConditionalSelect(low, Vector256<float>.Zero, y);
            y = Vector256.ConditionalSelect(high, Vector256.Create(float.PositiveInfinity), y);
            return Vector256.ConditionalSelect(Vector256.Equals(x, x), y, x); // NaN stays NaN
        }

        /// <summary>Φ(−a) = ½·erfc(a/√2) for a ≥ 0 on 8 floats.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<float> NormalTail(Vector256<float> a)
        {
            Vector256<float> t = Vector256<float>.One / (Vector256<float>.One + (Vector256.Create(0.5f * InverseSqrtTwo) * a));
            Vector256<float> p = Vector256.Create(E9);
            p = Mad(p, t, Vector256.Create(E8));
            p = Mad(p, t, Vector256.Create(E7));
            p = Mad(p, t, Vector256.Create(E6));
            p = Mad(p, t, Vector256.Create(E5));
            p = Mad(p, t, Vector256.Create(E4));
            p = Mad(p, t, Vector256.Create(E3));
            p = Mad(p, t, Vector256.Create(E2));
            p = Mad(p, t, Vector256.Create(E1));
            p = Mad(p, t, Vector256.Create(E0));
            (Vector256<float> square, Vector256<float> error) = Square(a);
            Vector256<float> half = Vector256.Create(0.5f);
            return half * t * Exp(-half * square, p - (half * error));
        }

        /// <summary>e^(−a²/2) on 8 floats, with a² formed exactly.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<float> ExpMinusHalfSquare(Vector256<float> a)
        {
            (Vector256<float> square, Vector256<float> error) = Square(a);
            Vector256<float> half = Vector256.Create(-0.5f);
            return Exp(half * square, half * error);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static (Vector256<float> Square, Vector256<float> Error) Square(Vector256<float> a)
        {
            Vector256<float> high = (a.AsInt32() & Vector256.Create(SplitMask)).AsSingle(), low = a - high;
            Vector256<float> square = a * a;
            return (square, (((high * high) - square) + (Vector256.Create(2f) * high * low)) + (low * low));
        }

        /// <summary>e^x on 4 floats.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector128<float> Exp(Vector128<float> x) => Exp(x, Vector128<float>.Zero);

        /// <summary>e^(hi + lo) on 4 floats.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector128<float> Exp(Vector128<float> hi, Vector128<float> lo)
        {
            Vector128<float> x = hi + lo;
            Vector128<float> low = Vector128.LessThan(x, Vector128.Create(ExpMin)), high = Vector128.GreaterThan(x, Vector128.Create(ExpMax));
            Vector128<float> c = Vector128.Min(Vector128.Max(x, Vector128.Create(ExpMin)), Vector128.Create(ExpMax));
            Vector128<float> shifted = Mad(c, Vector128.Create(Log2E), Vector128.Create(RoundingShift)); // n in the low significand bits
            Vector128<float> n = shifted - Vector128.Create(RoundingShift);
            Vector128<float> r = Mad(n, Vector128.Create(-Ln2Low), Mad(n, Vector128.Create(-Ln2High), hi) + lo);
            Vector128<float> p = Mad(Vector128.Create(P0), r, Vector128.Create(P1));
            p = Mad(p, r, Vector128.Create(P2));
            p = Mad(p, r, Vector128.Create(P3));
            p = Mad(p, r, Vector128.Create(P4));
            p = Mad(p, r, Vector128.Create(P5));
            Vector128<float> y = Mad(p * r, r, r) + Vector128<float>.One;
            y *= Vector128.ShiftLeft(shifted.AsInt32() - Vector128.Create(RoundingShiftBits - 127), 23).AsSingle();
            y = Vector128.ConditionalSelect(low, Vector128<float>.Zero, y);
            y = Vector128.ConditionalSelect(high, Vector128.Create(float.PositiveInfinity), y);
            return Vector128.ConditionalSelect(Vector128.Equals(x, x), y, x); // NaN stays NaN
        }

        /// <summary>Φ(−a) = ½·erfc(a/√2) for a ≥ 0 on 4 floats.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector128<float> NormalTail(Vector128<float> a)
        {
            Vector128<float> t = Vector128<float>.One / (Vector128<float>.One + (Vector128.Create(0.5f * InverseSqrtTwo) * a));
            Vector128<float> p = Vector128.Create(E9);
            p = Mad(p, t, Vector128.Create(E8));
            p = Mad(p, t, Vector128.Create(E7));
            p = Mad(p, t, Vector128.Create(E6));
            p = Mad(p, t, Vector128.Create(E5));
            p = Mad(p, t, Vector128.Create(E4));
            p = Mad(p, t, Vector128.Create(E3));
            p = Mad(p, t, Vector128.Create(E2));
            p = Mad(p, t, Vector128.Create(E1));
            p = Mad(p, t, Vector128.Create(E0));
            (Vector128<float> square, Vector128<float> error) = Square(a);
            Vector128<float> half = Vector128.Create(0.5f);
            return half * t * Exp(-half * square, p - (half * error));
        }

        /// <summary>e^(−a²/2) on 4 floats, with a² formed exactly.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector128<float> ExpMinusHalfSquare(Vector128<float> a)
        {
            (Vector128<float> square, Vector128<float> error) = Square(a);
            Vector128<float> half = Vector128.Create(-0.5f);
            return Exp(half * square, half * error);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static (Vector128<float> Square, Vector128<float> Error) Square(Vector128<float> a)
        {
            Vector128<float> high = (a.AsInt32() & Vector128.Create(SplitMask)).AsSingle(), low = a - high;
            Vector128<float> square = a * a;
            return (square, (((high * high) - square) + (Vector128.Create(2f) * high * low)) + (low * low));
        }
    }
}
