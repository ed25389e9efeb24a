using StaticGrad;
using static StaticGrad.Functional;

namespace StaticGrad.Tests.Models;

// The C# twins of the nn.Modules in Golden/make_recurrent_golden.py (same field names, so the state_dict files load as
// they are). Each returns what PyTorch's module returns, stacked along the steps: the output at every step, then the final
// states, so that one output gradient reaches every part of the tuple.

/// <summary>One GRU layer without biases: (output, hₙ) stacked, 6 + 1 rows of 5.</summary>
[Model(Loss = Loss.MeanSquaredError)]
public partial class GruOneLayer
{
    readonly GRU gru = new(3, 5, bias: false);

    public Tensor Forward([Shape(6, 3)] Tensor x)
    {
        var (output, hidden) = gru.Forward(x);
        return Concat(0, output, hidden);   // 7×5
    }
}

/// <summary>Two GRU layers with biases: (output, hₙ) stacked, 6 + 2 rows of 5.</summary>
[Model(Loss = Loss.MeanSquaredError)]
public partial class GruTwoLayers
{
    readonly GRU gru = new(3, 5, numLayers: 2);

    public Tensor Forward([Shape(6, 3)] Tensor x)
    {
        var (output, hidden) = gru.Forward(x);
        return Concat(0, output, hidden);   // 8×5
    }
}

/// <summary>One LSTM layer: (output, (hₙ, cₙ)) stacked, 6 + 1 + 1 rows of 5.</summary>
[Model(Loss = Loss.MeanSquaredError)]
public partial class LstmOneLayer
{
    readonly LSTM lstm = new(3, 5);

    public Tensor Forward([Shape(6, 3)] Tensor x)
    {
        var (output, (hidden, cell)) = lstm.Forward(x);
        return Concat(0, output, hidden, cell);   // 8×5
    }
}

/// <summary>Two LSTM layers without biases: (output, (hₙ, cₙ)) stacked, 6 + 2 + 2 rows of 5.</summary>
[Model(Loss = Loss.MeanSquaredError)]
public partial class LstmTwoLayers
{
    readonly LSTM lstm = new(3, 5, numLayers: 2, bias: false);

    public Tensor Forward([Shape(6, 3)] Tensor x)
    {
        var (output, (hidden, cell)) = lstm.Forward(x);
        return Concat(0, output, hidden, cell);   // 10×5
    }
}

/// <summary>A forecaster as the sample has it: a GRU over the window, its last state through a Linear head.</summary>
[Model(Loss = Loss.MeanSquaredError)]
public partial class GruForecaster
{
    readonly GRU gru = new(2, 8, numLayers: 2);
    readonly Linear head = new(8, 2);

    public Tensor Forward([Shape(10, 2)] Tensor window)
    {
        var result = gru.Forward(window);
        Tensor last = result.Output.Narrow(0, 9, 1).Flatten();   // the top layer's state after the last step
        return head.Forward(last + result.Hidden.Narrow(0, 1, 1).Flatten() - last);   // hₙ of the top layer is that same state
    }
}

/// <summary>An LSTM over a Linear, so that the recurrent layer's input gradient is needed.</summary>
[Model(Loss = Loss.MeanSquaredError)]
public partial class LstmOverLinear
{
    readonly Linear embed = new(2, 3);
    readonly LSTM lstm = new(3, 4, numLayers: 2);

    public Tensor Forward([Shape(5, 2)] Tensor x)
    {
        var (output, (hidden, cell)) = lstm.Forward(Tanh(embed.Forward(x)));
        return Concat(0, output, hidden, cell);
    }
}

/// <summary>Two GRU layers of 20: the kernels' vector lanes (8 floats) and a tail of 4.</summary>
[Model(Loss = Loss.MeanSquaredError)]
public partial class GruWide
{
    readonly GRU gru = new(3, 20, numLayers: 2);

    public Tensor Forward([Shape(6, 3)] Tensor x)
    {
        var (output, hidden) = gru.Forward(x);
        return Concat(0, output, hidden);   // 8×20
    }
}

/// <summary>Two LSTM layers of 20: the kernels' vector lanes and a tail.</summary>
[Model(Loss = Loss.MeanSquaredError)]
public partial class LstmWide
{
    readonly LSTM lstm = new(3, 20, numLayers: 2);

    public Tensor Forward([Shape(6, 3)] Tensor x)
    {
        var (output, (hidden, cell)) = lstm.Forward(x);
        return Concat(0, output, hidden, cell);   // 10×20
    }
}
