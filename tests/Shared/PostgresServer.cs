using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace VqaApi.Testing;

/// <summary>
/// The PostgreSQL (with pgvector) the PostgreSQL backend's tests run against. When the environment variable
/// <c>VQA_TEST_POSTGRES</c> holds an Npgsql connection string, that server (a real PostgreSQL with pgvector installed); otherwise
/// PGlite, PostgreSQL 18 compiled to WebAssembly, with pgvector 0.8, served on a free loopback port over the ordinary wire
/// protocol by <c>pglite-server</c> (versions pinned in tests/postgres/package-lock.json, installed there with npm on first use;
/// Node and npm come from the machine). One server per test process, started on first use and stopped when the process ends;
/// every test gets its own schema (<see cref="NewSchema"/>), so tests never see each other's tables.
/// PGlite is one PostgreSQL session behind the socket: statements of different connections must not interleave, so its
/// connection strings allow one connection per client process (<c>Maximum Pool Size=1</c>), and the tests that use it run one
/// class at a time (the xUnit collection <see cref="Collection"/>).
/// </summary>
public sealed class PostgresServer
{
    public const string Collection = "PostgreSQL";
    public const string Variable = "VQA_TEST_POSTGRES";

    private static readonly Lazy<Task<PostgresServer>> SharedServer = new(() => StartAsync());

    /// <summary>The process's server, started on first use.</summary>
    public static Task<PostgresServer> Shared => SharedServer.Value;

    private readonly string? _external;
    private Process? _process;
    private readonly int _port;
    private readonly string? _data;

    private PostgresServer(string? external, int port, string? data)
    {
        _external = external;
        _port = port;
        _data = data;
    }

    /// <summary>A PGlite server (it can be stopped and started again by the tests), rather than an external one.</summary>
    public bool IsPglite => _external is null;

    /// <summary>The connection string a service or the CLI gets (PGlite: one connection per process; see the class comment).</summary>
    public string ConnectionString => _external ??
        $"Host=127.0.0.1;Port={_port};Username=postgres;Password=postgres;Database=postgres;SSL Mode=Disable;Maximum Pool Size=1";

    public int Port => _port;

    /// <summary>A schema name no other test uses.</summary>
    public static string NewSchema() => "t_" + Guid.NewGuid().ToString("N")[..16];

    /// <summary>Settings that put a service's collections into this database, in a schema of their own.</summary>
    public Dictionary<string, string?> Settings(string schema) => new()
    {
        ["Collections:Backend"] = "Postgres",
        ["Collections:Postgres:ConnectionString"] = ConnectionString,
        ["Collections:Postgres:Schema"] = schema,
        // One connection shared by a process's requests: a request may wait for it a while under load.
        ["Collections:Postgres:ConnectTimeoutSeconds"] = "60",
    };

    private static async Task<PostgresServer> StartAsync()
    {
        if (Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } external) return new PostgresServer(external, 0, null);
        return await StartPgliteAsync(withPgvector: true);
    }

    /// <summary>A PGlite server of its own without the pgvector extension (a database that lacks it); stop it with
    /// <see cref="Stop"/>.</summary>
    public static Task<PostgresServer> StartWithoutPgvectorAsync() => StartPgliteAsync(withPgvector: false);

    private bool _withPgvector = true;

    private static async Task<PostgresServer> StartPgliteAsync(bool withPgvector)
    {
        var folder = Path.Combine(FindRepo(), "tests", "postgres");
        await InstallAsync(folder);
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        var server = new PostgresServer(null, port, Directory.CreateTempSubdirectory("vqaapi-pglite-").FullName) { _withPgvector = withPgvector };
        await server.StartProcessAsync();
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            server.Kill();
            try { Directory.Delete(server._data!, true); } catch (IOException) { }
        };
        return server;
    }

    /// <summary>Starts pglite-server on this server's port and data folder and waits until it accepts connections.</summary>
    private async Task StartProcessAsync()
    {
        var folder = Path.Combine(FindRepo(), "tests", "postgres");
        var psi = new ProcessStartInfo("node", [Path.Combine(folder, "node_modules", "@electric-sql", "pglite-socket", "dist", "scripts", "server.js"),
            $"--db={_data}", $"--port={_port}", "--host=127.0.0.1", "--max-connections=64"])
        { WorkingDirectory = folder, RedirectStandardOutput = true, RedirectStandardError = true };
        if (_withPgvector) psi.ArgumentList.Add("--extensions=@electric-sql/pglite-pgvector:vector");
        var process = Process.Start(psi)!;
        var log = new System.Text.StringBuilder();
        process.OutputDataReceived += (_, e) => { lock (log) log.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { lock (log) log.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;
        for (var deadline = DateTime.UtcNow.AddSeconds(90); DateTime.UtcNow < deadline; await Task.Delay(100))
        {
            if (process.HasExited) break;
            lock (log) if (log.ToString().Contains("listening", StringComparison.OrdinalIgnoreCase)) return;
        }
        Kill();
        lock (log) throw new InvalidOperationException($"pglite-server did not start on port {_port}:\n{log}");
    }

    /// <summary>Stops the database (PGlite only): clients see connections refused until <see cref="StartAgainAsync"/>.</summary>
    public void Stop()
    {
        if (!IsPglite) throw new InvalidOperationException($"an external PostgreSQL ({Variable}) is not stopped by the tests");
        if (_process is { HasExited: false } p)
        {
            // As an administrator stops a server: SIGTERM, and it closes its data files.
            using (var term = Process.Start("kill", ["-TERM", p.Id.ToString()])) term.WaitForExit();
            p.WaitForExit(15_000);
        }
        Kill();
    }

    /// <summary>Stops the database and removes its data (a server of a test's own).</summary>
    public void StopAndRemove()
    {
        Stop();
        try { Directory.Delete(_data!, true); } catch (IOException) { }
    }

    /// <summary>Starts the stopped database again on the same port, with the same data.</summary>
    public Task StartAgainAsync() => StartProcessAsync();

    private void Kill()
    {
        if (_process is { HasExited: false } p)
        {
            p.Kill(true);
            p.WaitForExit();
        }
        _process?.Dispose();
        _process = null;
    }

    /// <summary>npm ci into tests/postgres once (a file lock keeps two test processes from installing at once).</summary>
    private static async Task InstallAsync(string folder)
    {
        var marker = Path.Combine(folder, "node_modules", "@electric-sql", "pglite-pgvector", "package.json");
        if (File.Exists(marker)) return;
        await using var gate = await LockAsync(Path.Combine(folder, ".install.lock"));
        if (File.Exists(marker)) return;
        var psi = new ProcessStartInfo("npm", ["ci", "--no-audit", "--no-fund"]) { WorkingDirectory = folder, RedirectStandardOutput = true, RedirectStandardError = true };
        using var npm = Process.Start(psi)!;
        var output = npm.StandardOutput.ReadToEndAsync();
        var errors = npm.StandardError.ReadToEndAsync();
        await npm.WaitForExitAsync();
        if (npm.ExitCode != 0) throw new InvalidOperationException($"npm ci in {folder} failed:\n{await output}{await errors}");
    }

    private static async Task<FileStream> LockAsync(string path)
    {
        for (var deadline = DateTime.UtcNow.AddMinutes(5); ; await Task.Delay(200))
        {
            try { return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.DeleteOnClose); }
            catch (IOException) when (DateTime.UtcNow < deadline) { }
        }
    }

    public static string FindRepo()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "VqaApi.sln"))) return dir.FullName;
        throw new DirectoryNotFoundException("VqaApi.sln not found above " + AppContext.BaseDirectory);
    }
}
