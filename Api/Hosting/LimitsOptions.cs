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
