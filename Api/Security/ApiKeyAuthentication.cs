using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace VqaApi.Api.Security;

/// <summary>
/// ASP.NET Core authentication by API key: <c>Authorization: Bearer KEY</c> or <c>X-API-Key: KEY</c>. A valid key becomes
/// a principal with one <c>scope</c> claim per scope it includes; a request without a key is anonymous (refused with 401
/// by endpoints that need a scope, when keys are required); an unknown or revoked key is refused with 401.
/// Challenges and refusals are ProblemDetails like every other error of the service.
/// </summary>
public sealed class ApiKeyAuthenticationHandler(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder,
    ApiKeyStore store, ApiKeyGate gate, IProblemDetailsService problems) : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "ApiKey", HeaderName = "X-API-Key", ScopeClaim = "scope";

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        string? key = null;
        if (Request.Headers.Authorization.ToString() is { Length: > 7 } auth && auth.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
            key = auth[7..].Trim();
        else if (Request.Headers[HeaderName].ToString() is { Length: > 0 } header)
            key = header.Trim();
        if (key is null) return Task.FromResult(AuthenticateResult.NoResult());
        ApiKeyRecord? record;
        try { record = store.Find(key); }
        catch (ApiKeyStoreException e)
        {
            Logger.LogError("{Problem}", e.Message);
            return Task.FromResult(AuthenticateResult.Fail("the service cannot read its API keys; see its log"));
        }
        if (record is null)
            return Task.FromResult(gate.Required ? AuthenticateResult.Fail("the API key is unknown or revoked") : AuthenticateResult.NoResult());
        var claims = ApiScopes.Implied(record.Scope).Select(s => new Claim(ScopeClaim, s)).Append(new Claim(ClaimTypes.NameIdentifier, record.Id)).Append(new Claim(ClaimTypes.Name, record.Name));
        var principal = new ClaimsPrincipal(new ClaimsIdentity(claims, SchemeName));
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(principal, SchemeName)));
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        var failure = (await HandleAuthenticateOnceSafeAsync()).Failure?.Message;
        Response.Headers.WWWAuthenticate = "Bearer";
        await Write(401, "Unauthorized", failure ?? $"this call needs an API key with the '{NeededScope()}' scope: send 'Authorization: Bearer KEY' or '{HeaderName}: KEY'", "unauthorized");
    }

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties) =>
        Write(403, "Forbidden", $"this API key lacks the '{NeededScope()}' scope this call needs", "forbidden");

    private string NeededScope() =>
        Context.GetEndpoint()?.Metadata.GetOrderedMetadata<RequiredScope>().MaxBy(s => ApiScopes.Rank(s.Scope))?.Scope ?? ApiScopes.Read;

    private async Task Write(int status, string title, string detail, string code)
    {
        Response.StatusCode = status;
        var problem = new ProblemDetails { Status = status, Title = title, Detail = detail, Type = $"https://tools.ietf.org/html/rfc9110#section-15.5.{(status == 401 ? 2 : 4)}" };
        problem.Extensions["code"] = code;
        await problems.TryWriteAsync(new ProblemDetailsContext { HttpContext = Context, ProblemDetails = problem });
    }
}

/// <summary>A call needs a scope; met by a key that includes it, or by anyone when keys are not required.</summary>
public sealed record ScopeRequirement(string Scope) : IAuthorizationRequirement;

public sealed class ScopeAuthorizationHandler(ApiKeyGate gate) : AuthorizationHandler<ScopeRequirement>
{
    protected override Task HandleRequirementAsync(AuthorizationHandlerContext context, ScopeRequirement requirement)
    {
        if (!gate.Required || context.User.HasClaim(ApiKeyAuthenticationHandler.ScopeClaim, requirement.Scope)) context.Succeed(requirement);
        return Task.CompletedTask;
    }
}
