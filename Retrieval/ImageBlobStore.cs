using System.Security.Cryptography;

namespace VqaApi.Retrieval;

/// <summary>
/// A collection's image files, content-addressed (<c>images/SHA256</c>), kept so that every item can be embedded again
/// with another model. A file is written beside its final name and renamed into place, so a crash never leaves a
/// half-written image under a real name.
/// </summary>
public sealed class ImageBlobStore(string folder, FsyncPolicy fsync)
{
    /// <summary>Stores the image (once per content) and returns its SHA-256; a failed write leaves nothing behind.</summary>
    public string Store(byte[] image)
    {
        var sha = Convert.ToHexStringLower(SHA256.HashData(image));
        var path = Path.Combine(folder, sha);
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
        }
        catch (IOException e)
        {
            try { File.Delete(temp); } catch (IOException) { }
            throw new CollectionException(CollectionErrorKind.InsufficientStorage, $"the image could not be stored ({e.Message}); nothing was written");
        }
        return sha;
    }

    public byte[]? Read(string sha256)
    {
        var path = Path.Combine(folder, sha256);
        return File.Exists(path) ? File.ReadAllBytes(path) : null;
    }
}
