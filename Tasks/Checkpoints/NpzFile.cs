using System.IO.Compression;

namespace VqaApi.Tasks.Checkpoints;

/// <summary>numpy's .npz: a zip archive of .npy arrays, one per key.</summary>
public static class NpzFile
{
    /// <summary>Reads the arrays whose key passes <paramref name="include"/> (others are never decompressed).</summary>
    public static Dictionary<string, NpyArray> Read(string path, Func<string, bool>? include = null)
    {
        using var file = File.OpenRead(path);
        return Read(file, Path.GetFileName(path), include);
    }

    public static Dictionary<string, NpyArray> Read(Stream stream, string displayName, Func<string, bool>? include = null)
    {
        ZipArchive zip;
        try { zip = new ZipArchive(stream, ZipArchiveMode.Read, leaveOpen: true); }
        catch (InvalidDataException)
        {
            throw new CheckpointFormatException(
                $"'{displayName}' is not a readable .npz archive: the zip directory is missing (the file is truncated or not a zip)");
        }
        using (zip)
        {
            var arrays = new Dictionary<string, NpyArray>(StringComparer.Ordinal);
            foreach (var entry in zip.Entries)
            {
                if (!entry.FullName.EndsWith(".npy", StringComparison.Ordinal)) continue;
                var key = entry.FullName[..^4];
                if (include is not null && !include(key)) continue;
                try
                {
                    using var entryStream = entry.Open();
                    arrays[key] = NpyArray.Read(entryStream, key);
                }
                catch (InvalidDataException e)
                {
                    throw new CheckpointFormatException($"'{displayName}' entry '{key}' is corrupt: {e.Message}");
                }
            }
            return arrays;
        }
    }

    public static void Write(string path, IEnumerable<KeyValuePair<string, NpyArray>> arrays, NpyDType dtype = NpyDType.Float32)
    {
        using var file = File.Create(path);
        using var zip = new ZipArchive(file, ZipArchiveMode.Create);
        foreach (var (key, array) in arrays)
        {
            using var entry = zip.CreateEntry(key + ".npy", CompressionLevel.NoCompression).Open();
            array.Write(entry, dtype);
        }
    }
}
