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

/// <summary>Addresses a server-side fetch must not reach unless configuration allows it.</summary>
public static class AddressGuard
{
    public static bool IsBlocked(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6) address = address.MapToIPv4();
        if (IPAddress.IsLoopback(address) || address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any) || address.Equals(IPAddress.IPv6None))
            return true;
        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            var b = address.GetAddressBytes();
            return b[0] switch
            {
                0 or 10 or 127 => true,                      // "this" network, private, loopback
                100 => b[1] >= 64 && b[1] < 128,             // carrier-grade NAT 100.64/10
                169 => b[1] == 254,                          // link-local, incl. 169.254.169.254 metadata
                172 => b[1] >= 16 && b[1] < 32,              // private 172.16/12
                192 => (b[1] == 168) || (b[1] == 0 && b[2] == 0), // private 192.168/16, IETF 192.0.0/24
                198 => b[1] == 18 || b[1] == 19,             // benchmarking 198.18/15
                >= 224 => true,                              // multicast, reserved, broadcast
                _ => false,
            };
        }
        if (address.IsIPv6LinkLocal || address.IsIPv6SiteLocal || address.IsIPv6Multicast) return true;
        var v6 = address.GetAddressBytes();
        if ((v6[0] & 0xFE) == 0xFC) return true;             // unique local fc00::/7
        return false;
    }
}
