using System.ComponentModel;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http.HttpResults;
using VqaApi.Api.Hosting;
using VqaApi.Api.Inputs;
using VqaApi.Api.Security;
using VqaApi.Tasks.Embeddings;
using VqaApi.Rendering;
using VqaApi.Retrieval;
using VqaApi.Tasks.Serving;

namespace VqaApi.Api.Collections;

public sealed record CollectionSummary(string Name, string Model, string Profile, int Dimensions, int Count, DateTimeOffset CreatedAt,
    [property: Description("False when the collection was embedded with another model than the one served (or than the float model of a served int8 model within tolerance): text and image searches are refused.")] bool MatchesServedModel)
{
    public static CollectionSummary Of(IVectorCollection c, EmbeddingService e) => new(c.Info.Name, c.Info.Model, c.Info.Profile, c.Info.Dimensions, c.Count, c.Info.CreatedAt,
        Readable(c, e));

    /// <summary>The served model may search and add to the collection: embedded by it, or by the float model it was quantized from (within tolerance), with the same profile.</summary>
    public static bool Readable(IVectorCollection c, EmbeddingService e) =>
        e.Model.Manifest.ReadsEmbeddingsOf(c.Info.Model) && c.Info.Profile == e.Model.Canvases.ProfileName;
}

public sealed record ItemInput
{
    [Description("Unique within the collection."), System.ComponentModel.DataAnnotations.Required] public string? Id { get; init; }
    [Description("A text to embed (any language).")] public string? Text { get; init; }
    [Description("Or an image to embed (base64 'data' or 'url').")] public ImageInput? Image { get; init; }
    [Description("Or an embedding computed elsewhere (normalised on arrival).")] public float[]? Embedding { get; init; }
    [Description("Any JSON object; filters match its top-level fields.")] public JsonElement? Metadata { get; init; }
}

public sealed record AddItemsRequest
{
    [System.ComponentModel.DataAnnotations.Required] public List<ItemInput>? Items { get; init; }
    [Description("Replace items whose id exists (otherwise such a request is refused with 409).")] public bool Upsert { get; init; }
}

public sealed record AddItemsResponse(int Added, int Replaced, long Sequence,
    [property: Description("Items are searchable as soon as the response arrives.")] bool Searchable, int Count);

public sealed record ItemView(string Id, string? Text, bool HasImage, JsonElement? Metadata, long Sequence,
    [property: Description("The stored embedding (with ?embedding=true); float16-rounded when the service stores vectors as float16 (Collections:Float16).")] float[]? Embedding)
{
    public static ItemView Of(CollectionItem i, float[]? embedding = null) =>
        new(i.Id, i.Text, i.ImageSha256 is not null, i.Metadata.ValueKind == JsonValueKind.Undefined ? null : i.Metadata, i.Sequence, embedding);
}

public sealed record ItemPage(IReadOnlyList<ItemView> Items, [property: Description("Pass as 'after' for the next page; null at the end.")] string? Next);

public sealed record SearchRequest
{
    public string? Text { get; init; }
    public ImageInput? Image { get; init; }
    public float[]? Embedding { get; init; }
    [Description("Search with the stored embedding of this item.")] public string? Id { get; init; }
    [JsonPropertyName("top_k")] public int? TopK { get; init; }
    [JsonPropertyName("min_score"), Description("Only results with cosine similarity at least this.")] public float? MinScore { get; init; }
    [Description("{\"field\": value}, {\"field\": {\"$in\": [...]}}, {\"field\": {\"$gte\": 1, \"$lt\": 5}}; all must hold.")] public JsonElement? Filter { get; init; }
}

public sealed record SearchResult(string Id, float Score, string? Text, JsonElement? Metadata,
    [property: Description("True when the item was added as an image: GET /v1/collections/{name}/images/{id} returns it.")] bool HasImage);

public sealed record SearchResponse(string Collection, string Model, IReadOnlyList<SearchResult> Results);

