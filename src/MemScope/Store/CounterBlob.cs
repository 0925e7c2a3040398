namespace MemScope.Store;

/// <summary>
/// Compact encoding of raw counters: LEB128 varints. A counter set (meminfo, vmstat) is a sequence of
/// (key id, value) pairs, the key ids pointing into the counter_keys table; nullable fixed lists (per-CPU ticks) are
/// value+1 with 0 meaning "absent". Values are the kernel's numbers, unchanged (no rendering, no rounding).
/// </summary>
internal static class CounterBlob
{
    public static void WriteVarint(List<byte> o, ulong v)
    {
        while (v >= 0x80)
        {
            o.Add((byte)(v | 0x80));
            v >>= 7;
        }
        o.Add((byte)v);
    }

    public static ulong ReadVarint(ReadOnlySpan<byte> b, ref int pos)
    {
        ulong v = 0;
        int shift = 0;
        while (true)
        {
            if (pos >= b.Length) throw new FormatException("truncated varint");
            byte x = b[pos++];
            if (shift > 63) throw new FormatException("varint too long");
            v |= (ulong)(x & 0x7F) << shift;
            if ((x & 0x80) == 0) return v;
            shift += 7;
        }
    }

    /// <summary>Nullable value: 0 = absent, else value + 1. ulong.MaxValue cannot be stored and is kept as absent.</summary>
    public static void WriteNullable(List<byte> o, ulong? v) => WriteVarint(o, v is ulong x && x != ulong.MaxValue ? x + 1 : 0);

    public static ulong? ReadNullable(ReadOnlySpan<byte> b, ref int pos)
    {
        ulong v = ReadVarint(b, ref pos);
        return v == 0 ? null : v - 1;
    }
}
