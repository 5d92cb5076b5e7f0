using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Options;
using VqaApi.Api.Hosting;

namespace VqaApi.Api.Inputs;

/// <summary>
/// Fetches an image by URL: http(s) only, a size cap enforced while streaming, an image content type,
/// redirects followed by hand and re-checked, and an SSRF guard applied at connect time (so DNS tricks
/// cannot slip past it) that refuses loopback, private, link-local and metadata addresses.
/// </summary>
public sealed class ImageFetcher(HttpClient http, IOptions<UrlFetchOptions> options, IOptions<LimitsOptions> limits)
{
    public const string ClientName = "image-fetch";

    public async Task<byte[]> FetchAsync(string url, string field, CancellationToken ct)
    {
        var opts = options.Value;
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri))
            throw ApiProblem.BadRequest($"{field} is not an absolute URL", "invalid_url");
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(opts.TotalTimeout);
        try
        {
            for (int redirects = 0; ; redirects++)
            {
                if (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps)
                    throw ApiProblem.BadRequest($"{field}: only http and https URLs are fetched, not '{uri.Scheme}'", "invalid_url");
                using var request = new HttpRequestMessage(HttpMethod.Get, uri);
                request.Headers.Accept.ParseAdd("image/*");
                using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
                if ((int)response.StatusCode is >= 300 and < 400 && response.Headers.Location is { } location)
                {
                    if (redirects >= opts.MaxRedirects)
                        throw ApiProblem.BadRequest($"{field}: more than {opts.MaxRedirects} redirects", "too_many_redirects");
                    uri = new Uri(uri, location);
                    continue;
                }
                if (!response.IsSuccessStatusCode)
                    throw new ApiProblem(422, "Image URL failed", $"{field}: the server answered {(int)response.StatusCode} {response.ReasonPhrase}", "url_failed");
                var type = response.Content.Headers.ContentType?.MediaType;
                if (type is not null && !type.StartsWith("image/", StringComparison.OrdinalIgnoreCase) && type != "application/octet-stream")
                    throw ApiProblem.UnsupportedMediaType($"{field}: the URL returned '{type}', not an image");
                var max = limits.Value.MaxImageBytes;
                await using var body = await response.Content.ReadAsStreamAsync(timeout.Token);
                try { return await RequestBody.ReadAllAsync(body, response.Content.Headers.ContentLength, max, timeout.Token); }
                catch (ApiProblem p) when (p.Status == 413)
                {
                    throw ApiProblem.TooLarge($"{field}: the image at the URL is larger than {max:N0} bytes (Limits:MaxImageBytes)", "too_large");
                }
            }
        }
        catch (Exception e) when (!ct.IsCancellationRequested && e is OperationCanceledException or Polly.Timeout.TimeoutRejectedException)
        {
            throw new ApiProblem(504, "Image URL timed out", $"{field}: no complete answer within {opts.TimeoutSeconds} s per attempt ({opts.Retries} retries)", "url_timeout");
        }
        catch (Polly.CircuitBreaker.BrokenCircuitException)
        {
            throw new ApiProblem(503, "Image host unavailable", $"{field}: this host has been failing; retry later", "url_host_failing");
        }
        catch (HttpRequestException e) when (e.InnerException is BlockedAddressException blocked)
        {
            throw new ApiProblem(403, "URL refused", $"{field}: {blocked.Message}", "blocked_address");
        }
        catch (HttpRequestException e)
        {
            throw new ApiProblem(422, "Image URL failed", $"{field}: {e.Message}", "url_failed");
        }
    }

    /// <summary>The handler behind the named client: no automatic redirects, and the address guard on every connection.</summary>
    public static SocketsHttpHandler CreateHandler(IOptions<UrlFetchOptions> options) => new()
    {
        AllowAutoRedirect = false,
        UseProxy = false,
        PooledConnectionLifetime = TimeSpan.FromMinutes(2),
        ConnectCallback = async (context, ct) =>
        {
            var host = context.DnsEndPoint.Host;
            var addresses = IPAddress.TryParse(host, out var literal) ? [literal] : await Dns.GetHostAddressesAsync(host, ct);
            if (addresses.Length == 0) throw new HttpRequestException($"'{host}' does not resolve");
            if (!options.Value.AllowPrivateNetworks)
                foreach (var address in addresses)
                    if (AddressGuard.IsBlocked(address))
                        throw new BlockedAddressException($"'{host}' resolves to {address}, a loopback, private, link-local or metadata address; such URLs are refused (UrlFetch:AllowPrivateNetworks)");
            var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(addresses, context.DnsEndPoint.Port, ct);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        },
    };
}

