namespace MemScope.Store;

/// <summary>Why a recording could not be used.</summary>
public enum StoreError
{
    /// <summary>The file is a database, but not a MemScope recording.</summary>
    NotMemScope,
    /// <summary>The file is not a SQLite database, or its pages are damaged.</summary>
    Corrupt,
    /// <summary>Written by a newer MemScope whose schema this build cannot read.</summary>
    NewerSchema,
    /// <summary>No such file, or no sample at the time asked for.</summary>
    NotFound,
    /// <summary>The file cannot be opened or written (permissions, disk full).</summary>
    Io,
}

/// <summary>A recording that cannot be opened, read or written, with a message meant for the user.</summary>
public sealed class StoreException(StoreError error, string message, Exception? inner = null) : Exception(message, inner)
{
    public StoreError Error { get; } = error;
}
