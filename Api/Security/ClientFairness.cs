using System.ComponentModel.DataAnnotations;
using System.Security.Claims;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;

namespace VqaApi.Api.Security;

/// <summary>Per-client limits (section "Clients"): a client is its API key, or its address when it sends none.</summary>
public sealed class ClientLimitsOptions
{
    public const string Section = "Clients";

    /// <summary>Requests one client may have running at once; the service's own limits (Inference) are shared by all.</summary>
    [Range(1, 100_000)] public int MaxConcurrentRequests { get; set; } = 8;
    /// <summary>Requests of one client that wait for one of its slots (oldest first); past them it is answered 429.</summary>
    [Range(0, 100_000)] public int MaxQueuedRequests { get; set; } = 16;
}

/// <summary>
/// Fairness between clients with ASP.NET Core's rate limiter: each client (API key, else remote address) has its own
/// concurrency limit and queue in front of the service's shared inference limits, so one client running at concurrency
/// 128 fills its own queue and is refused (429, Retry-After) while a polite client's requests still reach the encoder.
/// Health probes, the OpenAPI document and Swagger UI are not limited.
/// </summary>
public static class ClientFairness
{
    public static IServiceCollection AddClientFairness(this IServiceCollection services)
    {
        services.AddOptions<ClientLimitsOptions>().BindConfiguration(ClientLimitsOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddRateLimiter(_ => { });
        services.AddOptions<RateLimiterOptions>().Configure<IOptions<ClientLimitsOptions>>((o, clients) =>
        {
            var limits = clients.Value;
            o.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            o.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(context =>
            {
                var path = context.Request.Path;
                if (path.StartsWithSegments("/healthz") || path.StartsWithSegments("/readyz") || path.StartsWithSegments("/openapi") || path.StartsWithSegments("/swagger"))
                    return RateLimitPartition.GetNoLimiter("unlimited");
                return RateLimitPartition.GetConcurrencyLimiter(ClientOf(context), _ => new ConcurrencyLimiterOptions
                {
                    PermitLimit = limits.MaxConcurrentRequests,
                    QueueLimit = limits.MaxQueuedRequests,
                    QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
                });
            });
            o.OnRejected = async (rejected, ct) =>
            {
                var context = rejected.HttpContext;
                context.RequestServices.GetRequiredService<VqaApi.Api.Hosting.VqaMetrics>().Refused("client_busy");
                context.Response.Headers.RetryAfter = "1";
                var problem = new ProblemDetails
                {
                    Status = 429, Title = "Too many requests",
                    Detail = $"this client already has {limits.MaxConcurrentRequests} requests running and {limits.MaxQueuedRequests} waiting " +
                             "(Clients:MaxConcurrentRequests, Clients:MaxQueuedRequests); retry when one has finished",
                };
                problem.Extensions["code"] = "client_busy";
                await context.RequestServices.GetRequiredService<IProblemDetailsService>()
                    .TryWriteAsync(new ProblemDetailsContext { HttpContext = context, ProblemDetails = problem });
            };
        });
        return services;
    }

    /// <summary>The client a request counts against: its API key's id, else its remote address.</summary>
    public static string ClientOf(HttpContext context) =>
        context.User.FindFirst(ClaimTypes.NameIdentifier)?.Value is { } key ? "key:" + key : "address:" + (context.Connection.RemoteIpAddress?.ToString() ?? "local");
}
