namespace VqaApi.Tasks.Heads;

/// <summary>Why a head cannot be fitted, found or used; the API decides what each kind means in HTTP.</summary>
public enum HeadErrorKind
{
    /// <summary>The request is wrong (a bad name, task, label or example).</summary>
    Invalid,
    /// <summary>No such head for the served model.</summary>
    NotFound,
    /// <summary>The head exists already, or was fitted on another model.</summary>
    Conflict,
    /// <summary>Too many fits are running.</summary>
    Busy,
    /// <summary>The head file is unreadable or holds invalid weights.</summary>
    Unreadable,
    /// <summary>The head ships with the model and is not changed through the service.</summary>
    ReadOnly,
    /// <summary>The head could not be written: the disk is full or the model folder is not writable.</summary>
    InsufficientStorage,
    /// <summary>The shared store of heads (a database) cannot be reached now; nothing was changed.</summary>
    Unavailable,
}

/// <summary>A head that cannot be used: unknown, invalid, or fitted on another model.</summary>
public sealed class HeadException(HeadErrorKind kind, string message, Exception? inner = null) : Exception(message, inner)
{
    public HeadErrorKind Kind { get; } = kind;
}
