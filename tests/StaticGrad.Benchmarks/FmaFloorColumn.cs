using System.Globalization;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace StaticGrad.Benchmarks;

/// <summary>
/// How close a MatMul variant comes to the machine's FMA floor: Forward+Backward is 6·M·K·N FLOP, and one core does at most
/// about 100 GFLOP/s (32 float FLOP per cycle at ~3.1 GHz with turbo), so the floor is 6·M·K·N / 100 ns.
/// </summary>
internal sealed class FmaFloorColumn : IColumn
{
    public const double FlopsPerNanosecond = 100.0;

    public string Id => nameof(FmaFloorColumn);

    public string ColumnName => "of FMA floor";

    public bool AlwaysShow => true;

    public ColumnCategory Category => ColumnCategory.Custom;

    public int PriorityInCategory => 0;

    public bool IsNumeric => true;

    public UnitType UnitType => UnitType.Dimensionless;

    public string Legend => "floor (6·M·K·N FLOP at 100 GFLOP/s) ÷ measured mean";

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
        double floor = flop / FlopsPerNanosecond;
        return (floor / statistics.Mean).ToString("P1", CultureInfo.InvariantCulture);
    }
}
