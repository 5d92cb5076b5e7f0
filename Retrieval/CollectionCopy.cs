namespace VqaApi.Retrieval;

/// <summary>What a copy between stores did and what its checks found.</summary>
/// <param name="Searched">Sampled items searched in the copy with their own embedding and found as their own best match.</param>
/// <param name="SearchAgreement">Of those, how many had the same top 10 (ids) in the source and in the copy.</param>
public sealed record CopyReport(string Name, int SourceCount, int TargetCount, int Searched, int SearchAgreement);

/// <summary>
/// Copies a collection from one store to another (the embedded files and PostgreSQL, either way) without re-embedding: items,
/// embeddings, metadata and images, in write order, into a staged collection that replaces the target's collection of that name
/// in one step. Then it checks the copy: the counts, and a sample of up to <see cref="SampleSize"/> items spread over the
/// collection, each searched in the copy with its own embedding (it must be its own best match) and compared with the source's
/// top 10. A check that fails throws; the copy is then served already (it holds every item that was read), so the message says so.
/// </summary>
public static class CollectionCopy
{
    public const int SampleSize = 20;
    private const int Batch = 128;

    public static async Task<CopyReport> RunAsync(ICollectionStore source, ICollectionStore target, string name, bool replace,
        Action<int, int>? progress = null, CancellationToken ct = default)
    {
        var from = await source.GetAsync(name, ct);
        if (!replace)
        {
            try
            {
                await target.GetAsync(name, ct);
                throw new CollectionException(CollectionErrorKind.Conflict, $"the target already has a collection '{name}'; pass --replace to replace it");
            }
            catch (CollectionException e) when (e.Kind == CollectionErrorKind.NotFound) { }
        }
        var staged = await target.CreateStagedAsync(from.Info, ct);
        int copied = 0, total = from.Count;
        var batch = new List<NewItem>(Batch);
        var sample = new List<(string Id, float[] Vector)>();
        int stride = Math.Max(1, total / SampleSize);
        await foreach (var stored in from.ReadAllAsync(ct))
        {
            var item = stored.Item;
            batch.Add(new NewItem(item.Id, item.Text, stored.Image, item.Metadata.ValueKind == System.Text.Json.JsonValueKind.Undefined ? null : item.Metadata, stored.Vector));
            if ((copied + batch.Count - 1) % stride == 0 && sample.Count < SampleSize) sample.Add((item.Id, stored.Vector));
            if (batch.Count == Batch) await Flush();
        }
        if (batch.Count > 0) await Flush();
        await target.ReplaceAsync(staged, ct);

        var copy = await target.GetAsync(name, ct);
        if (copy.Count != copied)
            throw new CollectionException(CollectionErrorKind.Conflict, $"collection '{name}' was copied, but the copy holds {copy.Count:N0} items where {copied:N0} were read");
        int agree = 0;
        foreach (var (id, vector) in sample)
        {
            var there = await copy.SearchAsync(vector, 10, float.NegativeInfinity, null, ct);
            if (there.Count == 0 || (there[0].Item.Id != id && there[0].Score < 0.9999f))
                throw new CollectionException(CollectionErrorKind.Conflict, $"collection '{name}' was copied, but item '{id}' is not its own best match in the copy " +
                                                                            $"(found '{(there.Count > 0 ? there[0].Item.Id : "nothing")}')");
            var here = await from.SearchAsync(vector, 10, float.NegativeInfinity, null, ct);
            if (here.Select(h => h.Item.Id).SequenceEqual(there.Select(h => h.Item.Id))) agree++;
        }
        return new CopyReport(name, from.Count, copy.Count, sample.Count, agree);

        async Task Flush()
        {
            await staged.UpsertAsync(batch, upsert: true, ct);
            copied += batch.Count;
            batch.Clear();
            progress?.Invoke(copied, total);
        }
    }
}
