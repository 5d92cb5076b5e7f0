using System.Text.Json.Nodes;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace VqaApi.Api.Hosting;

/// <summary>
/// Documents an endpoint that reads its own body as JSON or multipart/form-data. (Accepts() metadata would also
/// make routing refuse other content types with a bare 415, before our ProblemDetails could explain.)
/// </summary>
public static class RequestBodyDocs
{
    public static RouteHandlerBuilder AcceptsJsonOrForm<TJson, TForm>(this RouteHandlerBuilder builder, string description, string jsonExample) =>
        builder.AddOpenApiOperationTransformer(async (operation, context, ct) =>
        {
            var form = await context.GetOrCreateSchemaAsync(typeof(TForm), null, ct);
            // Arrays in a form are one field per value (candidate_labels=a, candidate_labels=b), as the service reads them:
            // without this, Swagger UI joins them into one comma-separated field.
            var encoding = (form.Properties ?? new Dictionary<string, IOpenApiSchema>())
                .Where(p => p.Value.Type is { } t && t.HasFlag(JsonSchemaType.Array))
                .ToDictionary(p => p.Key, _ => new OpenApiEncoding { Style = ParameterStyle.Form, Explode = true });
            operation.RequestBody = new OpenApiRequestBody
            {
                Required = true,
                Description = description,
                Content = new Dictionary<string, OpenApiMediaType>
                {
                    ["application/json"] = new() { Schema = await context.GetOrCreateSchemaAsync(typeof(TJson), null, ct), Example = JsonNode.Parse(jsonExample) },
                    ["multipart/form-data"] = new() { Schema = form, Encoding = encoding.Count > 0 ? encoding : null },
                },
            };
        });

    /// <summary>An example of the 200 (or 201) JSON answer in the OpenAPI document.</summary>
    public static RouteHandlerBuilder WithResponseExample(this RouteHandlerBuilder builder, string jsonExample) =>
        builder.AddOpenApiOperationTransformer((operation, context, ct) =>
        {
            foreach (var status in new[] { "200", "201" })
                if (operation.Responses?.TryGetValue(status, out var response) == true && response.Content?.TryGetValue("application/json", out var media) == true)
                    media.Example = JsonNode.Parse(jsonExample);
            return Task.CompletedTask;
        });

    /// <summary>A 200 answer that is a file (its bytes, not JSON), in any of these media types.</summary>
    public static RouteHandlerBuilder ProducesFile(this RouteHandlerBuilder builder, string description, params string[] mediaTypes) =>
        builder.AddOpenApiOperationTransformer((operation, context, ct) =>
        {
            operation.Responses ??= new OpenApiResponses();
            operation.Responses["200"] = new OpenApiResponse
            {
                Description = description,
                Content = mediaTypes.ToDictionary(m => m, _ => new OpenApiMediaType { Schema = new OpenApiSchema { Type = JsonSchemaType.String, Format = "binary" } }),
            };
            return Task.CompletedTask;
        });

    /// <summary>An example JSON request body in the OpenAPI document.</summary>
    public static RouteHandlerBuilder WithOpenApiExample(this RouteHandlerBuilder builder, string jsonExample) =>
        builder.AddOpenApiOperationTransformer((operation, context, ct) =>
        {
            if (operation.RequestBody?.Content is { } content && content.TryGetValue("application/json", out var media))
                media.Example = JsonNode.Parse(jsonExample);
            return Task.CompletedTask;
        });
}
