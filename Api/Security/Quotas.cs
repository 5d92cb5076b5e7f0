using System.ComponentModel.DataAnnotations;
using System.Security.Claims;
using Microsoft.Extensions.Options;
using VqaApi.Retrieval;
using VqaApi.Tasks.Heads;

namespace VqaApi.Api.Security;

/// <summary>
/// What one client (an API key; every caller without a key counts as the one client "anonymous") may keep on the service
/// (section "Quotas"). Collections and heads record the client that created them; items count against the owner of the
/// collection they are written to.
/// </summary>
public sealed class QuotaOptions
{
    public const string Section = "Quotas";

    [Range(0, 1_000_000)] public int MaxCollectionsPerClient { get; set; } = 100;
    [Range(0, long.MaxValue)] public long MaxItemsPerClient { get; set; } = 10_000_000;
    [Range(0, 1_000_000)] public int MaxHeadsPerClient { get; set; } = 100;
    /// <summary>Bytes of one head's file (its weights dominate: input x hidden + hidden x classes floats).</summary>
    [Range(1024, 1L << 34)] public long MaxHeadBytes { get; set; } = 16L * 1024 * 1024;
    [Range(1024, 1L << 40)] public long MaxHeadBytesPerClient { get; set; } = 256L * 1024 * 1024;
}

/// <summary>Checks a request against its client's quotas before any work; a refusal is 403 <c>quota_exceeded</c> (or 413 for one
/// head over its own size limit), naming the quota and the client's use of it.</summary>
public sealed class QuotaGuard(IOptions<QuotaOptions> options, ICollectionStore collections, HeadService heads)
{
    public const string Anonymous = "anonymous";

    /// <summary>The client whose quotas a request counts against: its API key's id, or "anonymous".</summary>
    public static string ClientOf(HttpContext context) => context.User.FindFirst(ClaimTypes.NameIdentifier)?.Value ?? Anonymous;

    private static bool Owns(string? owner, string client) => (owner ?? Anonymous) == client;

    public async Task CheckNewCollectionAsync(string client, CancellationToken ct)
    {
        int owned = (await collections.ListAsync(ct)).Count(c => Owns(c.Info.Owner, client));
        if (owned >= options.Value.MaxCollectionsPerClient)
            throw Exceeded($"this client has {owned} collections; at most {options.Value.MaxCollectionsPerClient} (Quotas:MaxCollectionsPerClient). Delete one first");
    }

    /// <summary>Items count against the collection's owner: its collections' items plus the new ones.</summary>
    public async Task CheckNewItemsAsync(IVectorCollection target, int newItems, CancellationToken ct)
    {
        var owner = target.Info.Owner ?? Anonymous;
        long held = (await collections.ListAsync(ct)).Where(c => Owns(c.Info.Owner, owner)).Sum(c => (long)c.Count);
        if (held + newItems > options.Value.MaxItemsPerClient)
            throw Exceeded($"the collections of the client that owns '{target.Info.Name}' hold {held:N0} items; {newItems:N0} more would pass " +
                           $"{options.Value.MaxItemsPerClient:N0} (Quotas:MaxItemsPerClient)");
    }

    /// <summary>A head about to be fitted: the client's head count and bytes, and the head's own size from its shape.</summary>
    public void CheckNewHead(string client, string name, bool replaces, long estimatedBytes)
    {
        var o = options.Value;
        if (estimatedBytes > o.MaxHeadBytes)
            throw new Hosting.ApiProblem(413, "Head too large",
                $"a head of this shape takes about {estimatedBytes:N0} bytes; at most {o.MaxHeadBytes:N0} (Quotas:MaxHeadBytes). Use fewer hidden units or classes", "head_too_large");
        var mine = heads.Store.List().Where(h => Owns(h.Owner, client) && h.Name != name).ToList();
        if (!replaces && mine.Count >= o.MaxHeadsPerClient)
            throw Exceeded($"this client has {mine.Count} heads; at most {o.MaxHeadsPerClient} (Quotas:MaxHeadsPerClient). Delete one first");
        long bytes = mine.Sum(h => heads.Store.FileBytes(h.Name));
        if (bytes + estimatedBytes > o.MaxHeadBytesPerClient)
            throw Exceeded($"this client's heads take {bytes:N0} bytes; this one (about {estimatedBytes:N0}) would pass {o.MaxHeadBytesPerClient:N0} (Quotas:MaxHeadBytesPerClient)");
    }

    /// <summary>What a client uses of its quotas.</summary>
    public async Task<QuotaUsage> UsageAsync(string client, CancellationToken ct)
    {
        var o = options.Value;
        var owned = (await collections.ListAsync(ct)).Where(c => Owns(c.Info.Owner, client)).ToList();
        var mine = heads.Store.List().Where(h => Owns(h.Owner, client)).ToList();
        return new QuotaUsage(client,
            new QuotaUse(owned.Count, o.MaxCollectionsPerClient), new QuotaUse(owned.Sum(c => (long)c.Count), o.MaxItemsPerClient),
            new QuotaUse(mine.Count, o.MaxHeadsPerClient), new QuotaUse(mine.Sum(h => heads.Store.FileBytes(h.Name)), o.MaxHeadBytesPerClient), o.MaxHeadBytes);
    }

    private static Hosting.ApiProblem Exceeded(string detail) => new(403, "Quota exceeded", detail, "quota_exceeded");
}

public sealed record QuotaUse(long Used, long Limit);

/// <summary>A client's use of its quotas (GET /v1/quotas).</summary>
public sealed record QuotaUsage(string Client, QuotaUse Collections, QuotaUse Items, QuotaUse Heads, QuotaUse HeadBytes, long MaxHeadBytes);

public static class QuotaEndpoints
{
    public static RouteGroupBuilder MapQuotas(this RouteGroupBuilder v1)
    {
        v1.MapGet("/quotas", async (QuotaGuard quotas, HttpContext context, CancellationToken ct) => TypedResults.Ok(await quotas.UsageAsync(QuotaGuard.ClientOf(context), ct)))
            .WithName("GetQuotas").WithTags("Quotas")
            .WithSummary("This client's use of its quotas: collections, items in them, heads and their bytes (Quotas:*)");
        return v1;
    }
}
