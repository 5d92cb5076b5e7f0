using System.ComponentModel.DataAnnotations;

namespace VqaApi.Api.Hosting;

/// <summary>
/// What the OpenAPI document says about the service itself (section "OpenApi"): the licence under which it is offered.
/// The defaults state the repository's own licence (Apache-2.0, the LICENSE file at its root); a deployment that offers
/// the service under other terms states them here. An empty name leaves the licence out of the document.
/// </summary>
public sealed class ApiDocumentOptions : IValidatableObject
{
    public const string Section = "OpenApi";

    /// <summary>The licence's name as the document shows it, e.g. Apache-2.0. Empty: no licence in the document.</summary>
    public string? LicenseName { get; set; } = "Apache-2.0";

    /// <summary>An absolute http(s) URL of the licence's text (OpenAPI's info.license.url).</summary>
    public string? LicenseUrl { get; set; } = "https://www.apache.org/licenses/LICENSE-2.0";

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (string.IsNullOrWhiteSpace(LicenseName))
        {
            if (!string.IsNullOrWhiteSpace(LicenseUrl))
                yield return new ValidationResult("OpenApi:LicenseUrl is set without OpenApi:LicenseName", [nameof(LicenseUrl)]);
            yield break;
        }
        if (!string.IsNullOrWhiteSpace(LicenseUrl) &&
            !(Uri.TryCreate(LicenseUrl, UriKind.Absolute, out var url) && (url.Scheme == Uri.UriSchemeHttps || url.Scheme == Uri.UriSchemeHttp)))
            yield return new ValidationResult($"OpenApi:LicenseUrl '{LicenseUrl}' is not an absolute http(s) URL", [nameof(LicenseUrl)]);
    }
}
