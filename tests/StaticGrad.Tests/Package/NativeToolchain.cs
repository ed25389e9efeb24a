using System;
using System.Diagnostics;
using System.IO;
using System.Linq;

namespace StaticGrad.Tests.Package;

/// <summary>What Native AOT needs from the machine: a clang to link with, and a way to run the binary it makes.</summary>
public static class NativeToolchain
{
    /// <summary>The name of a clang on PATH (<c>clang</c>, else a versioned <c>clang-N</c>), or <see langword="null"/>.</summary>
    public static string? Linker()
    {
        string[] path = (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries);
        foreach (string name in new[] { "clang" }.Concat(Enumerable.Range(13, 10).Reverse().Select(v => $"clang-{v}")))
        {
            if (path.Any(dir => File.Exists(Path.Combine(dir, name))))
            {
                return name;
            }
        }

        return null;
    }

    public static DotNetCli.Result RunExecutable(string file)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        using var process = Process.Start(start)!;
        string output = process.StandardOutput.ReadToEnd() + process.StandardError.ReadToEnd();
        if (!process.WaitForExit(60_000))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} did not finish in 60 s:\n{output}");
        }

        return new DotNetCli.Result(process.ExitCode, output);
    }
}
