using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;

namespace StaticGrad.Samples.Forecast;

/// <summary>A monthly multivariate series read from a CSV file: a header <c>month,name1,name2,…</c>, then <c>YYYY-MM,v1,v2,…</c> per line.</summary>
/// <param name="Months">The first day of each month, in order.</param>
/// <param name="Names">The variables' names, from the header.</param>
/// <param name="Values">Row-major: <c>Values[t * Names.Length + d]</c> is variable <c>d</c> in month <c>t</c>.</param>
public sealed record SeriesData(DateTime[] Months, string[] Names, float[] Values)
{
    /// <summary>Months in the series.</summary>
    public int Length => Months.Length;

    /// <summary>Variables per month.</summary>
    public int Variables => Names.Length;

    /// <summary>Variable <paramref name="d"/> in month <paramref name="t"/>.</summary>
    /// <param name="t">The month's index.</param>
    /// <param name="d">The variable's index.</param>
    /// <returns>The value.</returns>
    public float this[int t, int d] => Values[(t * Variables) + d];

    /// <summary>Reads the file; throws <see cref="InvalidDataException"/> naming the line when it is not a series of consecutive months.</summary>
    /// <param name="path">The CSV file.</param>
    /// <returns>The series.</returns>
    public static SeriesData Load(string path)
    {
        string[] lines = File.ReadAllLines(path).Where(l => l.Length > 0).ToArray();
        if (lines.Length < 2)
            throw new InvalidDataException($"{path}: expected a header and at least one month, found {lines.Length} line(s).");
        string[] header = lines[0].Split(',');
        if (header.Length < 2 || header[0] != "month")
            throw new InvalidDataException($"{path}: the header should be 'month,<variable>,…', but it is '{lines[0]}'.");
        string[] names = header[1..];
        var months = new DateTime[lines.Length - 1];
        var values = new List<float>(months.Length * names.Length);
        for (int i = 1; i < lines.Length; i++)
        {
            string[] cells = lines[i].Split(',');
            if (cells.Length != header.Length)
                throw new InvalidDataException($"{path}, line {i + 1}: expected {header.Length} values, found {cells.Length}.");
            if (!DateTime.TryParseExact(cells[0], "yyyy-MM", CultureInfo.InvariantCulture, DateTimeStyles.None, out months[i - 1]))
                throw new InvalidDataException($"{path}, line {i + 1}: '{cells[0]}' is not a month (YYYY-MM).");
            if (i > 1 && months[i - 1] != months[i - 2].AddMonths(1))
                throw new InvalidDataException($"{path}, line {i + 1}: {cells[0]} does not follow {months[i - 2]:yyyy-MM}; the months must be consecutive.");
            for (int d = 1; d < cells.Length; d++)
            {
                if (!float.TryParse(cells[d], NumberStyles.Float, CultureInfo.InvariantCulture, out float v) || !float.IsFinite(v))
                    throw new InvalidDataException($"{path}, line {i + 1}: {names[d - 1]} is '{cells[d]}', not a number.");
                values.Add(v);
            }
        }

        return new SeriesData(months, names, values.ToArray());
    }
}
