using VqaApi.Retrieval;

namespace VqaApi.Api.Hosting;

/// <summary>Opens every collection at start-up (snapshot + log replay), before the first request needs one.</summary>
public sealed class CollectionLoader(CollectionStore store) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) { _ = store.List(); return Task.CompletedTask; }
    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