public sealed class BlockedAddressException(string message) : Exception(message);

/// <summary>
/// Addresses a server-side fetch must not reach unless configuration allows it: loopback, private, link-local, carrier-grade
/// NAT, multicast, reserved and documentation ranges, the host's own addresses, and IPv6 forms that carry an IPv4 address
/// (IPv4-mapped, IPv4-compatible, NAT64, 6to4, Teredo) whenever the IPv4 address inside is one of those.
/// </summary>
public static class AddressGuard
{
    public static bool IsBlocked(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6) address = address.MapToIPv4();
        if (IPAddress.IsLoopback(address) || address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any) || address.Equals(IPAddress.IPv6None))
            return true;
        if (OwnAddresses().Contains(address)) return true;
        if (address.AddressFamily == AddressFamily.InterNetwork) return IsBlockedV4(address.GetAddressBytes());
        if (address.IsIPv6LinkLocal || address.IsIPv6SiteLocal || address.IsIPv6Multicast) return true;
        var v6 = address.GetAddressBytes();
        if ((v6[0] & 0xFE) == 0xFC) return true;                                   // unique local fc00::/7
        if (v6.AsSpan(0, 12).IndexOfAnyExcept((byte)0) < 0) return true;          // IPv4-compatible ::a.b.c.d (deprecated; and :: , ::1)
        if (Starts(v6, 0x01, 0x00, 0, 0, 0, 0, 0, 0)) return true;                // discard-only 100::/64
        if (Starts(v6, 0x20, 0x01, 0x0d, 0xb8)) return true;                      // documentation 2001:db8::/32
        if (Starts(v6, 0x00, 0x64, 0xff, 0x9b, 0x00, 0x01)) return true;          // local-use NAT64 64:ff9b:1::/48
        if (Starts(v6, 0x00, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0))           // NAT64 64:ff9b::/96: the IPv4 address in the last 32 bits
            return IsBlockedV4(v6[12..16]);
        if (Starts(v6, 0x20, 0x02))                                               // 6to4 2002::/16: the IPv4 address in bits 16-47
            return IsBlockedV4(v6[2..6]);
        if (Starts(v6, 0x20, 0x01, 0x00, 0x00))                                   // Teredo 2001::/32: server in bits 32-63, client (inverted) in the last 32
            return IsBlockedV4(v6[4..8]) || IsBlockedV4(v6[12..16].Select(b => (byte)~b).ToArray());
        return false;
    }

    private static bool Starts(byte[] bytes, params byte[] prefix) => bytes.AsSpan().StartsWith(prefix);

    private static bool IsBlockedV4(byte[] b)
    {
        if (OwnAddresses().Contains(new IPAddress(b))) return true;
        return b[0] switch
        {
            0 or 10 or 127 => true,                                   // "this" network, private, loopback
            100 => b[1] >= 64 && b[1] < 128,                          // carrier-grade NAT 100.64/10
            169 => b[1] == 254,                                       // link-local, incl. 169.254.169.254 metadata
            172 => b[1] >= 16 && b[1] < 32,                           // private 172.16/12
            192 => b[1] == 168 || (b[1] == 0 && (b[2] == 0 || b[2] == 2)) || (b[1] == 88 && b[2] == 99), // private, IETF, TEST-NET-1, 6to4 relay
            198 => b[1] == 18 || b[1] == 19 || (b[1] == 51 && b[2] == 100), // benchmarking 198.18/15, TEST-NET-2
            203 => b[1] == 0 && b[2] == 113,                          // TEST-NET-3
            >= 224 => true,                                           // multicast, reserved, broadcast
            _ => false,
        };
    }

    private static (DateTime At, HashSet<IPAddress> Addresses) _own = (DateTime.MinValue, []);

    /// <summary>The addresses of this machine's interfaces (a public address of the host reaches its own services), read
    /// again at most once a minute.</summary>
    private static HashSet<IPAddress> OwnAddresses()
    {
        var own = _own;
        if (DateTime.UtcNow - own.At < TimeSpan.FromMinutes(1)) return own.Addresses;
        var addresses = new HashSet<IPAddress>();
        try
        {
            foreach (var nic in System.Net.NetworkInformation.NetworkInterface.GetAllNetworkInterfaces())
                foreach (var a in nic.GetIPProperties().UnicastAddresses)
                    addresses.Add(a.Address.IsIPv4MappedToIPv6 ? a.Address.MapToIPv4() : a.Address);
        }
        catch (System.Net.NetworkInformation.NetworkInformationException) { }
        _own = (DateTime.UtcNow, addresses);
        return addresses;
    }
}
