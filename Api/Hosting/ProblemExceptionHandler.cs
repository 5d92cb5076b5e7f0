using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Mvc;
using Polly.CircuitBreaker;
using Polly.RateLimiting;
using Polly.Timeout;
using VqaApi.Rendering;
using VqaApi.Tasks.Canvases;
using VqaApi.Tasks.Heads;
using VqaApi.Retrieval;
using VqaApi.Tasks.Encoders;

namespace VqaApi.Api.Hosting;

/// <summary>Turns every known failure into a ProblemDetails response that says what to fix.</summary>
public sealed class ProblemExceptionHandler(IProblemDetailsService problems, ILogger<ProblemExceptionHandler> logger, VqaMetrics metrics) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken cancellationToken)
    {
        var (status, title, detail, code) = exception switch
        {
            ApiProblem p => (p.Status, p.Title, p.Message, p.Code),
            ImageDecodeException e => (ImageStatus(e.Code), "Unusable image", e.Message, e.Code),
            HeadException e => e.Kind switch
            {
                HeadErrorKind.NotFound => (404, "Unknown head", e.Message, "head"),
                HeadErrorKind.Conflict => (409, "Head conflict", e.Message, "head"),
                HeadErrorKind.Busy => (429, "Busy", e.Message, "head"),
                HeadErrorKind.Unreadable => (422, "Invalid head", e.Message, "head"),
                HeadErrorKind.ReadOnly => (403, "Read-only head", e.Message, "head_read_only"),
                HeadErrorKind.InsufficientStorage => (507, "Insufficient storage", e.Message, "insufficient_storage"),
                HeadErrorKind.Unavailable => (503, "Head store unavailable", e.Message, "head_store_unavailable"),
                _ => (400, "Invalid head request", e.Message, "head"),
            },
            CollectionException e => e.Kind switch
            {
                CollectionErrorKind.NotFound => (404, "Not found", e.Message, "collection"),
                CollectionErrorKind.Conflict => (409, "Conflict", e.Message, "collection"),
                CollectionErrorKind.InsufficientStorage => (507, "Insufficient storage", e.Message, "collection"),
                CollectionErrorKind.Damaged => (503, "Collection damaged", e.Message, "collection_damaged"),
                CollectionErrorKind.Unavailable => (503, "Collection store unavailable", e.Message, "collection_store_unavailable"),
                _ => (400, "Invalid collection request", e.Message, "collection"),
            },
            LayoutNotSupportedException e => (400, "Layout not supported", e.Message, "layout_not_supported"),
            EncoderBusyException e => (429, "Too many requests", e.Message, "busy"),
            RateLimiterRejectedException => (429, "Too many requests", "too many requests are running inference; retry shortly (Inference:MaxConcurrentRequests)", "busy"),
            TimeoutRejectedException => (504, "Inference timed out", "the model did not finish within the time limit (Inference:TimeoutSeconds); the run was stopped", "inference_timeout"),
            BrokenCircuitException => (503, "Model unavailable", "the encoder has been failing and is paused; retry shortly", "circuit_open"),
            BadHttpRequestException e => (e.StatusCode, e.StatusCode == 413 ? "Payload too large" : "Bad request", e.Message, "bad_request"),
            OperationCanceledException when context.RequestAborted.IsCancellationRequested => (499, "Client closed request", "the request was cancelled", "cancelled"),
            _ => (500, "Internal error", "an unexpected error occurred; it has been logged", "internal"),
        };
        if (exception is CollectionException { Kind: CollectionErrorKind.Unavailable } or HeadException { Kind: HeadErrorKind.Unavailable }) logger.LogWarning("{Path}: {Problem}", context.Request.Path, exception.Message);
        else if (status >= 500) logger.LogError(exception, "Unhandled error on {Path}", context.Request.Path);
        // Refusals that protect the service, counted by reason for /metrics.
        if (exception switch
            {
                EncoderBusyException => "encoder_busy",
                RateLimiterRejectedException => "inference_busy",
                TimeoutRejectedException => "inference_timeout",
                BrokenCircuitException => "circuit_open",
                ApiProblem { Code: "decode_busy" or "decoded_too_large" or "image_too_large_to_decode" or "too_many_prompts" or "template_too_long" } p => p.Code,
                _ => null,
            } is { } reason)
            metrics.Refused(reason);
        if (exception is EncoderBusyException busy) context.Response.Headers.RetryAfter = busy.RetryAfterSeconds.ToString();
        if (exception is ApiProblem { RetryAfterSeconds: { } retry }) context.Response.Headers.RetryAfter = retry.ToString();
        if (exception is RateLimiterRejectedException { RetryAfter: { } after }) context.Response.Headers.RetryAfter = ((int)Math.Ceiling(after.TotalSeconds)).ToString();
        else if (exception is RateLimiterRejectedException or BrokenCircuitException) context.Response.Headers.RetryAfter = "1";
        if (exception is CollectionException { Kind: CollectionErrorKind.Unavailable } or HeadException { Kind: HeadErrorKind.Unavailable }) context.Response.Headers.RetryAfter = "2";
        context.Response.StatusCode = status;
        var problem = new ProblemDetails { Status = status, Title = title, Detail = detail };
        if (code is not null) problem.Extensions["code"] = code;
        return await problems.TryWriteAsync(new ProblemDetailsContext { HttpContext = context, ProblemDetails = problem, Exception = exception });
    }

    private static int ImageStatus(string code) => code switch
    {
        "too_large" or "too_many_pixels" => 413,
        "unsupported_format" => 415,
        "empty" => 400,
        _ => 422,
    };
}
