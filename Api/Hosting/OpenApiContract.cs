using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace VqaApi.Api.Hosting;

/// <summary>
/// Makes the OpenAPI document say what the service does, so that generated clients work as generated: the problem schema
/// has the <c>code</c> and <c>traceId</c> every error carries; free-form JSON (metadata, filters) is "any JSON value" rather
/// than a oneOf that null matches twice; no unknown formats (uint8); Retry-After is documented on 429 and 503; old
/// spellings that are still accepted are left out.
/// </summary>
public static class OpenApiContract
{
    public static OpenApiOptions Configure(OpenApiOptions options)
    {
        options.AddSchemaTransformer((schema, context, ct) =>
        {
            var type = Nullable.GetUnderlyingType(context.JsonTypeInfo.Type) ?? context.JsonTypeInfo.Type;
            if (type == typeof(JsonElement))
            {
                // Any JSON value: no type, no oneOf.
                schema.Type = null;
                schema.OneOf = null;
                schema.AnyOf = null;
                schema.Format = null;
            }
            if (schema.Format == "uint8")
            {
                schema.Format = null;
                schema.Minimum = "0";
                schema.Maximum = "255";
            }
            if (type == typeof(Microsoft.AspNetCore.Mvc.ProblemDetails) || type == typeof(Microsoft.AspNetCore.Http.HttpValidationProblemDetails))
            {
                schema.Properties ??= new Dictionary<string, IOpenApiSchema>();
                schema.Properties["code"] = new OpenApiSchema { Type = JsonSchemaType.String, Description = "What went wrong, as a stable word (e.g. bad_top_k, too_large, quota_exceeded)." };
                schema.Properties["traceId"] = new OpenApiSchema { Type = JsonSchemaType.String, Description = "The request's trace id, for the service's logs." };
            }
            // Form fields start with values that work as they are (Swagger UI fills its forms from these).
            if (context.JsonPropertyInfo?.AttributeProvider?.GetCustomAttributes(typeof(FormExampleAttribute), false) is [FormExampleAttribute formExample, ..])
            {
                schema.Examples = [JsonNode.Parse(formExample.Json)!];
#pragma warning disable CS0618 // 'example' is deprecated in OpenAPI 3.1 but is what Swagger UI reads to fill a form field
                schema.Example = JsonNode.Parse(formExample.Json);
#pragma warning restore CS0618
            }
            // Old spellings still accepted but not documented.
            foreach (var property in context.JsonTypeInfo.Properties)
                if (property.AttributeProvider?.IsDefined(typeof(UndocumentedAttribute), inherit: false) == true) schema.Properties?.Remove(property.Name);
            return Task.CompletedTask;
        });
        options.AddOperationTransformer((operation, context, ct) =>
        {
            foreach (var (status, response) in operation.Responses ?? [])
                if (status is "429" or "503" && response is OpenApiResponse r)
                {
                    r.Headers ??= new Dictionary<string, IOpenApiHeader>();
                    r.Headers["Retry-After"] = new OpenApiHeader { Description = "Seconds to wait before retrying.", Schema = new OpenApiSchema { Type = JsonSchemaType.Integer } };
                }
            return Task.CompletedTask;
        });
        return options;
    }
}

/// <summary>A request property still read (an old spelling) but left out of the OpenAPI document.</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class UndocumentedAttribute : Attribute;

/// <summary>The value a form field starts with in Swagger UI, as JSON ("" for a field left empty, which counts as absent).</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class FormExampleAttribute(string json) : Attribute
{
    public string Json { get; } = json;
}
