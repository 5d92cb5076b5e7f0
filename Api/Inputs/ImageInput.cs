using System.Buffers.Text;
using System.ComponentModel;
using Microsoft.Extensions.Options;
using VqaApi.Api.Hosting;
using VqaApi.Rendering;

namespace VqaApi.Api.Inputs;

/// <summary>An image in a JSON request: base64 bytes (a data: URL is accepted too) or an http(s) URL.</summary>
public sealed record ImageInput
{
    [Description("The encoded image (JPEG, PNG, WebP, GIF or BMP) as base64, optionally as a data: URL.")]
    public string? Data { get; init; }
    [Description("An http or https URL to fetch the image from. Private and loopback addresses are refused.")]
    public string? Url { get; init; }
}

/// <summary>Turns request images (base64, URL or upload) into decoded pixels, within the configured limits.</summary>
public sealed class ImageInputs(ImageFetcher fetcher, IOptions<LimitsOptions> limits)
{
    public async Task<DecodedImage> DecodeAsync(ImageInput input, string field, CancellationToken ct) =>
        Decode(await FetchBytesAsync(input, field, ct), field);

    /// <summary>The encoded bytes of the image (base64 decoded, or fetched), not yet decoded.</summary>
    public async Task<byte[]> FetchBytesAsync(ImageInput input, string field, CancellationToken ct) =>
        (input.Data, input.Url) switch
        {
            ({ } data, null) => FromBase64(data, field),
            (null, { } url) => await fetcher.FetchAsync(url, field + ".url", ct),
            (null, null) => throw ApiProblem.BadRequest($"{field} needs 'data' (base64) or 'url'", "missing_image"),
            _ => throw ApiProblem.BadRequest($"{field} has both 'data' and 'url'; send one", "ambiguous_image"),
        };

    public DecodedImage Decode(byte[] bytes, string field)
    {
        try { return ImageDecoder.Decode(bytes, limits.Value.ImageLimits); }
        catch (ImageDecodeException e) { throw new ImageDecodeException(e.Code, $"{field}: {e.Message}"); }
    }

    private byte[] FromBase64(string data, string field)
    {
        var text = data.AsSpan().Trim();
        if (text.StartsWith("data:", StringComparison.OrdinalIgnoreCase))
        {
            int comma = text.IndexOf(',');
            if (comma < 0 || !text[..comma].EndsWith(";base64", StringComparison.OrdinalIgnoreCase))
                throw ApiProblem.BadRequest($"{field}.data is a data: URL without ';base64,'", "invalid_base64");
            text = text[(comma + 1)..];
        }
        if (text.IsEmpty) throw ApiProblem.BadRequest($"{field}.data is empty", "empty_image");
        long maxEncoded = limits.Value.MaxImageBytes / 3 * 4 + 4;
        if (text.Length > maxEncoded) throw ApiProblem.TooLarge($"{field}.data is larger than {limits.Value.MaxImageBytes:N0} bytes once decoded (Limits:MaxImageBytes)");
        var bytes = new byte[Base64.GetMaxDecodedFromUtf8Length(text.Length)];
        if (!Convert.TryFromBase64Chars(text, bytes, out int written))
            throw ApiProblem.BadRequest($"{field}.data is not valid base64", "invalid_base64");
        return bytes[..written];
    }
}
