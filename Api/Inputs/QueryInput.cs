using VqaApi.Api.Hosting;
using VqaApi.Rendering;
using VqaApi.Tasks.Embeddings;

namespace VqaApi.Api.Inputs;

/// <summary>
/// The fields of a multipart/form-data body, text decoded strictly as UTF-8. An empty field is an absent one: forms
/// (Swagger UI's among them) send the fields a user left empty.
/// </summary>
public sealed class FormFields(List<FormPart> parts)
{
    public string? Text(string name) =>
        parts.FirstOrDefault(p => p.Name == name && p.FileName is null && p.Data.Length > 0) is { } part ? RequestBody.DecodeUtf8(part.Data, name) : null;

    public IEnumerable<string> Texts(string name) =>
        parts.Where(p => p.Name == name && p.FileName is null && p.Data.Length > 0).Select((p, i) => RequestBody.DecodeUtf8(p.Data, $"{name}[{i}]"));

    public FormPart? File(string name) => parts.FirstOrDefault(p => p.Name == name && (p.FileName is not null || p.ContentType is not null))
                                          ?? parts.FirstOrDefault(p => p.FileName is not null);
}

/// <summary>
/// A request body (JSON or form) whose query is one image or one text. The image is named but not yet fetched or decoded,
/// so the endpoint can refuse what needs no image first.
/// </summary>
public sealed class QueryInput<T>(T body, ImageSource? image, string? text)
{
    public T Body { get; } = body;
    public ImageSource? Image { get; } = image;
    public string? Text { get; } = text;

    /// <summary>The query's embedding: the image (fetched and decoded now) or the text.</summary>
    public async Task<float[]> EmbedAsync(EmbeddingService embeddings, ImageInputs imageInputs, CancellationToken ct) =>
        Image is not null
            ? (await embeddings.ImageAsync(await Image.DecodeAsync(imageInputs, ct), ct)).Embedding
            : (await embeddings.TextsAsync([Text!], ct)).Vectors[0];
}

public static class QueryInput
{
    /// <summary>
    /// Reads the body (JSON or multipart) and checks the query's shape and text; the image is left unfetched and undecoded.
    /// </summary>
    public static async Task<QueryInput<T>> ReadAsync<T>(HttpRequest request, LimitsOptions limits, CancellationToken ct,
        Func<T, (ImageInput? Image, string? Text)> select, Func<FormFields, T> fromForm, bool requireQuery = true)
    {
        T body;
        ImageSource? image = null;
        if (RequestBody.IsJson(request))
        {
            body = await RequestBody.ReadJsonAsync<T>(request, limits.MaxRequestBodyBytes, ct);
            if (select(body).Image is { } input) image = ImageSource.FromJson(input, "image");
        }
        else if (RequestBody.IsMultipart(request))
        {
            var fields = new FormFields(await RequestBody.ReadMultipartAsync(request, limits.MaxRequestBodyBytes, 10_000, ct));
            body = fromForm(fields);
            if (fields.File("image") is { } file) image = ImageSource.FromUpload(file.Data, "image");
        }
        else throw RequestBody.NotJsonOrForm(request);

        var text = select(body).Text;
        if (requireQuery && (image is null) == (text is null))
            throw ApiProblem.BadRequest("send exactly one of 'image' or 'text' as the query", image is null ? "missing_query" : "ambiguous_query");
        if (text is not null) TextInputs.Validate([text], limits, "text");
        return new QueryInput<T>(body, image, text);
    }
}
