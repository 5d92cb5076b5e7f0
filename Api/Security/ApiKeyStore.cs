using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace VqaApi.Api.Security;

/// <summary>One API key as stored: never the key itself, only its SHA-256.</summary>
public sealed record ApiKeyRecord(string Id, string Name, string Scope, string Sha256, DateTimeOffset CreatedAt, DateTimeOffset? RevokedAt = null)
{
    public bool Revoked => RevokedAt is not null;
}

/// <summary>The keys file could not be read or written; the message names the file and the problem.</summary>
public sealed class ApiKeyStoreException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// API keys in one JSON file, hashed. A key is <c>vqa_ID_SECRET</c>: the id finds the record, the SHA-256 of the whole key
/// is compared in constant time. Keys are 256-bit random secrets, so a plain SHA-256 (no salt, no stretching) cannot be
/// reversed or guessed from the file. Writes go to a temporary file renamed into place; readers reload the file when it
/// changes, so keys created or revoked with <c>vqa keys</c> take effect in a running service without a restart.
/// </summary>
public sealed class ApiKeyStore(string path)
{
    private const string Prefix = "vqa_";
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true };
    private readonly object _gate = new();
    private (DateTime Stamp, long Length, Dictionary<string, ApiKeyRecord> ById)? _loaded;

    public string Path { get; } = System.IO.Path.GetFullPath(path);

    private sealed record KeysFile(int Format, List<ApiKeyRecord> Keys);

    public IReadOnlyList<ApiKeyRecord> List() => [.. Load().Values.OrderBy(k => k.CreatedAt).ThenBy(k => k.Id, StringComparer.Ordinal)];

    /// <summary>Creates a key; the returned secret is shown once and not stored.</summary>
    public (ApiKeyRecord Record, string Key) Create(string name, string scope)
    {
        if (string.IsNullOrWhiteSpace(name) || name.Length > 100) throw new ArgumentException("a key needs a name of 1 to 100 characters");
        _ = ApiScopes.Implied(scope); // refuses an unknown scope
        lock (_gate)
        {
            var keys = Load();
            string id = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));
            string key = $"{Prefix}{id}_{Base64Url(RandomNumberGenerator.GetBytes(32))}";
            var record = new ApiKeyRecord(id, name.Trim(), scope, Hash(key), DateTimeOffset.UtcNow);
            Save([.. keys.Values, record]);
            return (record, key);
        }
    }

    /// <summary>Revokes a key by id; false when there is no such key.</summary>
    public bool Revoke(string id)
    {
        lock (_gate)
        {
            var keys = Load();
            if (!keys.TryGetValue(id, out var record)) return false;
            if (!record.Revoked) keys[id] = record with { RevokedAt = DateTimeOffset.UtcNow };
            Save([.. keys.Values]);
            return true;
        }
    }

    /// <summary>The live (not revoked) key this secret is, or null.</summary>
    public ApiKeyRecord? Find(string key)
    {
        if (!key.StartsWith(Prefix, StringComparison.Ordinal) || key.Length > 200) return null;
        int end = key.IndexOf('_', Prefix.Length);
        if (end < 0) return null;
        if (!Load().TryGetValue(key[Prefix.Length..end], out var record) || record.Revoked) return null;
        var expected = Convert.FromHexString(record.Sha256);
        return CryptographicOperations.FixedTimeEquals(expected, SHA256.HashData(Encoding.UTF8.GetBytes(key))) ? record : null;
    }

    /// <summary>How many live keys there are.</summary>
    public int LiveCount => Load().Values.Count(k => !k.Revoked);

    private Dictionary<string, ApiKeyRecord> Load()
    {
        var info = new FileInfo(Path);
        if (!info.Exists) return new(StringComparer.Ordinal);
        var current = _loaded;
        if (current is { } c && c.Stamp == info.LastWriteTimeUtc && c.Length == info.Length) return new(c.ById, StringComparer.Ordinal);
        KeysFile? file;
        try { file = JsonSerializer.Deserialize<KeysFile>(File.ReadAllBytes(Path), Json); }
        catch (Exception e) when (e is JsonException or IOException or UnauthorizedAccessException)
        {
            throw new ApiKeyStoreException($"the API keys file {Path} cannot be read: {e.Message}", e);
        }
        if (file?.Keys is null || file.Format != 1) throw new ApiKeyStoreException($"the API keys file {Path} is not a keys file of format 1");
        var byId = new Dictionary<string, ApiKeyRecord>(StringComparer.Ordinal);
        foreach (var k in file.Keys)
        {
            if (k?.Id is null || k.Sha256 is not { Length: 64 } || !ApiScopes.All.Contains(k.Scope))
                throw new ApiKeyStoreException($"the API keys file {Path} has an invalid entry{(k?.Id is null ? "" : $" ('{k.Id}')")}");
            byId[k.Id] = k;
        }
        _loaded = (info.LastWriteTimeUtc, info.Length, byId);
        return new(byId, StringComparer.Ordinal);
    }

    private void Save(List<ApiKeyRecord> keys)
    {
        var folder = System.IO.Path.GetDirectoryName(Path)!;
        var temp = System.IO.Path.Combine(folder, $".{System.IO.Path.GetFileName(Path)}.{Guid.NewGuid():N}.tmp");
        try
        {
            Directory.CreateDirectory(folder);
            File.WriteAllBytes(temp, JsonSerializer.SerializeToUtf8Bytes(new KeysFile(1, keys), Json));
            if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(temp, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            File.Move(temp, Path, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            try { File.Delete(temp); } catch (IOException) { }
            throw new ApiKeyStoreException($"the API keys file {Path} cannot be written: {e.Message}", e);
        }
        _loaded = null;
    }

    private static string Hash(string key) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
