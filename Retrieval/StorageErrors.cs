namespace VqaApi.Retrieval;

/// <summary>Words for a failed write that a client may see: what went wrong, never a path of the machine.</summary>
public static class StorageErrors
{
    /// <summary>"the disk is full", "the disk quota is exceeded", "the folder is not writable" or the error's message with any
    /// quoted path removed.</summary>
    public static string Describe(Exception e)
    {
        var m = e.Message;
        if (m.Contains("No space left", StringComparison.OrdinalIgnoreCase) || m.Contains("disk was full", StringComparison.OrdinalIgnoreCase) || m.Contains("not enough space", StringComparison.OrdinalIgnoreCase)) return "the disk is full";
        if (m.Contains("quota", StringComparison.OrdinalIgnoreCase)) return "the disk quota is exceeded";
        if (e is UnauthorizedAccessException || m.Contains("Permission denied", StringComparison.OrdinalIgnoreCase) || m.Contains("Read-only file system", StringComparison.OrdinalIgnoreCase))
            return "the storage folder is not writable";
        int quote = m.IndexOf(" : '", StringComparison.Ordinal);
        if (quote < 0) quote = m.IndexOf(" '/", StringComparison.Ordinal);
        return quote >= 0 ? m[..quote].TrimEnd('.', ' ') : "a storage error";
    }
}
