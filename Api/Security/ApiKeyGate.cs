using System.Net;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Options;

namespace VqaApi.Api.Security;

/// <summary>
/// Whether calls need an API key. <c>Auth:Mode</c> Required or Off decide it outright; Auto decides when the server has
/// bound its addresses: keys are required unless every address is loopback. Until then keys are required (fail closed).
/// The decision is logged once at start-up.
/// </summary>
public sealed class ApiKeyGate(IOptions<ApiKeyOptions> options, ApiKeyStore store, IServer server, ILogger<ApiKeyGate> logger)
{
    private volatile bool _required = options.Value.Mode != ApiKeyMode.Off;

    public bool Required => _required;

    /// <summary>True when every address is a loopback one (localhost, 127.0.0.0/8, ::1).</summary>
    public static bool AllLoopback(IReadOnlyCollection<string> addresses) => addresses.All(IsLoopback);

    private static bool IsLoopback(string address)
    {
        if (!Uri.TryCreate(address.Replace("://*", "://0.0.0.0").Replace("://+", "://0.0.0.0"), UriKind.Absolute, out var uri)) return false;
        if (uri.Host.Equals("localhost", StringComparison.OrdinalIgnoreCase)) return true;
        return IPAddress.TryParse(uri.Host.Trim('[', ']'), out var ip) && IPAddress.IsLoopback(ip);
    }

    /// <summary>Called once the server listens (from <see cref="IHostApplicationLifetime.ApplicationStarted"/>).</summary>
    public void Decide()
    {
        var mode = options.Value.Mode;
        var addresses = server.Features.Get<IServerAddressesFeature>()?.Addresses.ToList() ?? [];
        string where = addresses.Count == 0 ? "in process, no network address" : string.Join(", ", addresses);
        _required = mode switch
        {
            ApiKeyMode.Required => true,
            ApiKeyMode.Off => false,
            _ => !AllLoopback(addresses),
        };
        if (_required)
        {
            int live;
            try { live = store.LiveCount; }
            catch (ApiKeyStoreException e) { logger.LogError("API keys are required, but {Problem}; every call that needs a key is refused", e.Message); return; }
            logger.LogInformation("API keys: required (Auth:Mode {Mode}; listening on {Addresses}); {Live} live key(s) in {File}", mode, where, live, store.Path);
            if (live == 0) logger.LogWarning("API keys are required but none exist: create one with `dotnet run --project Cli -- keys create --name NAME --scope admin`");
        }
        else if (mode == ApiKeyMode.Off)
            logger.LogWarning("API keys: off (Auth:Mode Off; listening on {Addresses}): anyone who reaches the service may change and delete its data", where);
        else
            logger.LogInformation("API keys: not required, the service listens on loopback only ({Addresses}); set Auth:Mode=Required to require them here too", where);
    }
}
