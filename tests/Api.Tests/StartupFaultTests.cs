using System.Diagnostics;

namespace VqaApi.Api.Tests;

/// <summary>A service that cannot start says why in one line on stderr and exits 1: no stack trace, no abort.</summary>
public sealed class StartupFaultTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("vqaapi-startup-").FullName;
    public void Dispose() => Directory.Delete(_dir, true);

    private static (int Exit, string Error) Start(params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet", [Path.Combine(AppContext.BaseDirectory, "VqaApi.dll"), "--urls", "http://127.0.0.1:0", "--Encoder:UseCuda=false", .. args])
        { WorkingDirectory = AppContext.BaseDirectory, RedirectStandardOutput = true, RedirectStandardError = true };
        using var p = Process.Start(psi)!;
        var error = p.StandardError.ReadToEndAsync();
        _ = p.StandardOutput.ReadToEndAsync();
        if (!p.WaitForExit(60_000)) { p.Kill(true); throw new TimeoutException("the service started instead of refusing"); }
        return (p.ExitCode, error.Result.Trim());
    }

    [Theory]
    [InlineData("manifest", "error: model: ")]
    [InlineData("encoder", "error: model: the encoder cannot be loaded")]
    [InlineData("missing", "error: model: Model:Path")]
    [InlineData("options", "error: configuration: ")]
    [InlineData("enum", "error: configuration: Failed to convert configuration value 'Sometimes' at 'Auth:Mode'")]
    [InlineData("expansion", "error: configuration: DataAnnotation validation failed for 'CollectionOptions' members: 'HnswExpansionSearch'")]
    [InlineData("license", "error: configuration: DataAnnotation validation failed for 'ApiDocumentOptions' members: 'LicenseUrl'")]
    public void A_fault_is_one_line_and_exit_code_1(string fault, string expected)
    {
        var model = Path.Combine(_dir, "model");
        Directory.CreateDirectory(model);
        var args = new List<string> { $"--Model:Path={model}", "--Model:CreatePlaceholderIfMissing=false" };
        switch (fault)
        {
            case "manifest": File.WriteAllText(Path.Combine(model, "manifest.json"), "{\"id\": 3"); break;
            case "encoder":
                File.Copy(Path.Combine(FindRepo(), "models", "clippo-ti16-gen", "manifest.json"), Path.Combine(model, "manifest.json"));
                File.WriteAllBytes(Path.Combine(model, "encoder.onnx"), new byte[100]);
                break;
            case "missing": args[0] = $"--Model:Path={Path.Combine(_dir, "nothing-here")}"; break;
            case "options": args.Add("--Limits:MaxImagesPerRequest=-5"); break;
            case "enum": args.Add("--Auth:Mode=Sometimes"); break;
            case "expansion": args.Add("--Collections:HnswExpansionSearch=-5"); break;
            case "license": args.Add("--OpenApi:LicenseUrl=file:///etc/passwd"); break;
        }
        var (exit, error) = Start([.. args]);
        Assert.Equal(1, exit);
        var lines = error.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => !l.StartsWith("warn:") && !l.StartsWith("      ")).ToList();
        Assert.True(lines.Count == 1, error);
        Assert.StartsWith(expected, lines[0]);
        Assert.DoesNotContain("   at ", error);
    }

    private static string FindRepo()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "VqaApi.sln"))) return d.FullName;
        throw new DirectoryNotFoundException("the repository root");
    }
}
