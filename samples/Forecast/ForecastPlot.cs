using System;
using System.Linq;
using ScottPlot;

namespace StaticGrad.Samples.Forecast;

/// <summary>Truth against the one-month-ahead forecasts over the test part, one panel per variable (ScottPlot 5).</summary>
internal static class ForecastPlot
{
    /// <summary>Writes the PNG.</summary>
    /// <param name="path">Where to write it.</param>
    /// <param name="months">The test part's months.</param>
    /// <param name="names">The variables' names, one panel each.</param>
    /// <param name="truth">[month, variable] in °C.</param>
    /// <param name="gru">The GRU's forecasts, [month, variable] in °C.</param>
    /// <param name="persistence">Last month's value, [month, variable] in °C.</param>
    /// <param name="title">The title above the first panel.</param>
    public static void Save(string path, DateTime[] months, string[] names, float[,] truth, float[,] gru, float[,] persistence, string title)
    {
        double[] x = months.Select(m => m.ToOADate()).ToArray();
        var multiplot = new ScottPlot.Multiplot();
        multiplot.AddPlots(names.Length);
        for (int d = 0; d < names.Length; d++)
        {
            ScottPlot.Plot plot = multiplot.GetPlot(d);
            Line(plot, x, persistence, d, "persistence (last month)", ScottPlot.Colors.Gray.WithAlpha(0.6), 1, dashed: true);
            Line(plot, x, truth, d, "observed", ScottPlot.Colors.Black, 2, dashed: false);
            Line(plot, x, gru, d, "GRU, one month ahead", ScottPlot.Colors.OrangeRed, 2, dashed: false);
            plot.Axes.DateTimeTicksBottom();
            plot.YLabel($"{names[d]} SST (°C)");
            plot.ShowLegend(ScottPlot.Alignment.UpperLeft);
            if (d == 0)
            {
                plot.Title(title);
            }
        }

        multiplot.SavePng(path, 1200, 380 * names.Length);
    }

    private static void Line(ScottPlot.Plot plot, double[] x, float[,] values, int d, string label, ScottPlot.Color color, float width, bool dashed)
    {
        double[] y = Enumerable.Range(0, x.Length).Select(t => (double)values[t, d]).ToArray();
        var line = plot.Add.Scatter(x, y);
        line.LegendText = label;
        line.Color = color;
        line.LineWidth = width;
        line.MarkerSize = 0;
        if (dashed)
        {
            line.LinePattern = ScottPlot.LinePattern.Dashed;
        }
    }
}
