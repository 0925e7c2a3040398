using System.Runtime.InteropServices;
using System.Text;

namespace MemScope.Procfs;

/// <summary>
/// Reads the kernel ring buffer through /dev/kmsg (Documentation/ABI/testing/dev-kmsg): opened O_NONBLOCK, each
/// read() returns one record "pri,seq,usec,flags;message\n" (plus " KEY=value" continuation lines), from the oldest
/// record still held; EAGAIN means we caught up; EPIPE means records were overwritten while we read (we carry on).
/// Needs root (or CAP_SYSLOG) when dmesg_restrict=1.
/// </summary>
public static class Kmsg
{
    private const int EAGAIN = 11, EPIPE = 32, EINTR = 4, EACCES = 13, EPERM = 1, ENOENT = 2, EINVAL = 22;

    /// <summary>All records currently in the buffer, as "pri,seq,usec,flags;message" lines (continuations dropped).</summary>
    public static List<string> ReadAll(string path = "/dev/kmsg", int maxRecords = 1_000_000)
    {
        using KmsgStream stream = OpenStream(path);
        return stream.ReadNew(maxRecords);
    }

    /// <summary>
    /// Opens /dev/kmsg for incremental reading: the first <see cref="KmsgStream.ReadNew"/> returns every record still
    /// held, later ones only what the kernel logged since. Throws <see cref="KernelFileException"/> (Denied without root).
    /// </summary>
    public static KmsgStream OpenStream(string path = "/dev/kmsg")
    {
        int fd = LibC.Open(path, LibC.ORdonly | LibC.ONonblock | LibC.OCloexec);
        if (fd < 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            throw new KernelFileException(errno is EACCES or EPERM ? KernelFileError.Denied : errno == ENOENT ? KernelFileError.Gone : KernelFileError.Io,
                path, $"open failed (errno {errno})");
        }
        return new KmsgStream(fd, path);
    }

    /// <summary>An open, non-blocking /dev/kmsg reader that remembers its position (the kernel keeps it per open file).</summary>
    public sealed class KmsgStream : IDisposable
    {
        private int _fd;
        private byte[] _buffer = new byte[8192];
        private readonly string _path;

        internal KmsgStream(int fd, string path)
        {
            _fd = fd;
            _path = path;
        }

        /// <summary>Records logged since the last call (at most <paramref name="maxRecords"/>), "pri,seq,usec,flags;message"; never blocks.</summary>
        public unsafe List<string> ReadNew(int maxRecords = 100_000)
        {
            ObjectDisposedException.ThrowIf(_fd < 0, this);
            var records = new List<string>(Math.Min(maxRecords, 1024));
            while (records.Count < maxRecords)
            {
                nint n;
                fixed (byte* p = _buffer) n = LibC.Read(_fd, p, _buffer.Length);
                if (n > 0)
                {
                    string rec = Encoding.UTF8.GetString(_buffer, 0, (int)n);
                    int nl = rec.IndexOf('\n');
                    records.Add(nl >= 0 ? rec[..nl] : rec);
                    continue;
                }
                if (n == 0) break;
                int errno = Marshal.GetLastPInvokeError();
                if (errno == EAGAIN) break;
                if (errno is EPIPE or EINTR) continue;
                if (errno == EINVAL && _buffer.Length < 1 << 20) { _buffer = new byte[_buffer.Length * 4]; continue; }
                throw new KernelFileException(KernelFileError.Io, _path, $"read failed (errno {errno})");
            }
            return records;
        }

        /// <summary>The sequence number of a "pri,seq,usec,flags;message" record, or null.</summary>
        public static ulong? Sequence(string record)
        {
            int c1 = record.IndexOf(',');
            if (c1 < 0) return null;
            int c2 = record.IndexOf(',', c1 + 1);
            int semi = record.IndexOf(';');
            if (c2 < 0 || semi < c2) return null;
            return ulong.TryParse(record.AsSpan(c1 + 1, c2 - c1 - 1), System.Globalization.NumberStyles.None,
                System.Globalization.CultureInfo.InvariantCulture, out ulong seq) ? seq : null;
        }

        public void Dispose()
        {
            if (_fd >= 0) LibC.Close(_fd);
            _fd = -1;
        }
    }
}
