using System.Globalization;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace StaticGrad.Benchmarks;

/// <summary>
/// How close a MatMul variant comes to the FMA floor: Forward+Backward is 6·M·K·N FLOP, and the floor is that divided by
/// one core's peak with the widest vectors the kernels use, measured at the start of the run (<see cref="MachinePeak"/>).
/// 100% means running at the FMA peak; above 100% means using more than one core.
/// </summary>
internal sealed class FmaFloorColumn : IColumn
{
    /// <summary>The nominal figure for one Zen 3 core, used when the peak cannot be measured.</summary>
    public const double NominalGflops = 100.0;

    /// <summary>The single-core float FMA peak of this machine, GFLOP/s (set by Program before the run).</summary>
    public static double PeakGflops { get; set; } = NominalGflops;

    public string Id => nameof(FmaFloorColumn);

    public string ColumnName => "of FMA floor";

    public bool AlwaysShow => true;

    public ColumnCategory Category => ColumnCategory.Custom;

    public int PriorityInCategory => 0;

    public bool IsNumeric => true;

    public UnitType UnitType => UnitType.Dimensionless;

    public string Legend => $"floor (6·M·K·N FLOP at this core's measured peak, {PeakGflops:F0} GFLOP/s) ÷ mean time";

    public bool IsAvailable(Summary summary) => true;

    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        if (benchmarkCase.Parameters["Shape"] is not string shape || summary[benchmarkCase]?.ResultStatistics is not { } statistics)
        {
            return "-";
        }

        string[] parts = shape.Split('x');
        double flop = 6.0 * double.Parse(parts[0], CultureInfo.InvariantCulture) * double.Parse(parts[1], CultureInfo.InvariantCulture) * double.Parse(parts[2], CultureInfo.InvariantCulture);
        double floor = flop / PeakGflops; // GFLOP/s = FLOP per ns
        return (floor / statistics.Mean).ToString("P1", CultureInfo.InvariantCulture);
    }
}
