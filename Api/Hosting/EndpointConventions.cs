namespace VqaApi.Api.Hosting;

/// <summary>
/// The conventions every endpoint follows, in one place: the <c>/v1</c> group, and the problem responses an endpoint
/// documents, named by what it does (reads texts and images, runs the encoder) rather than repeated status by status.
/// </summary>
public static class EndpointConventions
{
    /// <summary>The versioned API: every endpoint under it may answer 400 (a parameter or body it cannot use).</summary>
    public static RouteGroupBuilder MapV1(this IEndpointRouteBuilder app) => app.MapGroup("/v1").ProducesProblem(400);

    /// <summary>
    /// Reads texts or images from its body: too large (413), a content type it does not read (415), an image that cannot
    /// be fetched or decoded (422).
    /// </summary>
    public static RouteHandlerBuilder ReadsInputs(this RouteHandlerBuilder builder) =>
        builder.ProducesProblem(413).ProducesProblem(415).ProducesProblem(422);

    /// <summary>Reads or writes collections or heads: their store may be unavailable (503 with Retry-After: a PostgreSQL backend
    /// that cannot be reached, or a damaged embedded collection).</summary>
    public static RouteGroupBuilder UsesSharedStore(this RouteGroupBuilder group) => group.ProducesProblem(503);

    /// <summary>Runs the encoder: busy (429, with Retry-After), paused after repeated failures (503), out of time (504).</summary>
    public static RouteHandlerBuilder RunsEncoder(this RouteHandlerBuilder builder) =>
        builder.ProducesProblem(429).ProducesProblem(503).ProducesProblem(504);
}
