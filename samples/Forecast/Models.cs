using StaticGrad;

namespace StaticGrad.Samples.Forecast;

/// <summary>
/// Next month's two sea surface temperatures from the last 24 months of both: a two-layer GRU reads the window, a Linear
/// head maps the top layer's state after the last month to the two values (in units of the training part's standard deviations).
/// </summary>
[Model(Loss = Loss.MeanSquaredError)]
public partial class NinoForecaster
{
    /// <summary>Months in a window.</summary>
    public const int Window = 24;

    /// <summary>Variables per month (Niño 3, Niño 3.4).</summary>
    public const int Variables = 2;

    readonly GRU gru = new(Variables, 32, numLayers: 2);
    readonly Linear head = new(32, Variables);

    /// <summary>The forward pass the generator compiles: window [24 × 2] → next month [2].</summary>
    /// <param name="window">The last 24 months, oldest first, both variables normalised.</param>
    /// <returns>The predicted next month.</returns>
    public Tensor Forward([Shape(Window, Variables)] Tensor window)
    {
        var (output, _) = gru.Forward(window);                  // 24 × 32: the top layer's state after every month
        return head.Forward(output.Narrow(0, Window - 1, 1).Flatten());   // its state after the last month → 2 values
    }
}
