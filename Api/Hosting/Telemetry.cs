using System.Diagnostics.Metrics;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using VqaApi.Tasks.Embeddings;
using VqaApi.Tasks.Encoders;
using VqaApi.Tasks.Serving;

namespace VqaApi.Api.Hosting;

/// <summary>Telemetry (section "Telemetry").</summary>
public sealed class TelemetryOptions
{
    public const string Section = "Telemetry";

    /// <summary>Serve metrics for Prometheus at /metrics (admin scope when keys are required).</summary>
    public bool Metrics { get; set; } = true;

    /// <summary>Export traces (ASP.NET Core and HttpClient spans) over OTLP to this endpoint, e.g. http://localhost:4317. Empty: no traces.</summary>
    public string? OtlpEndpoint { get; set; }
}

/// <summary>
/// The service's own instruments, on a meter from this host's <see cref="IMeterFactory"/> (so that several hosts in one
/// process, as in tests, do not mix their figures): canvases and batches encoded and canvases queued, embedding-cache hits,
/// misses and bytes, decoded-image bytes admitted and held, and refusals by reason. The encoder's batch-size histogram is
/// on meter VqaApi.Encoder.
/// </summary>
public sealed class VqaMetrics
{
    public const string MeterName = "VqaApi";
    private readonly Counter<long> _refusals;
    private readonly Counter<long> _admitted;
    private readonly Meter _meter;

    public VqaMetrics(IMeterFactory factory, ServedModel model, EmbeddingCache cache)
    {
        _meter = factory.Create(MeterName);
        _refusals = _meter.CreateCounter<long>("vqa.refusals", "{request}", "Requests refused to protect the service, by reason");
        _admitted = _meter.CreateCounter<long>("vqa.decode.admitted_bytes", "By", "Peak bytes reserved by image decodes");
        _meter.CreateObservableCounter("vqa.encoder.canvases", () => model.Encoder.CanvasesEncoded, "{canvas}", "Canvases encoded");
        _meter.CreateObservableCounter("vqa.encoder.batches", () => model.Encoder.BatchesRun, "{batch}", "Encoder runs");
        _meter.CreateObservableGauge("vqa.encoder.queued_canvases", () => model.Encoder.QueuedCanvases, "{canvas}", "Canvases waiting for the encoder");
        _meter.CreateObservableCounter("vqa.cache.hits", () => cache.Hits, "{lookup}", "Embedding-cache hits");
        _meter.CreateObservableCounter("vqa.cache.misses", () => cache.Misses, "{lookup}", "Embedding-cache misses");
        _meter.CreateObservableGauge("vqa.cache.bytes", () => cache.Bytes, "By", "Bytes held by the embedding cache");
    }

    /// <summary>A refusal that protects the service: client_busy, encoder_busy, inference_busy, decode_busy, decoded_too_large,
    /// too_many_prompts, request_timeout.</summary>
    public void Refused(string reason) => _refusals.Add(1, new KeyValuePair<string, object?>("reason", reason));

    public void Admitted(long bytes) => _admitted.Add(bytes);

    /// <summary>A gauge read when metrics are collected (the decode gate's bytes held).</summary>
    public void Observe(string name, Func<long> read, string unit, string description) => _meter.CreateObservableGauge(name, read, unit, description);
}

/// <summary>
/// OpenTelemetry: the standard ASP.NET Core (requests and latency by route and status), HttpClient and runtime
/// instrumentation, and the service's own instruments (<see cref="VqaMetrics"/>). Metrics go to /metrics for Prometheus
/// (admin scope when keys are required); traces go over OTLP when Telemetry:OtlpEndpoint is set. For JSON logs, set
/// Logging:Console:FormatterName=json.
/// </summary>
public static class Telemetry
{
    public static WebApplicationBuilder AddTelemetry(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<TelemetryOptions>().BindConfiguration(TelemetryOptions.Section)
            .Validate(o => string.IsNullOrEmpty(o.OtlpEndpoint) || Uri.TryCreate(o.OtlpEndpoint, UriKind.Absolute, out _), "Telemetry:OtlpEndpoint must be an absolute URL")
            .ValidateOnStart();
        builder.Services.AddSingleton<VqaMetrics>();
        var otlp = builder.Configuration[$"{TelemetryOptions.Section}:{nameof(TelemetryOptions.OtlpEndpoint)}"];
        builder.Services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService("vqaapi"))
            .WithMetrics(m => m
                .AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation()
                .AddRuntimeInstrumentation()
                .AddMeter(VqaMetrics.MeterName, EncoderMetrics.MeterName)
                .AddPrometheusExporter())
            .WithTracing(t =>
            {
                t.AddAspNetCoreInstrumentation().AddHttpClientInstrumentation();
                if (!string.IsNullOrEmpty(otlp)) t.AddOtlpExporter(o => o.Endpoint = new Uri(otlp));
            });
        return builder;
    }

    /// <summary>/metrics for Prometheus (unless Telemetry:Metrics is off); returns it so the caller can protect it.</summary>
    public static IEndpointConventionBuilder? MapMetrics(this WebApplication app)
    {
        _ = app.Services.GetRequiredService<VqaMetrics>(); // its observable instruments exist from the start
        if (!app.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<TelemetryOptions>>().Value.Metrics) return null;
        return app.MapPrometheusScrapingEndpoint("/metrics").WithMetadata(new Microsoft.AspNetCore.Routing.ExcludeFromDescriptionAttribute());
    }
}
