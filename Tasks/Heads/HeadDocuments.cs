namespace VqaApi.Tasks.Heads;

/// <summary>A head as stored: its JSON, and a stamp that changes whenever it is written (the head store's cache key).</summary>
public sealed record HeadDocument(byte[] Json, string Stamp);

/// <summary>
/// Where a model's heads are kept: files under <c>MODEL_DIR/heads/</c> (<see cref="HeadFiles"/>, the default), or a database
/// that several API replicas share (the PostgreSQL backend). Names are checked by <see cref="HeadStore"/> before they get here.
/// </summary>
public interface IHeadDocuments
{
    /// <summary>The stored heads' names, in ordinal order.</summary>
    IReadOnlyList<string> Names();
    HeadDocument? Read(string name);
    /// <summary>The stamp <see cref="Read"/> would give now, or null when there is no such head: cheap (no document), so
    /// that a cached head is used without reading its document on every request.</summary>
    string? Stamp(string name);
    /// <summary>The stored size in bytes (0 when there is none).</summary>
    long Size(string name);
    /// <summary>Stores the head, replacing one of that name, atomically. Throws <see cref="HeadException"/>
    /// (<see cref="HeadErrorKind.InsufficientStorage"/>, <see cref="HeadErrorKind.Unavailable"/>).</summary>
    void Write(string name, byte[] json);
    /// <summary>False when there was none.</summary>
    bool Delete(string name);
    /// <summary>Where a head is, for messages ("heads/x.json").</summary>
    string Describe(string name);
}

/// <summary>Heads as JSON files under <c>MODEL_DIR/heads/</c>, written next to their final name and renamed into place.</summary>
public sealed class HeadFiles(string directory) : IHeadDocuments
{
    private string PathOf(string name) => Path.Combine(directory, name + ".json");

    public IReadOnlyList<string> Names() => Directory.Exists(directory)
        ? Directory.EnumerateFiles(directory, "*.json").Select(f => Path.GetFileNameWithoutExtension(f)).Order(StringComparer.Ordinal).ToList()
        : [];

    public HeadDocument? Read(string name)
    {
        // The stamp is taken before the bytes: a write in between leaves an older stamp on the newer bytes, which the next
        // Stamp() call sees as changed (a read again), never a newer stamp on older bytes (a stale head kept).
        if (Stamp(name) is not { } stamp) return null;
        try { return new HeadDocument(File.ReadAllBytes(PathOf(name)), stamp); }
        catch (FileNotFoundException) { return null; } // deleted meanwhile
    }

    /// <summary>The file's last write time and length (heads are written to a temporary file and renamed into place, so
    /// every write gives a new file).</summary>
    public string? Stamp(string name)
    {
        var info = new FileInfo(PathOf(name));
        return info.Exists ? $"{info.LastWriteTimeUtc.Ticks}-{info.Length}" : null;
    }

    public long Size(string name)
    {
        var info = new FileInfo(PathOf(name));
        return info.Exists ? info.Length : 0;
    }

    public void Write(string name, byte[] json)
    {
        var temp = Path.Combine(directory, $".{name}.{Guid.NewGuid():N}.tmp");
        try
        {
            Directory.CreateDirectory(directory);
            File.WriteAllBytes(temp, json);
            File.Move(temp, PathOf(name), overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            try { File.Delete(temp); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            // What went wrong, without the machine's paths (a client sees this message).
            var why = e.Message.Contains("No space left", StringComparison.OrdinalIgnoreCase) || e.Message.Contains("disk was full", StringComparison.OrdinalIgnoreCase) ? "the disk is full"
                : e is UnauthorizedAccessException || e.Message.Contains("Read-only", StringComparison.OrdinalIgnoreCase) ? "the model folder is not writable"
                : "a storage error";
            throw new HeadException(HeadErrorKind.InsufficientStorage, $"head '{name}' could not be saved ({why}); nothing was kept", e);
        }
    }

    public bool Delete(string name)
    {
        var path = PathOf(name);
        if (!File.Exists(path)) return false;
        try { File.Delete(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new HeadException(HeadErrorKind.InsufficientStorage, $"head '{name}' could not be deleted (the model folder is not writable); it is unchanged", e);
        }
        return true;
    }

    public string Describe(string name) => $"head file heads/{name}.json";
}
