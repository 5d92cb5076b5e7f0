using System.ComponentModel.DataAnnotations;

namespace VqaApi.Api.Security;

public enum ApiKeyMode
{
    /// <summary>Keys required unless the service listens on loopback addresses only.</summary>
    Auto,
    /// <summary>Keys required on every address.</summary>
    Required,
    /// <summary>No keys: anyone who reaches the service may call everything. Only for trusted networks.</summary>
    Off,
}

/// <summary>API keys (section "Auth").</summary>
public sealed class ApiKeyOptions
{
    public const string Section = "Auth";

    public ApiKeyMode Mode { get; set; } = ApiKeyMode.Auto;

    /// <summary>The keys (hashed), as <c>vqa keys create</c> writes them; relative paths are from the working folder.</summary>
    [Required, MinLength(1)] public string KeysFile { get; set; } = "data/api-keys.json";
}
