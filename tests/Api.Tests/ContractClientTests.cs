using System.Diagnostics;
using Xunit.Abstractions;

namespace VqaApi.Api.Tests;

/// <summary>
/// The contract as a client generator sees it: the live OpenAPI document of the service (on a copy of the bundled model)
/// passes Redocly's recommended lint with no errors; openapi-typescript generates types from it; tests/contract/client.ts,
/// written against those types with openapi-fetch, compiles under strict TypeScript and calls every operation (JSON and
/// multipart, the PNG render, a typed problem) with success; and Swagger UI's multipart forms, driven in the system's
/// Chromium, succeed as they start. Versions are pinned in tests/contract/package-lock.json; npm, Node and Chromium come
/// from the machine (.ci/run installs them).
/// </summary>
public sealed class ContractClientTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("vqaapi-contract-").FullName;
    public void Dispose()
    {
        try { Directory.Delete(_dir, true); } catch (IOException) { }
    }

    private async Task<string> Run(string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file, args) { WorkingDirectory = _dir, RedirectStandardOutput = true, RedirectStandardError = true };
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync();
        var text = (await stdout) + (await stderr);
        Assert.True(p.ExitCode == 0, $"{file} {string.Join(' ', args)} exited {p.ExitCode}:\n{text}");
        return text;
    }

    /// <summary>The service process on a copy of the bundled model, its OpenAPI document saved as openapi.json; its base URL
    /// is passed to <paramref name="body"/>.</summary>
    private async Task WithService(Func<string, Task> body)
    {
        using var model = new BundledModelFactory();
        await using var service = await ServiceProcess.StartAsync("localhost", $"--Model:Path={model.BundledCopy}", $"--Collections:Root={Path.Combine(_dir, "collections")}");
        await File.WriteAllTextAsync(Path.Combine(_dir, "openapi.json"), await service.Http.GetStringAsync("/openapi/v1.json"));
        await body(service.BaseUrl);
    }

    [Fact]
    public async Task A_generated_typescript_client_calls_every_operation()
    {
        var repo = BundledModelFactory.FindRepo();
        foreach (var name in new[] { "package.json", "package-lock.json", "tsconfig.json", "client.ts", "swagger-forms.mjs" })
            File.Copy(Path.Combine(repo, "tests", "contract", name), Path.Combine(_dir, name));
        await Run("npm", "ci", "--no-audit", "--no-fund");
        await WithService(async baseUrl =>
        {
            var lint = await Run("npx", "--no-install", "redocly", "lint", "openapi.json", "--format=summary");
            output.WriteLine(lint);
            Directory.CreateDirectory(Path.Combine(_dir, "generated"));
            await Run("npx", "--no-install", "openapi-typescript", "openapi.json", "-o", "generated/api.d.ts");
            await Run("npx", "--no-install", "tsc", "-p", ".");
            var calls = await Run("node", "dist/client.js", baseUrl, Path.Combine(repo, "docs", "tour", "scene.png"));
            output.WriteLine(calls);
            Assert.Contains("\"a problem, typed\"", calls);
            Assert.True(calls.Split("\",\"").Length >= 28, calls);

            // Swagger UI's multipart forms, in the system's Chromium, executed as they start (a file picked where one is needed).
            var forms = await Run("node", "swagger-forms.mjs", baseUrl, Path.Combine(repo, "docs", "tour", "scene.png"));
            output.WriteLine(forms);
            Assert.Equal(4, forms.Split("\"ok\":true").Length - 1);
        });
    }

    /// <summary>The second ecosystem: Kiota 1.38.0 (a dotnet tool, installed into the test's folder) generates a C# client from
    /// the live document; tests/contract-dotnet, written against it, builds and calls every operation (Kiota sends the JSON
    /// form of operations that also take multipart).</summary>
    [Fact]
    public async Task A_generated_dotnet_client_calls_every_operation()
    {
        var repo = BundledModelFactory.FindRepo();
        foreach (var name in new[] { "ContractClient.csproj", "Program.cs" })
            File.Copy(Path.Combine(repo, "tests", "contract-dotnet", name), Path.Combine(_dir, name));
        await Run("dotnet", "tool", "install", "microsoft.openapi.kiota", "--version", "1.38.0", "--tool-path", Path.Combine(_dir, "tool"));
        await WithService(async baseUrl =>
        {
            await Run(Path.Combine(_dir, "tool", "kiota"), "generate", "-l", "CSharp", "-d", "openapi.json", "-o", "Generated", "-c", "VqaClient",
                "-n", "Contract.Client", "--exclude-backward-compatible", "--log-level", "Warning");
            await Run("dotnet", "build", "ContractClient.csproj", "-c", "Release", "-o", "out", "--nologo", "-v", "q");
            var calls = await Run("dotnet", Path.Combine("out", "ContractClient.dll"), baseUrl, Path.Combine(repo, "docs", "tour", "scene.png"));
            output.WriteLine(calls);
            Assert.Contains("\"a problem, typed\"", calls);
            Assert.True(calls.Split("\",\"").Length >= 24, calls);
        });
    }
}
