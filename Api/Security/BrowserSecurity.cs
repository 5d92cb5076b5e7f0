using System.Net;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace VqaApi.Api.Security;

/// <summary>What browsers may do with the service (section "Browser").</summary>
public sealed class BrowserOptions
{
    public const string Section = "Browser";

    /// <summary>Origins (scheme://host[:port]) whose pages may call the API (CORS). Empty, the default: none but the service's own.</summary>
    public string[] AllowedOrigins { get; set; } = [];

    /// <summary>Serve Swagger UI at /swagger (turn off in production if no one should browse it).</summary>
    public bool SwaggerUi { get; set; } = true;

    /// <summary>Serve the OpenAPI document at /openapi/v1.json.</summary>
    public bool OpenApiDocument { get; set; } = true;

    /// <summary>Serve the web page for people at / (ask about a picture, classify, search, model facts). Off: / goes to Swagger UI.</summary>
    public bool WebPage { get; set; } = true;
}

/// <summary>
/// Headers and checks that keep browsers from being turned against the service: security headers on every response; a
/// request that changes something (any method but GET, HEAD, OPTIONS) from a page of another origin is refused unless that
/// origin is allowed (CORS preflights only guard some requests: a cross-site multipart POST needs none); and while keys
/// are not required (loopback only), a Host header that is not a loopback name is refused, so a DNS-rebinding page
/// cannot reach the unauthenticated service.
/// </summary>
public sealed class BrowserGuard(RequestDelegate next, IOptions<BrowserOptions> options, ApiKeyGate gate, IProblemDetailsService problems)
{
    private const string StrictPolicy = "default-src 'none'; frame-ancestors 'none'";
    // Swagger UI's own page: its scripts, styles and the images it inlines or shows (a rendered PNG is a blob: URL), from this origin only.
    private const string SwaggerPolicy = "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; script-src 'self' 'unsafe-inline'; frame-ancestors 'none'";
    // The web page: its own scripts and styles only (nothing inline, nothing from elsewhere); canvases arrive as data: URLs and
    // uploads are previewed as blob: URLs; it talks to this origin only.
    private const string PagePolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; font-src 'self'; connect-src 'self'; " +
                                      "form-action 'none'; base-uri 'none'; frame-ancestors 'none'";

    public async Task InvokeAsync(HttpContext context)
    {
        var headers = context.Response.Headers;
        headers.XContentTypeOptions = "nosniff";
        headers.XFrameOptions = "DENY";
        headers["Referrer-Policy"] = "no-referrer";
        var path = context.Request.Path;
        headers.ContentSecurityPolicy = path.StartsWithSegments("/swagger") ? SwaggerPolicy
            : path == "/" || path.Value?.EndsWith(".html", StringComparison.OrdinalIgnoreCase) == true ? PagePolicy : StrictPolicy;
        headers["Cross-Origin-Opener-Policy"] = "same-origin";

        if (!gate.Required && !IsLoopbackHost(context.Request.Host.Host))
        {
            await Refuse(context, 421, "Misdirected request",
                $"this service answers only to localhost while it runs without API keys; host '{context.Request.Host.Host}' is refused (DNS rebinding). " +
                "Require keys (Auth:Mode) to serve other names", "host_refused");
            return;
        }
        var origin = context.Request.Headers.Origin.ToString();
        if (origin.Length > 0 && !HttpMethods.IsGet(context.Request.Method) && !HttpMethods.IsHead(context.Request.Method) && !HttpMethods.IsOptions(context.Request.Method)
            && !SameOrigin(origin, context.Request) && !options.Value.AllowedOrigins.Contains(origin, StringComparer.OrdinalIgnoreCase))
        {
            await Refuse(context, 403, "Cross-origin request refused",
                $"a page of origin '{origin}' may not call this service; allow it in Browser:AllowedOrigins", "origin_refused");
            return;
        }
        await next(context);
    }

    public static bool IsLoopbackHost(string host) =>
        host.Equals("localhost", StringComparison.OrdinalIgnoreCase) || host.EndsWith(".localhost", StringComparison.OrdinalIgnoreCase)
        || (IPAddress.TryParse(host.Trim('[', ']'), out var ip) && IPAddress.IsLoopback(ip));

    private static bool SameOrigin(string origin, HttpRequest request) =>
        Uri.TryCreate(origin, UriKind.Absolute, out var o) && o.Scheme.Equals(request.Scheme, StringComparison.OrdinalIgnoreCase)
        && string.Equals(o.Authority, request.Host.Value, StringComparison.OrdinalIgnoreCase);

    private Task Refuse(HttpContext context, int status, string title, string detail, string code)
    {
        context.Response.StatusCode = status;
        var problem = new ProblemDetails { Status = status, Title = title, Detail = detail };
        problem.Extensions["code"] = code;
        return problems.TryWriteAsync(new ProblemDetailsContext { HttpContext = context, ProblemDetails = problem }).AsTask();
    }
}
