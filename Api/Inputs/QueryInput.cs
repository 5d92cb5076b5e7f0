using VqaApi.Api.Hosting;
using VqaApi.Rendering;
using VqaApi.Tasks.Embeddings;

namespace VqaApi.Api.Inputs;

/// <summary>The fields of a multipart/form-data body, text decoded strictly as UTF-8.</summary>
public sealed class FormFields(List<FormPart> parts)
{
    public string? Text(string name) =>
        parts.FirstOrDefault(p => p.Name == name && p.FileName is null) is { } part ? RequestBody.DecodeUtf8(part.Data, name) : null;

    public IEnumerable<string> Texts(string name) =>
        parts.Where(p => p.Name == name && p.FileName is null).Select((p, i) => RequestBody.DecodeUtf8(p.Data, $"{name}[{i}]"));

    public FormPart? File(string name) => parts.FirstOrDefault(p => p.Name == name && (p.FileName is not null || p.ContentType is not null))
                                          ?? parts.FirstOrDefault(p => p.FileName is not null);
}

/// <summary>A request body (JSON or form) whose query is one image or one text.</summary>
public sealed class QueryInput<T>(T body, DecodedImage? image, string? text)
{
    public T Body { get; } = body;
    public DecodedImage? Image { get; } = image;
    public string? Text { get; } = text;

    public async Task<float[]> EmbedAsync(EmbeddingService embeddings, CancellationToken ct) =>
        Image is not null ? (await embeddings.ImageAsync(Image, ct)).Embedding : (await embeddings.TextsAsync([Text!], ct)).Vectors[0];
}

public static class QueryInput
{
    public static async Task<QueryInput<T>> ReadAsync<T>(HttpRequest request, ImageInputs imageInputs, LimitsOptions limits, CancellationToken ct,
        Func<T, (ImageInput? Image, string? Text)> select, Func<FormFields, T> fromForm, bool requireQuery = true)
    {
        T body;
        DecodedImage? image = null;
        if (RequestBody.IsJson(request))
        {
            body = await RequestBody.ReadJsonAsync<T>(request, limits.MaxRequestBodyBytes, ct);
            if (select(body).Image is { } input) image = await imageInputs.DecodeAsync(input, "image", ct);
        }
        else if (RequestBody.IsMultipart(request))
        {
            var fields = new FormFields(await RequestBody.ReadMultipartAsync(request, limits.MaxRequestBodyBytes, 10_000, ct));
            body = fromForm(fields);
            if (fields.File("image") is { } file) image = imageInputs.Decode(file.Data, "image");
        }
        else throw RequestBody.NotJsonOrForm(request);

        var text = select(body).Text;
        if (requireQuery && (image is null) == (text is null))
            throw ApiProblem.BadRequest("send exactly one of 'image' or 'text' as the query", image is null ? "missing_query" : "ambiguous_query");
        if (text is not null) TextInputs.Validate([text], limits, "text");
        return new QueryInput<T>(body, image, text);
    }
}
