using System.Text.Json;

namespace VqaApi.Retrieval;

/// <summary>What a salvage found and kept.</summary>
public sealed record SalvageReport(string Collection, int ItemsKept, long RecordsRead, IReadOnlyList<string> Damage, string DamagedFilesKeptIn);

/// <summary>
/// Recovers a damaged collection: every intact record of its snapshot and log segments is read, skipping each damaged
/// stretch to the next intact record; for every id the newest surviving record wins (a delete removes it). The result is
/// written as a fresh collection (one log segment, original sequence numbers, the image files copied), checked by opening
/// it, and put in place; the damaged folder is kept beside it, renamed, untouched. Run it while the service is stopped or
/// reports the collection damaged (it does not serve it then).
/// </summary>
public static class CollectionSalvage
{
    public static SalvageReport Salvage(string directory, CollectionOptions options)
    {
        directory = Path.GetFullPath(directory.TrimEnd(Path.DirectorySeparatorChar));
        var infoPath = Path.Combine(directory, Collection.InfoFile);
        if (!File.Exists(infoPath)) throw new CollectionException(CollectionErrorKind.NotFound, $"{directory} is not a collection (no {Collection.InfoFile})");
        var info = JsonSerializer.Deserialize<CollectionInfo>(File.ReadAllText(infoPath), Collection.JsonOptions)
                   ?? throw new InvalidDataException($"{Collection.InfoFile} is empty");

        var newest = new Dictionary<string, (LogRecord Record, float[]? Vector)>(StringComparer.Ordinal);
        long read = 0;
        var damage = new List<string>();
        void Visit(LogRecord r, ReadOnlySpan<float> v)
        {
            read++;
            if (newest.TryGetValue(r.Id, out var seen) && seen.Record.Sequence >= r.Sequence) return;
            newest[r.Id] = (r, r.Op == LogRecord.Upsert ? v.ToArray() : null);
        }
        var files = new List<string>();
        if (File.Exists(Path.Combine(directory, Collection.SnapshotFile))) files.Add(Path.Combine(directory, Collection.SnapshotFile));
        files.AddRange(Collection.LogSegments(directory).Select(s => s.Path));
        foreach (var file in files)
        {
            using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
            foreach (var d in CollectionLog.ReadAllIntact(stream, Visit)) damage.Add(d.Describe(Path.GetFileName(file)));
        }

        var kept = newest.Values.Where(e => e.Record.Op == LogRecord.Upsert).OrderBy(e => e.Record.Sequence).ToList();
        var stamp = DateTime.UtcNow.ToString("yyyyMMdd-HHmmss");
        var built = $"{directory}.salvage-{stamp}";
        var aside = $"{directory}.damaged-{stamp}";
        Directory.CreateDirectory(built);
        try
        {
            File.Copy(infoPath, Path.Combine(built, Collection.InfoFile));
            using (var log = new FileStream(Path.Combine(built, "log.000001.bin"), FileMode.CreateNew, FileAccess.Write))
            {
                foreach (var (record, vector) in kept) CollectionLog.WriteFramed(log, record, vector);
                log.Flush(true);
            }
            var images = Path.Combine(directory, Collection.ImageFolder);
            if (Directory.Exists(images))
            {
                var target = Directory.CreateDirectory(Path.Combine(built, Collection.ImageFolder)).FullName;
                foreach (var sha in kept.Select(e => e.Record.ImageSha256).OfType<string>().Distinct())
                    if (File.Exists(Path.Combine(images, sha))) File.Copy(Path.Combine(images, sha), Path.Combine(target, sha));
            }
            using (var check = Collection.Open(built, new CollectionOptions { Float16 = options.Float16, HnswThreshold = int.MaxValue, Fsync = options.Fsync }))
                if (check.Count != kept.Count) throw new InvalidDataException($"the salvaged collection holds {check.Count} items, not {kept.Count}");
        }
        catch
        {
            try { Directory.Delete(built, true); } catch (IOException) { }
            throw;
        }
        Directory.Move(directory, aside);
        Directory.Move(built, directory);
        return new SalvageReport(info.Name, kept.Count, read, damage, aside);
    }
}
