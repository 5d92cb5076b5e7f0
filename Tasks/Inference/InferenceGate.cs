using System.ComponentModel.DataAnnotations;
using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;
using Polly;
using Polly.CircuitBreaker;
using Polly.RateLimiting;
using Polly.Timeout;
using VqaApi.Tasks.Encoders;

namespace VqaApi.Tasks.Inference;

/// <summary>Limits on inference work per request (section "Inference").</summary>
public sealed class InferenceOptions
{
    public const string Section = "Inference";

    /// <summary>Requests doing inference at once; more wait in a queue, and past it are refused (429).</summary>
    [Range(1, 10_000)] public int MaxConcurrentRequests { get; set; } = 16;
    [Range(0, 100_000)] public int MaxQueuedRequests { get; set; } = 64;
    /// <summary>A request's inference is cancelled after this (504); cancellation stops the ONNX run.</summary>
    [Range(0.01, 3600)] public double TimeoutSeconds { get; set; } = 30;
    /// <summary>The circuit opens (503) when this share of sampled requests fails...</summary>
    [Range(0.01, 1.0)] public double BreakerFailureRatio { get; set; } = 0.5;
    /// <summary>...among at least this many requests in the sampling window...</summary>
    [Range(2, 100_000)] public int BreakerMinimumThroughput { get; set; } = 20;
    [Range(0.5, 3600)] public double BreakerSamplingSeconds { get; set; } = 30;
    /// <summary>...and stays open this long before letting a trial request through.</summary>
    [Range(0.5, 3600)] public double BreakerBreakSeconds { get; set; } = 15;
}

/// <summary>
/// The Polly pipeline every request's inference runs through: a concurrency limit (429 when its queue is full),
/// a timeout whose cancellation really stops the ONNX run (504), and a circuit breaker that stops sending work
/// to an encoder that keeps failing (503). Client mistakes and cancellations never count as failures.
/// </summary>
public sealed class InferenceGate
{
    private readonly ResiliencePipeline _pipeline;

    public InferenceGate(IOptions<InferenceOptions> options)
    {
        var o = options.Value;
        _pipeline = new ResiliencePipelineBuilder()
            .AddConcurrencyLimiter(new ConcurrencyLimiterOptions
            {
                PermitLimit = o.MaxConcurrentRequests,
                QueueLimit = o.MaxQueuedRequests,
                QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
            })
            .AddCircuitBreaker(new CircuitBreakerStrategyOptions
            {
                FailureRatio = o.BreakerFailureRatio,
                MinimumThroughput = o.BreakerMinimumThroughput,
                SamplingDuration = TimeSpan.FromSeconds(o.BreakerSamplingSeconds),
                BreakDuration = TimeSpan.FromSeconds(o.BreakerBreakSeconds),
                ShouldHandle = new PredicateBuilder().Handle<Exception>(IsEncoderFailure),
            })
            .AddTimeout(TimeSpan.FromSeconds(o.TimeoutSeconds))
            .Build();
    }

    /// <summary>Failures of the encoder itself; not the client's doing (bad input, cancellation, a full queue).</summary>
    private static bool IsEncoderFailure(Exception e) =>
        e is not (OperationCanceledException or EncoderBusyException or ArgumentException or TimeoutRejectedException);

    public ValueTask<T> RunAsync<T>(Func<CancellationToken, ValueTask<T>> work, CancellationToken cancellationToken) =>
        _pipeline.ExecuteAsync(work, cancellationToken);
}