public static class CollectionEndpoints
{
    public static RouteGroupBuilder MapCollections(this RouteGroupBuilder v1)
    {
        var group = v1.MapGroup("/collections").WithTags("Collections").WithMetadata(new Microsoft.AspNetCore.Http.Timeouts.RequestTimeoutAttribute(ServiceRegistration.LongRequests))
            .UsesSharedStore();
        group.MapPut("/{name}", async Task<Results<Created<CollectionSummary>, Ok<CollectionSummary>>> (string name, ICollectionStore store, EmbeddingService e, QuotaGuard quotas,
                HttpContext context, CancellationToken ct) =>
            {
                var m = e.Model;
                var client = QuotaGuard.ClientOf(context);
                var info = new CollectionInfo(name, m.Manifest.Id, m.Canvases.ProfileName, m.Manifest.Architecture.EmbeddingDim, DateTimeOffset.UtcNow, client);
                var (collection, created) = await store.CreateAsync(info, beforeCreate: () => quotas.CheckNewCollectionAsync(client, ct),
                    readsModel: m.Manifest.ReadsEmbeddingsOf, ct);
                var summary = CollectionSummary.Of(collection, e);
                return created ? TypedResults.Created($"/v1/collections/{name}", summary) : TypedResults.Ok(summary);
            })
            .WithName("CreateCollection").WithSummary("Create a collection for the served model (idempotent)").RequireScope(ApiScopes.Admin).ProducesProblem(403)
            .ProducesProblem(409).ProducesProblem(507);
        group.MapGet("", async (ICollectionStore store, EmbeddingService e, CancellationToken ct) =>
                TypedResults.Ok((await store.ListAsync(ct)).Select(c => CollectionSummary.Of(c, e)).ToList()))
            .WithName("ListCollections").WithSummary("All collections");
        group.MapGet("/{name}", async (string name, ICollectionStore store, EmbeddingService e, CancellationToken ct) =>
                TypedResults.Ok(CollectionSummary.Of(await store.GetAsync(name, ct), e)))
            .WithName("GetCollection").WithSummary("One collection").ProducesProblem(404);
        group.MapDelete("/{name}", async (string name, ICollectionStore store, CancellationToken ct) =>
            {
                await store.DeleteAsync(name, ct);
                return TypedResults.NoContent();
            })
            .WithName("DeleteCollection").WithSummary("Delete a collection and everything in it").RequireScope(ApiScopes.Admin).ProducesProblem(404);

        group.MapPost("/{name}/items", AddAsync)
            .WithName("AddItems").WithSummary("Add items (texts, images or embeddings with metadata); durable when acknowledged").RequireScope(ApiScopes.Write)
            .Accepts<AddItemsRequest>("application/json")
            .WithOpenApiExample("{\"items\": [{\"id\": \"doc-1\", \"text\": \"Ein roter Kreis\", \"metadata\": {\"lang\": \"de\", \"year\": 2024}}, " +
                                "{\"id\": \"doc-2\", \"text\": \"a blue square\", \"metadata\": {\"lang\": \"en\", \"year\": 2021}}, " +
                                $"{{\"id\": \"{DocExamples.ImageItem}\", \"image\": {{\"data\": \"{DocExamples.TourSceneBase64}\"}}, \"metadata\": {{\"year\": 2026}}}}]}}")
            .Produces<AddItemsResponse>().ReadsInputs().RunsEncoder().ProducesProblem(404).ProducesProblem(409).ProducesProblem(507);
        group.MapGet("/{name}/items", async (string name, int? limit, string? after, ICollectionStore store, CancellationToken ct) =>
            {
                int n = Math.Clamp(limit ?? 100, 1, 1000);
                var items = await (await store.GetAsync(name, ct)).ListAsync(n + 1, after, ct);
                return TypedResults.Ok(new ItemPage(items.Take(n).Select(i => ItemView.Of(i)).ToList(), items.Count > n ? items[n - 1].Id : null));
            })
            .WithName("ListItems").WithSummary("Items in id order, paged with 'after'").ProducesProblem(404);
        // {**id}: ids may hold '/' (the index verb names images by their relative paths): items/dir/a.png and items/dir%2Fa.png
        // both reach "dir/a.png" (routing leaves %2F undecoded; ItemId decodes it).
        group.MapGet("/{name}/items/{**id}", async Task<Ok<ItemView>> (string name, string id, bool? embedding, ICollectionStore store, CancellationToken ct) =>
            {
                id = ItemId(id);
                var collection = await store.GetAsync(name, ct);
                // The embedding is read together with the item (the embedded store keeps it only in its index).
                var view = embedding == true
                    ? await collection.GetWithVectorAsync(id, ct) is { } found ? ItemView.Of(found.Item, found.Vector) : null
                    : await collection.GetAsync(id, ct) is { } item ? ItemView.Of(item) : null;
                return view is not null ? TypedResults.Ok(view) : throw new CollectionException(CollectionErrorKind.NotFound, $"collection '{name}' has no item '{id}'");
            })
            .WithName("GetItem").WithSummary("One item (?embedding=true to include its vector)").ProducesProblem(404);
        group.MapGet("/{name}/images/{**id}", async (string name, string id, ICollectionStore store, CancellationToken ct) =>
            {
                id = ItemId(id);
                var collection = await store.GetAsync(name, ct);
                var item = await collection.GetAsync(id, ct) ?? throw new CollectionException(CollectionErrorKind.NotFound, $"collection '{name}' has no item '{id}'");
                if (item.ImageSha256 is not { } sha) throw new CollectionException(CollectionErrorKind.NotFound, $"item '{id}' of collection '{name}' was not added as an image");
                var bytes = await collection.ReadImageAsync(sha, ct)
                            ?? throw new CollectionException(CollectionErrorKind.Damaged, $"the stored image of item '{id}' of collection '{name}' is missing");
                // The bytes as they were added (they were decoded then); their type from their signature.
                var format = ImageDecoder.FormatBySignature(bytes)
                             ?? throw new CollectionException(CollectionErrorKind.Damaged, $"the stored image of item '{id}' of collection '{name}' is not an image any more");
                return TypedResults.File(bytes, $"image/{format}");
            })
            .WithName("GetItemImage").WithSummary("The image an item was added with, as it was sent (for thumbnails)")
            .ProducesFile("The image's bytes as they were added.", "image/png", "image/jpeg", "image/webp", "image/gif", "image/bmp").ProducesProblem(404);
        group.MapDelete("/{name}/items/{**id}", async Task<NoContent> (string name, string id, ICollectionStore store, CancellationToken ct) =>
                await (await store.GetAsync(name, ct)).DeleteAsync(id = ItemId(id), ct)
                    ? TypedResults.NoContent()
                    : throw new CollectionException(CollectionErrorKind.NotFound, $"collection '{name}' has no item '{id}'"))
            .WithName("DeleteItem").WithSummary("Delete an item (durable when acknowledged)").RequireScope(ApiScopes.Write).ProducesProblem(404).ProducesProblem(507);

        group.MapPost("/{name}/search", SearchAsync)
            .WithName("SearchCollection").WithSummary("Search by text (any language), image, embedding or stored item id, with metadata filters")
            .Accepts<SearchRequest>("application/json")
            .WithOpenApiExample("{\"text\": \"círculo rojo\", \"top_k\": 5, \"filter\": {\"year\": {\"$gte\": 2022}, \"lang\": {\"$in\": [\"de\", \"en\"]}}}")
            .Produces<SearchResponse>()
            .WithResponseExample("{\"collection\": \"docs\", \"model\": \"clippo-mini128-gpu-v9\", \"results\": [{\"id\": \"doc-1\", \"score\": 0.83, " +
                                 "\"text\": \"Ein roter Kreis\", \"metadata\": {\"lang\": \"de\", \"year\": 2024}}]}").ReadsInputs().RunsEncoder().ProducesProblem(404).ProducesProblem(409);
        return v1;
    }

