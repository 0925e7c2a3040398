namespace MemScope.Model;

/// <summary>
/// uid → user name from an /etc/passwd file, read once and cached. A uid with no entry (a container's user, a
/// deleted account) shows as its number, as ps does. Name → uid works too, for filters like `--user alice`.
/// </summary>
public sealed class UserNames
{
    private readonly string _path;
    private Dictionary<uint, string>? _byUid;
    private Dictionary<string, uint>? _byName;

    public UserNames(string passwdPath = "/etc/passwd") => _path = passwdPath;

    /// <summary>The shared instance for the machine's /etc/passwd.</summary>
    public static UserNames System { get; } = new();

    public string NameOf(uint? uid)
    {
        if (uid is not uint u) return "?";
        Load();
        return _byUid!.TryGetValue(u, out string? name) ? name : u.ToString(global::System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>The uid of a user name or a numeric uid; null when neither.</summary>
    public uint? UidOf(string nameOrUid)
    {
        if (uint.TryParse(nameOrUid, out uint uid)) return uid;
        Load();
        return _byName!.TryGetValue(nameOrUid, out uint u) ? u : null;
    }

    private void Load()
    {
        if (_byUid is not null) return;
        var byUid = new Dictionary<uint, string>();
        var byName = new Dictionary<string, uint>(StringComparer.Ordinal);
        try
        {
            foreach (string line in File.ReadLines(_path))
            {
                // name:password:uid:gid:gecos:home:shell
                ReadOnlySpan<char> s = line;
                int a = s.IndexOf(':');
                if (a <= 0) continue;
                ReadOnlySpan<char> rest = s[(a + 1)..];
                int b = rest.IndexOf(':');
                if (b < 0) continue;
                rest = rest[(b + 1)..];
                int c = rest.IndexOf(':');
                ReadOnlySpan<char> uidText = c < 0 ? rest : rest[..c];
                if (!uint.TryParse(uidText, out uint uid)) continue;
                string name = line[..a];
                byUid.TryAdd(uid, name);   // first entry wins, as getpwuid does
                byName.TryAdd(name, uid);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // no passwd file (minimal container): every uid shows as its number
        }
        _byName = byName;
        _byUid = byUid;
    }
}
