using Microsoft.Extensions.Options;
using VqaApi.Api.Hosting;
using VqaApi.Tasks.Embeddings;

namespace VqaApi.Api.Inputs;

/// <summary>
/// What every endpoint that reads texts or images needs, bound as one parameter (<c>[AsParameters]</c>): the request, the
/// image decoder with its limits, the embedding service, and the request's cancellation.
/// </summary>
public readonly record struct ApiRequest(HttpRequest Http, EmbeddingService Embeddings, ImageInputs Images, IOptions<LimitsOptions> LimitsOptions,
    CancellationToken Aborted)
{
    public LimitsOptions Limits => LimitsOptions.Value;
}
