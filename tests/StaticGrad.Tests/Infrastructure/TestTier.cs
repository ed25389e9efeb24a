using System;
using Xunit;

namespace StaticGrad.Tests;

/// <summary>
/// Two tiers of the same test suite. The quick tier is the README's test command (<c>dotnet test Generators.sln</c>, a few
/// minutes on two cores); the full tier (<c>STATICGRAD_TIER=full</c>, which <c>.ci/run</c> sets) adds the slowest
/// consumer-project tests, every instruction-set path in child processes and more random cases.
/// </summary>
public static class TestTier
{
    /// <summary>The environment variable that selects the tier.</summary>
    public const string Variable = "STATICGRAD_TIER";

    /// <summary>Whether this run is the full tier.</summary>
    public static bool Full => string.Equals(Environment.GetEnvironmentVariable(Variable), "full", StringComparison.OrdinalIgnoreCase);

    /// <summary>The quick tier's or the full tier's count.</summary>
    public static int Cases(int quick, int full) => Full ? full : quick;
}

/// <summary>
/// A fact of the full tier only: the quick tier reports it as skipped with the reason, and <c>.ci/run</c>
/// (<c>STATICGRAD_TIER=full</c>) runs it on every landing.
/// </summary>
public sealed class FullTierFactAttribute : FactAttribute
{
    public FullTierFactAttribute()
    {
        if (!TestTier.Full)
        {
            Skip = $"full tier: {TestTier.Variable}=full runs it (.ci/run does)";
        }
    }
}

/// <summary>A theory of the full tier only, reported as skipped in the quick tier as <see cref="FullTierFactAttribute"/> is.</summary>
public sealed class FullTierTheoryAttribute : TheoryAttribute
{
    public FullTierTheoryAttribute()
    {
        if (!TestTier.Full)
        {
            Skip = $"full tier: {TestTier.Variable}=full runs it (.ci/run does)";
        }
    }
}
