using System.Buffers;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Net.Http.Headers;
using VqaApi.Api.Hosting;

namespace VqaApi.Api.Inputs;

/// <summary>One part of a multipart/form-data body: a named text field or an uploaded file.</summary>
public sealed record FormPart(string Name, string? FileName, string? ContentType, byte[] Data);

/// <summary>Reads request bodies with the configured size limit, strictly (invalid UTF-8 is refused, not replaced).</summary>
public static class RequestBody
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    public static bool IsJson(HttpRequest request) =>
        request.ContentType is { } ct && MediaTypeHeaderValue.TryParse(ct, out var mt) &&
        (mt.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase) || mt.MediaType.Value!.EndsWith("+json", StringComparison.OrdinalIgnoreCase));

    public static bool IsMultipart(HttpRequest request) =>
        request.ContentType?.StartsWith("multipart/form-data", StringComparison.OrdinalIgnoreCase) == true;

    public static async Task<T> ReadJsonAsync<T>(HttpRequest request, long maxBytes, CancellationToken ct)
    {
        var bytes = await ReadAllAsync(request.Body, request.ContentLength, maxBytes, ct);
        if (bytes.Length == 0) throw ApiProblem.BadRequest("the request body is empty; send a JSON object", "empty_body");
        try
        {
            return JsonSerializer.Deserialize<T>(bytes, JsonOptions)
                   ?? throw ApiProblem.BadRequest("the request body is JSON null; send a JSON object");
        }
        catch (JsonException e) when (e.InnerException is InvalidOperationException { Message: var m } && m.Contains("UTF-8"))
        {
            var at = e.Path is { Length: > 1 } ? $" at {e.Path}" : "";
            throw ApiProblem.BadRequest($"the request body contains invalid UTF-8{at}; send JSON encoded as UTF-8", "invalid_utf8");
        }
        catch (JsonException e)
        {
            var where = e.Path is { Length: > 1 } ? $" at {e.Path}" : "";
            throw ApiProblem.BadRequest($"the request body is not valid JSON{where}: {e.Message.Split(" Path:")[0]} (the body must be UTF-8 JSON)", "invalid_json");
        }
    }

    /// <summary>For endpoints that take JSON only: any other content type is a 415 that says what to send.</summary>
    public static Task<T> ReadJsonOnlyAsync<T>(HttpRequest request, long maxBytes, CancellationToken ct) =>
        IsJson(request) ? ReadJsonAsync<T>(request, maxBytes, ct) : throw NotJsonOrForm(request, formAllowed: false);

    public static ApiProblem NotJsonOrForm(HttpRequest request, bool formAllowed = true) =>
        ApiProblem.UnsupportedMediaType($"send application/json{(formAllowed ? " or multipart/form-data" : "")}, not '{request.ContentType ?? "no Content-Type"}'");

    /// <summary>Web defaults, but numbers must be JSON numbers (as the OpenAPI schemas say), not strings.</summary>
    public static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web) { AllowTrailingCommas = false, NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.Strict };

    public static async Task<List<FormPart>> ReadMultipartAsync(HttpRequest request, long maxBytes, int maxParts, CancellationToken ct)
    {
        if (!MediaTypeHeaderValue.TryParse(request.ContentType, out var mediaType))
            throw ApiProblem.BadRequest("the Content-Type header is malformed");
        var boundary = HeaderUtilities.RemoveQuotes(mediaType.Boundary).Value;
        if (string.IsNullOrWhiteSpace(boundary))
            throw ApiProblem.BadRequest("multipart/form-data needs a boundary parameter in Content-Type");
        if (request.ContentLength > maxBytes) throw TooLarge(maxBytes);

        var reader = new MultipartReader(boundary, request.Body) { BodyLengthLimit = maxBytes, HeadersCountLimit = 32 };
        var parts = new List<FormPart>();
        long total = 0;
        try
        {
            while (await reader.ReadNextSectionAsync(ct) is { } section)
            {
                if (parts.Count >= maxParts) throw ApiProblem.BadRequest($"too many form parts; at most {maxParts} are accepted", "too_many_parts");
                if (!ContentDispositionHeaderValue.TryParse(section.ContentDisposition, out var cd) || !cd.DispositionType.Equals("form-data", StringComparison.OrdinalIgnoreCase))
                    throw ApiProblem.BadRequest("every multipart section needs a 'Content-Disposition: form-data; name=...' header");
                var data = await ReadAllAsync(section.Body, null, maxBytes - total, ct);
                total += data.Length;
                var fileName = cd.FileName.HasValue ? HeaderUtilities.RemoveQuotes(cd.FileName).Value : cd.FileNameStar.Value;
                parts.Add(new FormPart(HeaderUtilities.RemoveQuotes(cd.Name).Value ?? "", fileName, section.ContentType, data));
            }
        }
        catch (InvalidDataException e) when (e.Message.Contains("limit", StringComparison.OrdinalIgnoreCase))
        {
            throw TooLarge(maxBytes);
        }
        catch (InvalidDataException e)
        {
            throw ApiProblem.BadRequest("the multipart body is malformed: " + e.Message, "invalid_multipart");
        }
        catch (IOException e)
        {
            throw ApiProblem.BadRequest("the multipart body ended early: " + e.Message, "invalid_multipart");
        }
        return parts;
    }

    /// <summary>Decodes a text field strictly: invalid UTF-8 is a 400 naming the field.</summary>
    public static string DecodeUtf8(byte[] data, string field)
    {
        try { return StrictUtf8.GetString(data); }
        catch (DecoderFallbackException e)
        {
            throw ApiProblem.BadRequest($"{field} is not valid UTF-8 (invalid byte at offset {e.Index}); send text encoded as UTF-8", "invalid_utf8");
        }
    }

    public static async Task<byte[]> ReadAllAsync(Stream body, long? declaredLength, long maxBytes, CancellationToken ct)
    {
        if (declaredLength > maxBytes) throw TooLarge(maxBytes);
        using var buffer = new MemoryStream(declaredLength is > 0 and < 1 << 24 ? (int)declaredLength : 4096);
        // A pooled chunk: a fresh 80 KB array per body (and per form part) was zeroed on every request, 3% of the service's
        // CPU under load (docs/benchmarks.md).
        var chunk = ArrayPool<byte>.Shared.Rent(81920);
        try
        {
            int read;
            while ((read = await body.ReadAsync(chunk, ct)) > 0)
            {
                if (buffer.Length + read > maxBytes) throw TooLarge(maxBytes);
                buffer.Write(chunk, 0, read);
            }
        }
        finally { ArrayPool<byte>.Shared.Return(chunk); }
        return buffer.ToArray();
    }

    private static ApiProblem TooLarge(long maxBytes) =>
        ApiProblem.TooLarge($"the request body is larger than the limit of {maxBytes:N0} bytes (Limits:MaxRequestBodyBytes)");
}
