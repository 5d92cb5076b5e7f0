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
    /// <summary>Bytes one request may hold in decoded images at once (each image counted at its decode's peak, from its header,
    /// before decoding): a request over it is refused with 413 before the image is decoded.</summary>
    [Range(1 << 20, 1L << 40)] public long MaxDecodedBytesPerRequest { get; set; } = 300L * 1024 * 1024;
    /// <summary>Bytes of decoded images all requests together may hold; a decode waits for room (see DecodeWaitSeconds).</summary>
    [Range(1 << 20, 1L << 42)] public long MaxDecodedBytesInFlight { get; set; } = 1024L * 1024 * 1024;
    /// <summary>Once released decoded images of at least <see cref="CollectImagesOfAtLeastBytes"/> add up to this, a full
    /// collection returns their memory before the next decode (server GC otherwise lets large released images pile up).</summary>
    [Range(1 << 20, 1L << 42)] public long CollectAfterReleasedBytes { get; set; } = 64L * 1024 * 1024;
    /// <summary>Only released images whose pixels take at least this many bytes count toward
    /// <see cref="CollectAfterReleasedBytes"/>; smaller ones are left to the runtime's own collections. Counting every
    /// 224 x 224 picture forced a full collection every ~440 VQA requests and cost 13% of the service's throughput.</summary>
    [Range(0, 1L << 40)] public long CollectImagesOfAtLeastBytes { get; set; } = 1024 * 1024;
    /// <summary>How long a decode waits for room before the request is answered 503 with Retry-After.</summary>
    [Range(0, 600)] public double DecodeWaitSeconds { get; set; } = 10;
    /// <summary>The whole of a request (body, URL fetches, decoding, encoding) must finish within this, or it is stopped
    /// and answered 504.</summary>
    [Range(1, 86_400)] public double RequestTimeoutSeconds { get; set; } = 60;
    /// <summary>The same for requests that may do much more work: fitting a head, writing and searching collections.</summary>
    [Range(1, 86_400)] public double LongRequestTimeoutSeconds { get; set; } = 600;

    public ImageLimits ImageLimits => new() { MaxEncodedBytes = MaxImageBytes, MaxPixels = MaxImagePixels, MaxSide = MaxImageSide };
}
