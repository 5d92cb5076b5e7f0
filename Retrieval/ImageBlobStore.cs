using System.Security.Cryptography;

namespace VqaApi.Retrieval;

/// <summary>
/// A collection's image files, content-addressed (<c>images/SHA256</c>), kept so that every item can be embedded again
/// with another model. A file is written beside its final name and renamed into place, so a crash never leaves a
/// half-written image under a real name.
/// </summary>
public sealed class ImageBlobStore(string folder, FsyncPolicy fsync)
{
    /// <summary>Stores the image (once per content) and returns its SHA-256; a failed write leaves nothing behind.
    /// <paramref name="created"/> says whether this call wrote the file (false when the content was already stored).</summary>
    public string Store(byte[] image, out bool created)
    {
        var sha = Convert.ToHexStringLower(SHA256.HashData(image));
        var path = Path.Combine(folder, sha);
        created = false;
        if (File.Exists(path)) return sha;
        Directory.CreateDirectory(folder);
        var temp = path + ".tmp";
        try
        {
            using (var f = new FileStream(temp, FileMode.Create, FileAccess.Write))
            {
                f.Write(image);
                f.Flush(fsync == FsyncPolicy.Always);
            }
            File.Move(temp, path, overwrite: true);
            created = true;
        }
        catch (IOException e)
        {
            try { File.Delete(temp); } catch (IOException) { }
            throw new CollectionException(CollectionErrorKind.InsufficientStorage, $"the image could not be stored ({StorageErrors.Describe(e)}); nothing was written");
        }
        return sha;
    }

    /// <summary>Removes a file this store just wrote for a write that was then refused or failed (nothing refers to it).</summary>
    public void Remove(string sha256)
    {
        try { File.Delete(Path.Combine(folder, sha256)); } catch (IOException) { }
    }

    public byte[]? Read(string sha256)
    {
        var path = Path.Combine(folder, sha256);
        return File.Exists(path) ? File.ReadAllBytes(path) : null;
    }
}