    /// <summary>An item id from the path: routing decodes everything but %2F, which is '/' here.</summary>
    private static string ItemId(string id) => id.Replace("%2F", "/", StringComparison.OrdinalIgnoreCase);

    private static void RequireServedModel(IVectorCollection c, EmbeddingService e)
    {
        if (!CollectionSummary.Readable(c, e))
            throw new CollectionException(CollectionErrorKind.Conflict, $"collection '{c.Info.Name}' was embedded with model {c.Info.Model} (profile {c.Info.Profile}); this service runs " +
                                               $"{e.Model.Manifest.Id} ({e.Model.Canvases.ProfileName}). Re-embed it: VqaApi reembed --collection {c.Info.Name} --model DIR");
    }

    private static float[] Normalised(float[] v, int dims, string field)
    {
        if (v.Length != dims) throw new CollectionException(CollectionErrorKind.Invalid, $"{field} has {v.Length} dimensions; the collection holds {dims}");
        double norm = Math.Sqrt(v.Sum(x => (double)x * x));
        if (!double.IsFinite(norm) || norm == 0) throw new CollectionException(CollectionErrorKind.Invalid, $"{field} must be finite and not all zero");
        return v.Select(x => (float)(x / norm)).ToArray();
    }

    private static async Task<Ok<AddItemsResponse>> AddAsync(string name, [AsParameters] ApiRequest request, ICollectionStore store, QuotaGuard quotas)
    {
        var (limits, embeddings, ct) = (request.Limits, request.Embeddings, request.Aborted);
        var collection = await store.GetAsync(name, ct);
        var body = await RequestBody.ReadJsonOnlyAsync<AddItemsRequest>(request.Http, limits.MaxRequestBodyBytes, ct);
        var inputs = body.Items ?? throw ApiProblem.BadRequest("'items' is required", "missing_items");
        if (inputs.Count == 0 || inputs.Count > store.Options.MaxBatch)
            throw ApiProblem.BadRequest($"send 1 to {store.Options.MaxBatch} items per request (Collections:MaxBatch)", "bad_batch");
        if (inputs.Any(i => i?.Embedding is null)) RequireServedModel(collection, embeddings);

        // Every refusal that needs no model, for every item, before any image is fetched or anything is encoded.
        var ids = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < inputs.Count; i++)
        {
            var input = inputs[i] ?? throw ApiProblem.BadRequest($"items[{i}] is null", "bad_item");
            if (input.Id is null) throw ApiProblem.BadRequest($"items[{i}] has no 'id'", "missing_id");
            int sources = (input.Text is null ? 0 : 1) + (input.Image is null ? 0 : 1) + (input.Embedding is null ? 0 : 1);
            if (sources != 1 && !(sources == 2 && input.Embedding is not null && input.Text is not null))
                throw ApiProblem.BadRequest($"items[{i}] needs exactly one of 'text', 'image' or 'embedding' (an embedding may come with its text)", "bad_item");
            collection.CheckItem(input.Id, input.Metadata);
            if (!ids.Add(input.Id)) throw new CollectionException(CollectionErrorKind.Invalid, $"id '{input.Id}' appears more than once in the request");
            if (input.Embedding is null && input.Text is { } text) TextInputs.Validate([text], limits, $"items[{i}].text");
        }
        var stored = await collection.ExistingAsync(ids, ct);
        if (!body.Upsert && inputs.FirstOrDefault(i => stored.Contains(i!.Id!)) is { } existing)
            throw new CollectionException(CollectionErrorKind.Conflict, $"id '{existing.Id}' already exists; send \"upsert\": true to replace it");
        await quotas.CheckNewItemsAsync(collection, inputs.Count - stored.Count, ct);

