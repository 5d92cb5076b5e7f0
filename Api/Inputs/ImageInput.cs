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

/// <summary>
/// Turns one request's images (base64, URL or upload) into decoded pixels, within the configured limits. One per request
/// (scoped): it admits each decode by the bytes its header says it will hold, against the request's own budget
/// (<c>Limits:MaxDecodedBytesPerRequest</c>, 413 before decoding) and the process's (<see cref="DecodeGate"/>), and gives the
/// bytes back when an image is released or the request ends.
/// </summary>
public sealed class ImageInputs(ImageFetcher fetcher, IOptions<LimitsOptions> limits, DecodeGate gate) : IDisposable
{
    private readonly Lock _lock = new();
    private readonly Dictionary<DecodedImage, long> _held = new(ReferenceEqualityComparer.Instance);
    private long _heldBytes;


    /// <summary>The encoded bytes of the image (base64 decoded, or fetched), not yet decoded.</summary>
    public async Task<byte[]> FetchBytesAsync(ImageInput input, string field, CancellationToken ct) =>
        (input.Data, input.Url) switch
        {
            ({ } data, null) => FromBase64(data, field),
            (null, { } url) => await fetcher.FetchAsync(url, field + ".url", ct),
            (null, null) => throw ApiProblem.BadRequest($"{field} needs 'data' (base64) or 'url'", "missing_image"),
            _ => throw ApiProblem.BadRequest($"{field} has both 'data' and 'url'; send one", "ambiguous_image"),
        };

    /// <summary>Decodes after admitting the decode's peak bytes (from the header) against the request's and the process's
    /// budgets; the result's bytes stay counted until <see cref="Release"/> or the end of the request.</summary>
    public async Task<DecodedImage> DecodeAsync(byte[] bytes, string field, CancellationToken ct)
    {
        var l = limits.Value;
        ImageHeader header;
        try { header = ImageDecoder.Probe(bytes, l.ImageLimits); }
        catch (ImageDecodeException e) { throw new ImageDecodeException(e.Code, $"{field}: {e.Message}"); }
        long need = header.PeakBytes;
        lock (_lock)
        {
            if (_heldBytes + need > l.MaxDecodedBytesPerRequest)
                throw ApiProblem.TooLarge($"{field} is {header.Width} x {header.Height} pixels and needs {need:N0} bytes to decode" +
                                          (_heldBytes > 0 ? $", on top of the {_heldBytes:N0} this request's other images hold" : "") +
                                          $"; a request may hold {l.MaxDecodedBytesPerRequest:N0} (Limits:MaxDecodedBytesPerRequest). Send smaller images, or fewer at once",
                                          "decoded_too_large");
            _heldBytes += need;
        }
        gate.CollectReleased();
        try { await gate.AcquireAsync(need, ct); }
        catch
        {
            lock (_lock) _heldBytes -= need;
            throw;
        }
        DecodedImage image;
        try { image = ImageDecoder.Decode(bytes, l.ImageLimits); }
        catch (ImageDecodeException e)
        {
            Give(need);
            throw new ImageDecodeException(e.Code, $"{field}: {e.Message}");
        }
        catch
        {
            Give(need);
            throw;
        }
        // The decode's temporary copy is gone (native memory, freed): keep counting only the pixels the image holds.
        long kept = image.Rgb.LongLength;
        Give(need - kept, garbage: false);
        lock (_lock) _held[image] = kept;
        return image;
    }

    /// <summary>Gives back the bytes of an image this request no longer needs (its canvas is drawn or its embedding made).</summary>
    public void Release(DecodedImage image)
    {
        long bytes;
        lock (_lock)
        {
            if (!_held.Remove(image, out bytes)) return;
        }
        Give(bytes);
    }

    private void Give(long bytes, bool garbage = true)
    {
        if (bytes <= 0) return;
        lock (_lock) _heldBytes -= bytes;
        gate.Release(bytes, garbage);
    }

    public void Dispose()
    {
        long[] held;
        lock (_lock)
        {
            held = [.. _held.Values];
            _held.Clear();
        }
        foreach (long bytes in held) Give(bytes); // image by image: whether one counts toward a collection depends on its size
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
