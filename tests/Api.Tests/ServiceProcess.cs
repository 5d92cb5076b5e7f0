using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace VqaApi.Api.Tests;

/// <summary>The service as users run it: its own process (the built VqaApi.dll) on a free loopback port, on CPU, answering
/// /readyz when returned; killed when disposed.</summary>
public sealed class ServiceProcess : IAsyncDisposable
{
    private ServiceProcess(Process process, string baseUrl)
    {
        Process = process;
        BaseUrl = baseUrl;
        Http = new HttpClient { BaseAddress = new Uri(baseUrl), Timeout = TimeSpan.FromSeconds(120) };
    }

    public Process Process { get; }
    public string BaseUrl { get; }
    public HttpClient Http { get; }

    /// <param name="host">the name in --urls and in <see cref="BaseUrl"/> ("localhost" or "127.0.0.1").</param>
    /// <param name="args">further host arguments (--Model:Path=..., --Collections:Root=...).</param>
    public static async Task<ServiceProcess> StartAsync(string host, params string[] args)
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        var psi = new ProcessStartInfo("dotnet", [Path.Combine(AppContext.BaseDirectory, "VqaApi.dll"), "--urls", $"http://{host}:{port}",
            "--Encoder:UseCuda=false", "--Logging:LogLevel:Default=Warning", .. args])
        { WorkingDirectory = AppContext.BaseDirectory, RedirectStandardOutput = true, RedirectStandardError = true };
        var process = Process.Start(psi)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var service = new ServiceProcess(process, $"http://{host}:{port}");
        for (var deadline = DateTime.UtcNow.AddSeconds(60); DateTime.UtcNow < deadline; await Task.Delay(200))
        {
            try { if ((await service.Http.GetAsync("/readyz")).IsSuccessStatusCode) return service; }
            catch (HttpRequestException) { }
            if (process.HasExited) break;
        }
        await service.DisposeAsync();
        throw new TimeoutException("the service did not become ready");
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        if (!Process.HasExited) Process.Kill(true);
        await Process.WaitForExitAsync();
        Process.Dispose();
    }
}