        var texts = new List<(int Index, string Text)>();
        var items = new NewItem?[inputs.Count];
        for (int i = 0; i < inputs.Count; i++)
        {
            var input = inputs[i]!;
            if (input.Embedding is { } given)
                items[i] = new NewItem(input.Id!, input.Text, null, input.Metadata, Normalised(given, collection.Info.Dimensions, $"items[{i}].embedding"));
            else if (input.Text is { } text) texts.Add((i, text));
        }
        for (int i = 0; i < inputs.Count; i++)
        {
            if (inputs[i]!.Image is not { } image) continue;
            var bytes = await ImageSource.FromJson(image, $"items[{i}].image").FetchBytesAsync(request.Images, ct);
            items[i] = new NewItem(inputs[i]!.Id!, null, bytes, inputs[i]!.Metadata, await EmbedImageAsync(bytes, $"items[{i}].image", request, ct));
        }
        if (texts.Count > 0)
        {
            var vectors = (await embeddings.TextsAsync(texts.Select(t => t.Text).ToList(), ct)).Vectors;
            for (int k = 0; k < texts.Count; k++)
            {
                var input = inputs[texts[k].Index]!;
                items[texts[k].Index] = new NewItem(input.Id!, input.Text, null, input.Metadata, vectors[k]);
            }
        }
        var result = await collection.UpsertAsync(items!, body.Upsert, ct);
        return TypedResults.Ok(new AddItemsResponse(result.Added, result.Replaced, result.Sequence, true, result.Count));
    }

    /// <summary>One image decoded, embedded and given back (its own method: no hoisted local keeps the pixels alive).</summary>
    private static async Task<float[]> EmbedImageAsync(byte[] bytes, string field, ApiRequest request, CancellationToken ct)
    {
        var decoded = await request.Images.DecodeAsync(bytes, field, ct);
        var vector = (await request.Embeddings.ImageAsync(decoded, ct)).Embedding;
        request.Images.Release(decoded);
        return vector;
    }

    private static async Task<Ok<SearchResponse>> SearchAsync(string name, [AsParameters] ApiRequest request, ICollectionStore store)
    {
        var (limits, embeddings, ct) = (request.Limits, request.Embeddings, request.Aborted);
        var collection = await store.GetAsync(name, ct);
        var body = await RequestBody.ReadJsonOnlyAsync<SearchRequest>(request.Http, limits.MaxRequestBodyBytes, ct);
        int queries = (body.Text is null ? 0 : 1) + (body.Image is null ? 0 : 1) + (body.Embedding is null ? 0 : 1) + (body.Id is null ? 0 : 1);
        if (queries != 1) throw ApiProblem.BadRequest("send exactly one of 'text', 'image', 'embedding' or 'id' to search with", "bad_query");
        int topK = TopK.Resolve(body.TopK, 10, store.Options.MaxTopK, "Collections:MaxTopK");
        if (body.MinScore is { } min && !(min >= -1 && min <= 1))
            throw ApiProblem.BadRequest($"min_score must be a number from -1 to 1, not {min}", "bad_min_score");
        var filter = MetadataFilter.Parse(body.Filter);

        float[] query;
        if (body.Embedding is { } given) query = Normalised(given, collection.Info.Dimensions, "embedding");
        else if (body.Id is { } id) query = (await collection.GetWithVectorAsync(id, ct))?.Vector ?? throw new CollectionException(CollectionErrorKind.NotFound, $"collection '{name}' has no item '{id}'");
        else
        {
            RequireServedModel(collection, embeddings);
            if (body.Text is { } text)
            {
                TextInputs.Validate([text], limits, "text");
                query = (await embeddings.TextsAsync([text], ct)).Vectors[0];
            }
            else query = (await embeddings.ImageAsync(await ImageSource.FromJson(body.Image!, "image").DecodeAsync(request.Images, ct), ct)).Embedding;
        }
        var hits = await collection.SearchAsync(query, topK, body.MinScore ?? float.NegativeInfinity, filter, ct);
        return TypedResults.Ok(new SearchResponse(name, collection.Info.Model,
            hits.Select(h => new SearchResult(h.Item.Id, h.Score, h.Item.Text, h.Item.Metadata.ValueKind == JsonValueKind.Undefined ? null : h.Item.Metadata,
                h.Item.ImageSha256 is not null)).ToList()));
    }
}
