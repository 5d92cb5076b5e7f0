using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Options;
using VqaApi.Api.Hosting;

namespace VqaApi.Api.Inputs;

public static class InputRegistration
{
    /// <summary>Image inputs: uploads, inline data, and URLs fetched with the SSRF guard, retries and a circuit breaker per host.</summary>
    public static WebApplicationBuilder AddInputs(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<UrlFetchOptions>().BindConfiguration(UrlFetchOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddHttpClient(ImageFetcher.ClientName)
            .ConfigurePrimaryHttpMessageHandler(sp => ImageFetcher.CreateHandler(sp.GetRequiredService<IOptions<UrlFetchOptions>>()))
            .ConfigureHttpClient(c => c.Timeout = Timeout.InfiniteTimeSpan)
            .AddStandardResilienceHandler()
            .Configure((o, sp) =>
            {
                // From the validated UrlFetch options. Retries on transient failures (5xx, 408, 429, connection errors,
                // attempt timeouts), never on a refused address.
                var fetch = sp.GetRequiredService<IOptions<UrlFetchOptions>>().Value;
                o.Retry.MaxRetryAttempts = Math.Max(1, fetch.Retries);
                o.Retry.Delay = TimeSpan.FromMilliseconds(fetch.RetryDelayMilliseconds);
                o.Retry.ShouldHandle = args => fetch.Retries == 0 || IsBlocked(args.Outcome.Exception)
                    ? ValueTask.FromResult(false) : ValueTask.FromResult(HttpClientResiliencePredicates.IsTransient(args.Outcome));
                o.CircuitBreaker.ShouldHandle = args => IsBlocked(args.Outcome.Exception)
                    ? ValueTask.FromResult(false) : ValueTask.FromResult(HttpClientResiliencePredicates.IsTransient(args.Outcome));
                o.AttemptTimeout.Timeout = TimeSpan.FromSeconds(fetch.TimeoutSeconds);
                o.TotalRequestTimeout.Timeout = fetch.TotalTimeout;
                o.CircuitBreaker.SamplingDuration = TimeSpan.FromSeconds(Math.Max(30, 2 * fetch.TimeoutSeconds + 1));
            })
            .SelectPipelineByAuthority();
        services.AddTransient(sp => new ImageFetcher(
            sp.GetRequiredService<IHttpClientFactory>().CreateClient(ImageFetcher.ClientName),
            sp.GetRequiredService<IOptions<UrlFetchOptions>>(), sp.GetRequiredService<IOptions<LimitsOptions>>()));
        services.AddSingleton<DecodeGate>();
        services.AddScoped<ImageInputs>(); // one per request: its decoded-bytes budget
        return builder;
    }

    private static bool IsBlocked(Exception? e) => e is BlockedAddressException || e?.InnerException is BlockedAddressException;
}
