using System.Collections.Generic;
using System.Linq;

namespace StaticGrad.Samples.Digits;

/// <summary>The training loss of every model per epoch, as a PNG (ScottPlot).</summary>
internal static class LossPlot
{
    public static void Save(string path, IReadOnlyList<Result> results)
    {
        var plot = new ScottPlot.Plot();
        foreach (var result in results)
        {
            double[] epochs = Enumerable.Range(1, result.Losses.Count).Select(e => (double)e).ToArray();
            var line = plot.Add.Scatter(epochs, result.Losses.ToArray());
            line.LegendText = result.Name;
            line.MarkerSize = 0;
            line.LineWidth = 2;
        }

        plot.Title("StaticGrad on handwritten digits: training loss");
        plot.XLabel("epoch");
        plot.YLabel("mean training loss");
        plot.ShowLegend(ScottPlot.Alignment.UpperRight);
        plot.SavePng(path, 900, 540);
    }
}
