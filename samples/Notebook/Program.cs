// The linear-layer backprop notebook, with StaticGrad writing the matrix code.
//
//   W = randn(5, 10); X = randn(10, 3); D = W·X
//   dD = randn(5, 3)                      (the gradient arriving at D from above)
//   dW = dD·Xᵀ; dX = Wᵀ·dD
//
// Run: dotnet run --project samples/Notebook [-- seed]
using System;
using Spectre.Console;
using StaticGrad.Samples.Notebook;

if (Console.IsOutputRedirected)
{
    AnsiConsole.Profile.Width = 120; // a log file has no width; keep the 10-column tables on one line
}

int seed = args.Length > 0 && int.TryParse(args[0], out int parsed) ? parsed : 2024;
var random = new Random(seed);

// Typed matrices: a 10×3 X cannot be passed where the 5×10 W is expected; that is a compile error.
var w = new Scores.WMatrix();
var x = new Scores.XMatrix();
var d = new Scores.DMatrix();
var dD = new Scores.DMatrix();
var dW = new Scores.WMatrix();
var dX = new Scores.XMatrix();
Randn(random, w.AsSpan());
Randn(random, x.AsSpan());
Randn(random, dD.AsSpan());

Scores.Forward(w, x, d);             // D = W·X
Scores.Backward(w, x, dD, dW, dX);   // dW = dD·Xᵀ, dX = Wᵀ·dD

AnsiConsole.MarkupLine($"[bold]StaticGrad: backprop through D = W·X[/]  (seed {seed}, [[MatMul<double>({Scores.M}, {Scores.K}, {Scores.N})]])");
Print("W matrix:", w.AsReadOnlySpan(), Scores.WMatrix.Rows, Scores.WMatrix.Columns);
Print("Xi input:", x.AsReadOnlySpan(), Scores.XMatrix.Rows, Scores.XMatrix.Columns);
Print("Dot product of W and Xi (D = W·X):", d.AsReadOnlySpan(), Scores.DMatrix.Rows, Scores.DMatrix.Columns);
Print("Imaginary gradient coming on D backwards (dD):", dD.AsReadOnlySpan(), Scores.DMatrix.Rows, Scores.DMatrix.Columns);
Print("dW = dD·Xᵀ:", dW.AsReadOnlySpan(), Scores.WMatrix.Rows, Scores.WMatrix.Columns);
Print("dX = Wᵀ·dD:", dX.AsReadOnlySpan(), Scores.XMatrix.Rows, Scores.XMatrix.Columns);

// An independent check with plain loops written here, not by the generator.
double dError = 0, dWError = 0, dXError = 0;
for (int i = 0; i < Scores.M; i++)
{
    for (int j = 0; j < Scores.N; j++)
    {
        double sum = 0;
        for (int k = 0; k < Scores.K; k++) sum += w[i, k] * x[k, j];
        dError = Math.Max(dError, Math.Abs(sum - d[i, j]));
    }

    for (int k = 0; k < Scores.K; k++)
    {
        double sum = 0;
        for (int j = 0; j < Scores.N; j++) sum += dD[i, j] * x[k, j];   // (dD·Xᵀ)[i,k]
        dWError = Math.Max(dWError, Math.Abs(sum - dW[i, k]));
    }
}

for (int k = 0; k < Scores.K; k++)
{
    for (int j = 0; j < Scores.N; j++)
    {
        double sum = 0;
        for (int i = 0; i < Scores.M; i++) sum += w[i, k] * dD[i, j];   // (Wᵀ·dD)[k,j]
        dXError = Math.Max(dXError, Math.Abs(sum - dX[k, j]));
    }
}

const double tolerance = 1e-12;
bool ok = dError <= tolerance && dWError <= tolerance && dXError <= tolerance;
AnsiConsole.MarkupLine(ok
    ? $"[green]✓ D matches W·X, dW matches dD·Xᵀ and dX matches Wᵀ·dD, computed independently (max |difference| {Math.Max(dError, Math.Max(dWError, dXError)):G3}).[/]"
    : $"[red]✗ mismatch: |ΔD| = {dError:G3}, |ΔdW| = {dWError:G3}, |ΔdX| = {dXError:G3} (tolerance {tolerance:G1}).[/]");
return ok ? 0 : 1;

static void Randn(Random random, Span<double> values)
{
    // Box–Muller: standard normal samples, like numpy's randn.
    for (int i = 0; i < values.Length; i++)
    {
        double u1 = 1.0 - random.NextDouble();
        double u2 = random.NextDouble();
        values[i] = Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2);
    }
}

static void Print(string title, ReadOnlySpan<double> values, int rows, int columns)
{
    var table = new Table().Border(TableBorder.Rounded).Title($"[bold]{Markup.Escape(title)}[/]");
    table.AddColumn(new TableColumn(string.Empty).RightAligned());
    for (int c = 0; c < columns; c++)
    {
        table.AddColumn(new TableColumn($"[bold]{c}[/]").RightAligned());
    }

    for (int r = 0; r < rows; r++)
    {
        var cells = new string[columns + 1];
        cells[0] = $"[bold]{r}[/]";
        for (int c = 0; c < columns; c++)
        {
            double v = values[(r * columns) + c];
            cells[c + 1] = v < 0 ? $"[red]{v:F4}[/]" : $"{v:F4}";
        }

        table.AddRow(cells);
    }

    AnsiConsole.Write(table);
}
