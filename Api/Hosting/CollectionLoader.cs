using Microsoft.Extensions.Options;
using VqaApi.Postgres;
using VqaApi.Retrieval;
using VqaApi.Tasks.Heads;
using VqaApi.Tasks.Serving;

namespace VqaApi.Api.Hosting;

/// <summary>The collection store of Collections:Backend, and its start-up: every embedded collection opened (snapshot + log
/// replay), or the PostgreSQL database reached, checked for pgvector and migrated, before the first request needs it. A start-up
/// that cannot reach its store fails with a message that says which setting to fix.</summary>
public static class CollectionRegistration
{
    public static IServiceCollection AddCollectionStore(this IServiceCollection services)
    {
        services.AddOptions<CollectionOptions>().BindConfiguration(CollectionOptions.Section).ValidateDataAnnotations()
            .Validate(o => o.Backend != CollectionBackend.Postgres || !string.IsNullOrWhiteSpace(o.Postgres.ConnectionString),
                "Collections:Backend is Postgres: set Collections:Postgres:ConnectionString (or the environment variable Collections__Postgres__ConnectionString)")
            .Validate(o => System.Text.RegularExpressions.Regex.IsMatch(o.Postgres.Schema, "^[a-z_][a-z0-9_]{0,62}$"),
                "Collections:Postgres:Schema must be a lower-case SQL identifier")
            .ValidateOnStart();
        services.AddSingleton<ICollectionStore>(sp => Create(sp.GetRequiredService<IOptions<CollectionOptions>>(), sp.GetRequiredService<ILoggerFactory>()));
        services.AddHostedService<CollectionLoader>();
        return services;
    }

    /// <summary>The store Collections:Backend names (the API and the CLI build theirs here); not started yet.</summary>
    public static ICollectionStore Create(IOptions<CollectionOptions> options, ILoggerFactory logs) => options.Value.Backend switch
    {
        CollectionBackend.Postgres => new PostgresCollectionStore(options, logs.CreateLogger<PostgresCollectionStore>()),
        _ => new CollectionStore(options, logs.CreateLogger<CollectionStore>()),
    };
}

public sealed class CollectionLoader(ICollectionStore store, ServedModel model, ILogger<CollectionLoader> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await store.StartAsync(cancellationToken);
        if (store is PostgresCollectionStore shared) ImportBundledHeads(shared);
    }

    /// <summary>With the shared database, the heads the model directory ships with (and any `vqa fit-head` wrote there) are
    /// copied in when a replica starts, unless the database has a head of that name already (what replicas wrote stays).</summary>
    private void ImportBundledHeads(PostgresCollectionStore shared)
    {
        var files = new HeadFiles(Path.Combine(model.Directory.Path, "heads"));
        var rows = new PostgresHeadDocuments(shared, model.Manifest.Id);
        foreach (var name in files.Names())
            if (files.Read(name) is { } document && rows.Import(name, document.Json))
                logger.LogInformation("Head {Name} of the model directory copied into the shared database", name);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
