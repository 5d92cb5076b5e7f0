using VqaApi.Api.Hosting;

namespace VqaApi.Api.Inputs;

/// <summary>The one rule for <c>top_k</c>, shared by every endpoint that ranks.</summary>
public static class TopK
{
    /// <summary>
    /// How many results to return: <paramref name="requested"/>, or <paramref name="whenOmitted"/>. Refused with a 400 below 1,
    /// and above <paramref name="max"/> when there is one (named by its <paramref name="setting"/>).
    /// </summary>
    public static int Resolve(int? requested, int whenOmitted, int? max = null, string? setting = null)
    {
        int k = requested ?? whenOmitted;
        if (max is { } most && (k < 1 || k > most))
            throw ApiProblem.BadRequest($"top_k must be 1 to {most}{(setting is null ? "" : $" ({setting})")}", "bad_top_k");
        if (k < 1) throw ApiProblem.BadRequest("top_k must be at least 1", "bad_top_k");
        return k;
    }
}
