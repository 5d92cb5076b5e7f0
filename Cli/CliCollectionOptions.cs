using Microsoft.Extensions.Options;
using VqaApi.Retrieval;

namespace VqaApi.Cli;

/// <summary>
/// The <c>Collections</c> options the CLI verbs open collections with: the service's own sources (appsettings.json and
/// appsettings.{Environment}.json in the working folder, then environment variables such as <c>Collections__Root</c>), so
/// that <c>index</c> and <c>reembed</c> write the collections the service serves, with the same thresholds, precision and
/// fsync policy; flags given on the command line win. Validated as at the service's start-up.
/// </summary>
public static class CliCollectionOptions
{
    public static CollectionOptions Load(string folder, string? root = null, int? hnswThreshold = null)
    {
        var configuration = CliConfiguration.Build(folder);
        var options = new CollectionOptions();
        try { configuration.GetSection(CollectionOptions.Section).Bind(options); }
        catch (InvalidOperationException e) { throw new ArgumentException($"configuration section '{CollectionOptions.Section}': {e.Message}", e); }
        if (root is not null) options.Root = root;
        if (hnswThreshold is { } threshold) options.HnswThreshold = threshold;
        var result = new DataAnnotationValidateOptions<CollectionOptions>(null).Validate(null, options);
        if (result.Failed) throw new ArgumentException($"configuration section '{CollectionOptions.Section}': {result.FailureMessage}");
        return options;
    }

    /// <summary>The same settings with another backend (copy-collection opens both).</summary>
    public static CollectionOptions WithBackend(CollectionOptions options, CollectionBackend backend)
    {
        var copy = options.WithBackend(backend);
        if (backend == CollectionBackend.Postgres && string.IsNullOrWhiteSpace(copy.Postgres.ConnectionString))
            throw new ArgumentException("the postgres backend needs Collections:Postgres:ConnectionString (appsettings.json or the environment variable Collections__Postgres__ConnectionString)");
        return copy;
    }
}

/// <summary>The service's configuration sources, read by the CLI verbs from the working folder: appsettings.json,
/// appsettings.{Environment}.json, then environment variables (<c>Section__Key</c>).</summary>
public static class CliConfiguration
{
    public static IConfiguration Build(string folder)
    {
        string environment = Environment.GetEnvironmentVariable("ASPNETCORE_ENVIRONMENT") ?? Environment.GetEnvironmentVariable("DOTNET_ENVIRONMENT") ?? "Production";
        try
        {
            return new ConfigurationBuilder()
                .SetBasePath(Path.GetFullPath(folder))
                .AddJsonFile("appsettings.json", optional: true)
                .AddJsonFile($"appsettings.{environment}.json", optional: true)
                .AddEnvironmentVariables()
                .Build();
        }
        catch (InvalidDataException e) { throw new ArgumentException($"the configuration in {Path.GetFullPath(folder)} cannot be read: {e.Message}", e); }
        catch (FormatException e) { throw new ArgumentException($"the configuration in {Path.GetFullPath(folder)} cannot be read: {e.Message}", e); }
    }
}
