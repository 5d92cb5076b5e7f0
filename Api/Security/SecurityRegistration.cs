using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.Options;
using Microsoft.OpenApi;

namespace VqaApi.Api.Security;

public static class SecurityRegistration
{
    /// <summary>API keys: options, the keys file, the gate that decides whether keys are required, ASP.NET Core authentication and
    /// one authorization policy per scope, and the OpenAPI security scheme (so Swagger UI can authorise).</summary>
    public static WebApplicationBuilder AddApiKeys(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<ApiKeyOptions>().BindConfiguration(ApiKeyOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton(sp => new ApiKeyStore(sp.GetRequiredService<IOptions<ApiKeyOptions>>().Value.KeysFile));
        services.AddSingleton<ApiKeyGate>();
        services.AddAuthentication(ApiKeyAuthenticationHandler.SchemeName)
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(ApiKeyAuthenticationHandler.SchemeName, null);
        services.AddSingleton<IAuthorizationHandler, ScopeAuthorizationHandler>();
        var authorization = services.AddAuthorizationBuilder();
        foreach (var scope in ApiScopes.All)
            authorization.AddPolicy(scope, policy => policy.AddAuthenticationSchemes(ApiKeyAuthenticationHandler.SchemeName).AddRequirements(new ScopeRequirement(scope)));
        services.ConfigureOpenApiSecurity();
        services.AddClientFairness();
        services.AddOptions<QuotaOptions>().BindConfiguration(QuotaOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<QuotaGuard>();
        services.AddOptions<BrowserOptions>().BindConfiguration(BrowserOptions.Section).ValidateDataAnnotations()
            .Validate(o => o.AllowedOrigins.All(origin => Uri.TryCreate(origin, UriKind.Absolute, out var u) && u.AbsolutePath == "/" && !origin.EndsWith('/')),
                "Browser:AllowedOrigins holds origins: scheme://host[:port], without a path or a trailing slash")
            .ValidateOnStart();
        services.AddCors(cors => cors.AddDefaultPolicy(policy => { })); // origins come from BrowserOptions, below
        services.AddOptions<Microsoft.AspNetCore.Cors.Infrastructure.CorsOptions>().Configure<IOptions<BrowserOptions>>((cors, browser) =>
            cors.AddDefaultPolicy(policy =>
            {
                if (browser.Value.AllowedOrigins.Length == 0) return;
                policy.WithOrigins(browser.Value.AllowedOrigins).WithMethods("GET", "POST", "PUT", "DELETE")
                    .WithHeaders("Authorization", "Content-Type", ApiKeyAuthenticationHandler.HeaderName, "Accept")
                    .WithExposedHeaders("X-Render-Report", "X-Render-Profile", "X-Model", "Retry-After");
            }));
        // No "Server: Kestrel" on every response.
        services.Configure<Microsoft.AspNetCore.Server.Kestrel.Core.KestrelServerOptions>(kestrel => kestrel.AddServerHeader = false);
        return builder;
    }

    /// <summary>Authentication and authorization in the pipeline, and the start-up decision once the server listens.</summary>
    public static WebApplication UseApiKeys(this WebApplication app)
    {
        app.UseMiddleware<BrowserGuard>();
        app.UseCors();
        app.UseAuthentication();
        app.UseRateLimiter(); // per client (its key, else its address), after authentication has said who it is
        app.UseAuthorization();
        app.Lifetime.ApplicationStarted.Register(() => app.Services.GetRequiredService<ApiKeyGate>().Decide());
        return app;
    }

    /// <summary>The call needs an API key with this scope (when keys are required).</summary>
    public static TBuilder RequireScope<TBuilder>(this TBuilder builder, string scope) where TBuilder : IEndpointConventionBuilder =>
        builder.RequireAuthorization(scope).WithMetadata(new RequiredScope(scope));

    private static void ConfigureOpenApiSecurity(this IServiceCollection services) =>
        services.Configure<Microsoft.AspNetCore.OpenApi.OpenApiOptions>("v1", options =>
        {
            options.AddDocumentTransformer((document, context, ct) =>
            {
                document.Components ??= new OpenApiComponents();
                document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
                document.Components.SecuritySchemes[ApiKeyAuthenticationHandler.SchemeName] = new OpenApiSecurityScheme
                {
                    Type = SecuritySchemeType.Http,
                    Scheme = "bearer",
                    Description = "An API key (vqa_...), created with `vqa keys create`: 'Authorization: Bearer KEY' (or 'X-API-Key: KEY'). " +
                                  "Keys are required unless the service listens on loopback only (Auth:Mode). Scopes nest: admin > write > read.",
                };
                return Task.CompletedTask;
            });
            options.AddOperationTransformer((operation, context, ct) =>
            {
                var scope = context.Description.ActionDescriptor.EndpointMetadata.OfType<RequiredScope>().MaxBy(s => ApiScopes.Rank(s.Scope));
                if (scope is null)
                {
                    operation.Security = [new OpenApiSecurityRequirement()]; // said explicitly: no key needed (health probes)
                    return Task.CompletedTask;
                }
                operation.Security ??= [];
                operation.Security.Add(new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(ApiKeyAuthenticationHandler.SchemeName, context.Document)] = [] });
                operation.Description = (operation.Description is { Length: > 0 } d ? d + "\n\n" : "") + $"Needs an API key with the **{scope.Scope}** scope (when keys are required).";
                operation.Responses ??= new OpenApiResponses();
                foreach (var (status, text) in new[] { ("401", "No API key, or an unknown or revoked one"), ("403", $"The API key lacks the '{scope.Scope}' scope") })
                    if (!operation.Responses.ContainsKey(status)) operation.Responses[status] = new OpenApiResponse { Description = text };
                return Task.CompletedTask;
            });
        });
}
