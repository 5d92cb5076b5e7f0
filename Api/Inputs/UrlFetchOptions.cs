using System.ComponentModel.DataAnnotations;

namespace VqaApi.Api.Inputs;

/// <summary>Fetching images by URL (section "UrlFetch").</summary>
public sealed class UrlFetchOptions
{
    public const string Section = "UrlFetch";

    /// <summary>Allow loopback, private, link-local and cloud-metadata addresses (off: they are refused).</summary>
    public bool AllowPrivateNetworks { get; set; }
    /// <summary>Per attempt.</summary>
    [Range(0.1, 600)] public double TimeoutSeconds { get; set; } = 10;
    [Range(0, 20)] public int MaxRedirects { get; set; } = 3;
    /// <summary>Retries of transient failures (5xx, 408, 429, connection errors, attempt timeouts); 0 = none.</summary>
    [Range(0, 10)] public int Retries { get; set; } = 2;
    [Range(0, 60_000)] public int RetryDelayMilliseconds { get; set; } = 200;

    /// <summary>All attempts and their back-off together.</summary>
    public TimeSpan TotalTimeout => TimeSpan.FromSeconds(TimeoutSeconds * (Retries + 1) + RetryDelayMilliseconds / 1000.0 * (1 << Retries) + 1);
}
