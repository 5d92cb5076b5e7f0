namespace VqaApi.Api.Hosting;

/// <summary>A request the service refuses; becomes a ProblemDetails response with this status.</summary>
public sealed class ApiProblem(int status, string title, string detail, string? code = null) : Exception(detail)
{
    public int Status { get; } = status;
    public string Title { get; } = title;
    public string? Code { get; } = code;
    /// <summary>Sent as Retry-After when set (a refusal that passes with time).</summary>
    public int? RetryAfterSeconds { get; init; }

    public static ApiProblem BadRequest(string detail, string code = "invalid_request") => new(400, "Invalid request", detail, code);
    public static ApiProblem TooLarge(string detail, string code = "too_large") => new(413, "Payload too large", detail, code);
    public static ApiProblem UnsupportedMediaType(string detail) => new(415, "Unsupported media type", detail, "unsupported_media_type");
}
