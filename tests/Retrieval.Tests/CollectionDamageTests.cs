using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace VqaApi.Retrieval.Tests;

/// <summary>
/// Damage on disk is reported, never silently cut away: a flipped byte in the middle of a log or in a snapshot makes the
/// collection refuse to open (the file untouched, the offset named), the store refuses the collection rather than hiding or
/// overwriting it, and salvage keeps every intact record.
/// </summary>
public sealed class CollectionDamageTests : IDisposable
{
    private readonly TempDir _tmp = new();
    public void Dispose() => _tmp.Dispose();

    private static float[] Vector(int i)
    {
        var v = new float[8];
        for (int k = 0; k < 8; k++) v[k] = MathF.Sin(i * 0.7f + k);
        float n = MathF.Sqrt(v.Sum(x => x * x));
        return v.Select(x => x / n).ToArray();
    }

    private string Build(string name, int items, CollectionOptions options, string? folder = null)
    {
        var dir = folder is null ? _tmp.File(name) : Path.Combine(folder, name);
        using var c = Collection.Create(dir, new CollectionInfo(name, "m", "p", 8, DateTimeOffset.UtcNow), options);
        for (int i = 0; i < items; i += 10)
            c.Upsert(Enumerable.Range(i, 10).Select(k => new NewItem($"item{k}", $"text of item {k}", null, null, Vector(k))).ToList(), upsert: false);
        c.WaitForBackgroundSnapshot();
        return dir;
    }

    [Fact]
    public void A_flipped_byte_in_the_middle_of_the_log_refuses_the_collection_and_salvage_keeps_every_intact_record()
    {
        var options = new CollectionOptions { SnapshotEveryRecords = 1_000_000 };
        var dir = Build("c", 2000, options);
        var log = Collection.LogSegments(dir)[^1].Path;
        var bytes = File.ReadAllBytes(log);
        bytes[bytes.Length / 2] ^= 0x40;
        File.WriteAllBytes(log, bytes);

        var e = Assert.Throws<LogDamagedException>(() => Collection.Open(dir, options));
        Assert.False(e.Damage.TornTail);
        Assert.NotNull(e.Damage.NextIntact);
        Assert.InRange(e.Damage.Offset, bytes.Length / 2 - 200, bytes.Length / 2);
        Assert.Contains("intact records follow", e.Message);
        Assert.Equal(bytes, File.ReadAllBytes(log)); // not truncated

        var report = CollectionSalvage.Salvage(dir, options);
        Assert.Equal(1999, report.ItemsKept); // the one damaged record, nothing more
        Assert.Single(report.Damage);
        Assert.Equal(bytes, File.ReadAllBytes(Path.Combine(report.DamagedFilesKeptIn, Path.GetFileName(log)))); // kept, untouched
        using var salvaged = Collection.Open(dir, options);
        Assert.Equal(1999, salvaged.Count);
        Assert.Equal(1, Enumerable.Range(0, 2000).Count(i => salvaged.Get($"item{i}") is null));
        Assert.Equal("text of item 1999", salvaged.Get("item1999")!.Text);
        salvaged.Upsert([new NewItem("new", null, null, null, Vector(5000))], upsert: false); // writable again
    }

    [Fact]
    public void A_damaged_snapshot_refuses_the_collection_and_salvage_keeps_the_rest()
    {
        var options = new CollectionOptions { SnapshotEveryRecords = 500 };
        var dir = Build("s", 1000, options);
        var snapshot = Path.Combine(dir, Collection.SnapshotFile);
        Assert.True(File.Exists(snapshot));
        var bytes = File.ReadAllBytes(snapshot);
        bytes[bytes.Length / 3] ^= 0x01;
        File.WriteAllBytes(snapshot, bytes);

        var e = Assert.Throws<LogDamagedException>(() => Collection.Open(dir, options));
        Assert.Contains(Collection.SnapshotFile, e.Message);
        var report = CollectionSalvage.Salvage(dir, options);
        Assert.Equal(999, report.ItemsKept);
        using var salvaged = Collection.Open(dir, options);
        Assert.Equal(999, salvaged.Count);
    }

    [Fact]
    public void The_store_refuses_a_damaged_collection_instead_of_hiding_or_replacing_it()
    {
        var root = _tmp.File("root");
        var options = new CollectionOptions { Root = root, SnapshotEveryRecords = 1_000_000 };
        Build("kept", 20, options, root);
        var dir = Build("broken", 200, options, root);
        var log = Collection.LogSegments(dir)[^1].Path;
        var bytes = File.ReadAllBytes(log);
        bytes[100] ^= 0xFF;
        File.WriteAllBytes(log, bytes);

        using var store = new CollectionStore(Options.Create(options), NullLogger<CollectionStore>.Instance);
        Assert.Equal(["kept"], store.List().Select(c => c.Info.Name));
        Assert.Contains("broken", store.Damaged.Keys);
        var get = Assert.Throws<CollectionException>(() => store.Get("broken"));
        Assert.Equal(CollectionErrorKind.Damaged, get.Kind);
        Assert.Contains("vqa salvage --collection broken", get.Message);
        Assert.DoesNotContain(root, get.Message); // no path of the machine in what a client may see
        Assert.Equal(CollectionErrorKind.Damaged, Assert.Throws<CollectionException>(() => store.Create("broken", "m", "p", 8)).Kind);
        Assert.Equal(CollectionErrorKind.Damaged, Assert.Throws<CollectionException>(() => store.Delete("broken")).Kind);
        Assert.Equal(bytes, File.ReadAllBytes(log));
    }
}
