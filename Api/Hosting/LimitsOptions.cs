using System.ComponentModel.DataAnnotations;
using VqaApi.Rendering;

namespace VqaApi.Api.Hosting;

/// <summary>Request limits (section "Limits"); every one is configurable.</summary>
public sealed class LimitsOptions
{
    public const string Section = "Limits";

    [Range(1024, 1L << 32)] public long MaxRequestBodyBytes { get; set; } = 64L * 1024 * 1024;
    [Range(1, 1024)] public int MaxImagesPerRequest { get; set; } = 16;
    [Range(1, 4096)] public int MaxTextsPerRequest { get; set; } = 64;
    /// <summary>UTF-16 characters per text. The official renderer draws at most 768 code points; longer texts are cut.</summary>
    [Range(1, 10_000_000)] public int MaxCharactersPerText { get; set; } = 8192;
    [Range(64, 1L << 31)] public long MaxImageBytes { get; set; } = 20L * 1024 * 1024;
    /// <summary>Refused from the header, before decoding (decompression bombs).</summary>
    [Range(1, 1L << 34)] public long MaxImagePixels { get; set; } = 40_000_000;
    [Range(1, 1 << 20)] public int MaxImageSide { get; set; } = 16_384;

    public ImageLimits ImageLimits => new() { MaxEncodedBytes = MaxImageBytes, MaxPixels = MaxImagePixels, MaxSide = MaxImageSide };
}

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
