using System;
using System.IO;
using System.Runtime.CompilerServices;
using System.Text;
using DiffPlex.DiffBuilder;
using DiffPlex.DiffBuilder.Model;
using Xunit.Sdk;

namespace StaticGrad.Tests.Infrastructure;

/// <summary>
/// Verify-style snapshots without Verify: <c>Snapshots/{Class}.{Method}#{HintName}.verified.cs</c> is committed;
/// on a mismatch <c>…received.cs</c> is written beside it (git-ignored) and the test fails with a line diff.
/// Set <c>STATICGRAD_ACCEPT_SNAPSHOTS=1</c> to write received text as verified.
/// </summary>
internal static class Snapshot
{
    public const string AcceptVariable = "STATICGRAD_ACCEPT_SNAPSHOTS";

    public static void Match(string actual, string hintName, [CallerFilePath] string callerFile = "", [CallerMemberName] string method = "")
    {
        string className = Path.GetFileNameWithoutExtension(callerFile);
        string directory = Path.Combine(TestProjectDirectory(callerFile), "Snapshots");
        string stem = $"{className}.{method}#{Path.GetFileNameWithoutExtension(hintName)}";
        string verifiedPath = Path.Combine(directory, stem + ".verified.cs");
        string receivedPath = Path.Combine(directory, stem + ".received.cs");
        actual = Normalize(actual);

        bool accept = Environment.GetEnvironmentVariable(AcceptVariable) == "1";
        string? expected = File.Exists(verifiedPath) ? Normalize(File.ReadAllText(verifiedPath)) : null;
        if (expected == actual)
        {
            File.Delete(receivedPath);
            return;
        }

        Directory.CreateDirectory(directory);
        if (accept)
        {
            File.WriteAllText(verifiedPath, actual, new UTF8Encoding(false));
            File.Delete(receivedPath);
            return;
        }

        File.WriteAllText(receivedPath, actual, new UTF8Encoding(false));
        string message = expected is null
            ? $"No snapshot {verifiedPath}. Review {receivedPath}, then rename it to .verified.cs or run with {AcceptVariable}=1."
            : $"Snapshot mismatch for {stem}. Received text written to {receivedPath}; accept with {AcceptVariable}=1.{Environment.NewLine}{Diff(expected, actual)}";
        throw new XunitException(message);
    }

    private static string Normalize(string text) => text.Replace("\r\n", "\n").TrimStart('\uFEFF');

    private static string Diff(string expected, string actual)
    {
        var model = InlineDiffBuilder.Diff(expected, actual);
        var builder = new StringBuilder();
        int shown = 0;
        for (int i = 0; i < model.Lines.Count && shown < 60; i++)
        {
            DiffPiece line = model.Lines[i];
            if (line.Type is ChangeType.Inserted or ChangeType.Deleted)
            {
                builder.Append(line.Type == ChangeType.Inserted ? "+ " : "- ").Append(line.Position).Append(": ").AppendLine(line.Text);
                shown++;
            }
        }

        return builder.ToString();
    }

    private static string TestProjectDirectory(string callerFile)
    {
        for (string? dir = Path.GetDirectoryName(callerFile); dir is not null; dir = Path.GetDirectoryName(dir))
        {
            if (File.Exists(Path.Combine(dir, "StaticGrad.Tests.csproj")))
            {
                return dir;
            }
        }

        throw new InvalidOperationException($"No StaticGrad.Tests.csproj above {callerFile}.");
    }
}
