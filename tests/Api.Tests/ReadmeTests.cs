using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using Xunit.Abstractions;

namespace VqaApi.Api.Tests;

/// <summary>
/// The README's curl commands, extracted from its code blocks and run as shown, in order, from a folder that holds the
/// repository's docs (as its root does), against the service on a copy of the bundled model: every one succeeds (curl
/// --fail-with-body). Answers may differ; statuses may not.
/// </summary>
public sealed class ReadmeTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("vqaapi-readme-").FullName;
    public void Dispose()
    {
        try { Directory.Delete(_dir, true); } catch (IOException) { }
    }

    /// <summary>The curl commands of the README's sh blocks; a command runs on while a line ends in '\' or a quote is open.</summary>
    public static List<string> CurlCommands(string readme)
    {
        var commands = new List<string>();
        foreach (Match block in Regex.Matches(readme, "```sh\n(.*?)```", RegexOptions.Singleline))
        {
            var current = new StringBuilder();
            foreach (var line in block.Groups[1].Value.Split('\n'))
            {
                if (current.Length == 0 && !line.StartsWith("curl ")) continue;
                current.Append(line).Append('\n');
                var text = current.ToString();
                if (line.EndsWith('\\') || text.Count(c => c == '\'') % 2 == 1) continue;
                commands.Add(text.Trim());
                current.Clear();
            }
        }
        return commands;
    }

    [Fact]
    public async Task Every_curl_command_of_the_readme_runs_as_shown()
    {
        var repo = BundledModelFactory.FindRepo();
        var commands = CurlCommands(await File.ReadAllTextAsync(Path.Combine(repo, "README.md")));
        Assert.True(commands.Count >= 15, $"{commands.Count} curl commands found");
        // The commands name files as from the repository's root: docs/ is there (a link), and what they write lands here.
        File.CreateSymbolicLink(Path.Combine(_dir, "docs"), Path.Combine(repo, "docs"));

        using var model = new BundledModelFactory(); // a copy of the bundled model: the README fits a head into it
        await using var service = await ServiceProcess.StartAsync("localhost", $"--Model:Path={model.BundledCopy}", $"--Collections:Root={Path.Combine(_dir, "collections")}");
        int port = new Uri(service.BaseUrl).Port;
        var failures = new List<string>();
        foreach (var command in commands)
        {
            var run = "curl --fail-with-body " + command["curl ".Length..].Replace("localhost:5000", $"localhost:{port}");
            var bash = new ProcessStartInfo("bash", ["-c", run]) { WorkingDirectory = _dir, RedirectStandardOutput = true, RedirectStandardError = true };
            using var p = Process.Start(bash)!;
            var stdout = p.StandardOutput.ReadToEndAsync();
            var stderr = p.StandardError.ReadToEndAsync();
            await p.WaitForExitAsync();
            var shown = command.Split('\n')[0];
            output.WriteLine($"exit {p.ExitCode}: {shown[..Math.Min(110, shown.Length)]}");
            if (p.ExitCode != 0) failures.Add($"{shown}\n  exit {p.ExitCode}: {(await stdout)[..Math.Min(300, (await stdout).Length)]} {await stderr}");
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures));
        Assert.True(new FileInfo(Path.Combine(_dir, "canvas.png")).Length > 0);
    }
}
