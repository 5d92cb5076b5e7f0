namespace VqaApi.Api.Security;

/// <summary>
/// What an API key may do. Scopes are nested: <c>admin</c> includes <c>write</c>, which includes <c>read</c>.
/// <list type="bullet">
/// <item><c>read</c>: models, embed, render, similarity, classify, VQA, listing heads and collections, search;</item>
/// <item><c>write</c>: adding and deleting collection items;</item>
/// <item><c>admin</c>: creating and deleting collections, fitting and deleting heads.</item>
/// </list>
/// </summary>
public static class ApiScopes
{
    public const string Read = "read", Write = "write", Admin = "admin";
    public static readonly string[] All = [Read, Write, Admin];

    /// <summary>The scope and every scope it includes.</summary>
    public static IEnumerable<string> Implied(string scope) => scope switch
    {
        Admin => [Read, Write, Admin],
        Write => [Read, Write],
        Read => [Read],
        _ => throw new ArgumentException($"unknown scope '{scope}'; use one of {string.Join(", ", All)}"),
    };

    public static int Rank(string scope) => Array.IndexOf(All, scope);
}

/// <summary>Endpoint metadata: the scope a call needs (the highest one wins when a group and an endpoint both set one).</summary>
public sealed record RequiredScope(string Scope);
