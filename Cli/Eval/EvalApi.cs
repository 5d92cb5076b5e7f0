using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using VqaApi.Api.Hosting;

namespace VqaApi.Cli.Eval;

/// <summary>An error answer of the API: the status and the ProblemDetails code and detail.</summary>
public sealed class EvalApiException(int status, string? code, string? detail, string message) : Exception(message)
{
    public int Status { get; } = status;
    public string? Code { get; } = code;
    /// <summary>The ProblemDetails detail: what the server says is wrong.</summary>
    public string? Detail { get; } = detail;
    public bool LayoutNotSupported => Status == 400 && Code == "layout_not_supported";
}

/// <summary>
/// The suite's only way to the model: JSON requests to the public endpoints, split to the server's request limits
/// (texts and images per request, body bytes), a bounded number in flight, retried while the server says busy.
/// </summary>
public sealed class EvalApi(HttpClient http, LimitsOptions limits, int concurrency)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private readonly SemaphoreSlim _inFlight = new(Math.Max(1, concurrency));

    public int Concurrency { get; } = Math.Max(1, concurrency);
    public LimitsOptions Limits => limits;

    public Task<JsonElement> GetAsync(string path, CancellationToken ct) => SendAsync(() => new HttpRequestMessage(HttpMethod.Get, path), ct);

    public Task<JsonElement> PostAsync(string path, object body, CancellationToken ct)
    {
        var bytes = JsonSerializer.SerializeToUtf8Bytes(body, Json);
        if (bytes.LongLength > limits.MaxRequestBodyBytes)
            throw new InvalidOperationException($"a {path} request of {bytes.LongLength:N0} bytes exceeds Limits:MaxRequestBodyBytes ({limits.MaxRequestBodyBytes:N0})");
        return SendAsync(() =>
        {
            var content = new ByteArrayContent(bytes);
            content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            return new HttpRequestMessage(HttpMethod.Post, path) { Content = content };
        }, ct);
    }

    private async Task<JsonElement> SendAsync(Func<HttpRequestMessage> request, CancellationToken ct)
    {
        await _inFlight.WaitAsync(ct);
        try
        {
            for (int attempt = 0; ; attempt++)
            {
                using var message = request();
                using var response = await http.SendAsync(message, ct);
                var text = await response.Content.ReadAsStringAsync(ct);
                if (response.IsSuccessStatusCode)
                    return text.Length == 0 || response.Content.Headers.ContentType?.MediaType?.Contains("json") != true
                        ? default : JsonDocument.Parse(text).RootElement.Clone();
                // Busy (429), breaker open (503), timed out (504): back off and retry, as a client of the service should.
                if (response.StatusCode is HttpStatusCode.TooManyRequests or HttpStatusCode.ServiceUnavailable or HttpStatusCode.GatewayTimeout && attempt < 20)
                {
                    var wait = response.Headers.RetryAfter?.Delta ?? TimeSpan.FromMilliseconds(250 * (attempt + 1));
                    await Task.Delay(wait, ct);
                    continue;
                }
                string? code = null, detail = text;
                try
                {
                    using var problem = JsonDocument.Parse(text);
                    if (problem.RootElement.TryGetProperty("code", out var c)) code = c.GetString();
                    if (problem.RootElement.TryGetProperty("detail", out var d)) detail = d.GetString();
                }
                catch (JsonException) { }
                throw new EvalApiException((int)response.StatusCode, code, detail, $"{message.Method} {message.RequestUri} answered {(int)response.StatusCode}: {detail}");
            }
        }
        finally { _inFlight.Release(); }
    }

    /// <summary>Runs <paramref name="work"/> on every item with the suite's concurrency; results in item order.</summary>
    public async Task<TOut[]> MapAsync<TIn, TOut>(IReadOnlyList<TIn> items, Func<TIn, CancellationToken, Task<TOut>> work, Action<int>? progress, CancellationToken ct)
    {
        var results = new TOut[items.Count];
        int done = 0;
        await Parallel.ForEachAsync(Enumerable.Range(0, items.Count), new ParallelOptions { MaxDegreeOfParallelism = Concurrency, CancellationToken = ct }, async (i, token) =>
        {
            results[i] = await work(items[i], token);
            progress?.Invoke(Interlocked.Increment(ref done));
        });
        return results;
    }

    /// <summary>Embeddings of texts from POST /v1/embed, at most Limits:MaxTextsPerRequest per request.</summary>
    public async Task<float[][]> EmbedTextsAsync(IReadOnlyList<string> texts, Action<int>? progress, CancellationToken ct)
    {
        var batches = Chunk(texts.Count, limits.MaxTextsPerRequest, i => texts[i].Length * 3L + 16);
        var parts = await MapAsync(batches, async (b, token) =>
        {
            var answer = await PostAsync("/v1/embed", new { texts = texts.Skip(b.Start).Take(b.Count).ToList() }, token);
            return answer.GetProperty("texts").EnumerateArray().Select(ReadEmbedding).ToArray();
        }, progress is null ? null : n => progress(Math.Min(texts.Count, n * limits.MaxTextsPerRequest)), ct);
        return parts.SelectMany(p => p).ToArray();
    }

    /// <summary>Embeddings of encoded images (PNG bytes) from POST /v1/embed, within Limits:MaxImagesPerRequest and the body limit.</summary>
    public async Task<float[][]> EmbedImagesAsync(IReadOnlyList<byte[]> images, Action<int>? progress, CancellationToken ct)
    {
        var batches = Chunk(images.Count, limits.MaxImagesPerRequest, i => images[i].Length * 4L / 3 + 64);
        var parts = await MapAsync(batches, async (b, token) =>
        {
            var body = new { images = images.Skip(b.Start).Take(b.Count).Select(png => new { data = Convert.ToBase64String(png) }).ToList() };
            var answer = await PostAsync("/v1/embed", body, token);
            return answer.GetProperty("images").EnumerateArray().Select(ReadEmbedding).ToArray();
        }, progress is null ? null : n => progress(Math.Min(images.Count, n * limits.MaxImagesPerRequest)), ct);
        return parts.SelectMany(p => p).ToArray();
    }

    private static float[] ReadEmbedding(JsonElement item)
    {
        var e = item.GetProperty("embedding");
        var v = new float[e.GetArrayLength()];
        int i = 0;
        foreach (var x in e.EnumerateArray()) v[i++] = x.GetSingle();
        return v;
    }

    /// <summary>Consecutive ranges of at most <paramref name="maxCount"/> items whose estimated JSON size stays within half the body limit.</summary>
    private List<(int Start, int Count)> Chunk(int total, int maxCount, Func<int, long> bytes)
    {
        var chunks = new List<(int, int)>();
        long budget = limits.MaxRequestBodyBytes / 2;
        int start = 0;
        while (start < total)
        {
            int count = 0;
            long size = 64;
            while (start + count < total && count < maxCount && (count == 0 || size + bytes(start + count) <= budget)) size += bytes(start + count++);
            chunks.Add((start, count));
            start += count;
        }
        return chunks;
    }
}
