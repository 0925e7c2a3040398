using MemScope.Units;

namespace MemScope.Tests.Units;

/// <summary>
/// Every spelling the former parsers accepted (SizeText, LabMemory.TryParseSize, LeakArgs.TryParseSize/Rate/Duration,
/// TimeSpec.TryParseSize/Duration, Durations.TryParse, ServeCommand.ParseDuration) and what all of them refuse.
/// </summary>
public class SizeAndDurationTextTests
{
    private const long K = 1024, M = K * K, G = M * K, T = G * K;

    [Theory]
    // plain bytes, number spellings
    [InlineData("4096", 4096)]
    [InlineData("0", 0)]
    [InlineData("1000", 1000)]
    [InlineData(" 64 ", 64)]
    [InlineData("1.5", 1)]                  // fractional bytes truncate
    [InlineData("1e3", 1000)]
    [InlineData("+2K", 2 * K)]
    [InlineData(".5K", 512)]
    [InlineData("5B", 5)]
    [InlineData("5b", 5)]
    [InlineData("5 B", 5)]
    [InlineData("5iB", 5)]                  // old SizeText/LabMemory read a bare "iB" as bytes
    [InlineData("5BB", 5)]                  // ... and a doubled B
    // single letters, any case
    [InlineData("64K", 64 * K)]
    [InlineData("512k", 512 * K)]
    [InlineData("100M", 100 * M)]
    [InlineData("1G", G)]
    [InlineData("2T", 2 * T)]
    [InlineData("1.5G", 3 * G / 2)]
    // KB / MB / GB / TB are binary too (record --max-size "1GB" has always meant 1 GiB)
    [InlineData("200KB", 200 * K)]
    [InlineData("512MB", 512 * M)]
    [InlineData("1GB", G)]
    [InlineData("1TB", T)]
    [InlineData("1gb", G)]
    [InlineData("5Kb", 5 * K)]
    // KiB / MiB / GiB / TiB, any case
    [InlineData("2MiB", 2 * M)]
    [InlineData("1.5MiB", 1572864)]
    [InlineData("1GiB", G)]
    [InlineData("1kib", K)]
    [InlineData("1KIB", K)]
    [InlineData("1 GiB", G)]
    // rates: a trailing "/s" is ignored
    [InlineData("1M/s", M)]
    [InlineData("1MiB/s", M)]
    [InlineData("512K/s", 512 * K)]
    [InlineData("2G/s", 2 * G)]
    [InlineData("4M/S", 4 * M)]
    [InlineData("4096/s", 4096)]
    public void Sizes(string text, long bytes)
    {
        Assert.True(SizeText.TryParse(text, out ulong u), text);
        Assert.Equal((ulong)bytes, u);
        Assert.True(SizeText.TryParse(text, out long l), text);
        Assert.Equal(bytes, l);
        Assert.True(SizeText.TryParse(text, out double d), text);
        Assert.Equal(bytes, Math.Floor(d));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("-1")]                      // negative
    [InlineData("-1K")]
    [InlineData("-0.5M")]
    [InlineData("5X")]                      // unknown unit
    [InlineData("5P")]
    [InlineData("5 parsecs")]
    [InlineData("lots")]
    [InlineData("K")]                       // unit without a number
    [InlineData("KiB")]
    [InlineData("/s")]
    [InlineData("5KK")]
    [InlineData("5 K B i")]
    [InlineData("1,5G")]                    // invariant culture only
    [InlineData("NaN")]
    [InlineData("Infinity")]
    [InlineData("∞")]
    [InlineData("1e30")]                    // overflow: 2^64 bytes and more
    [InlineData("16777216T")]               // exactly 2^64
    [InlineData("99999999999999999999")]
    public void Sizes_rejected(string? text)
    {
        Assert.False(SizeText.TryParse(text, out ulong _), text);
        Assert.False(SizeText.TryParse(text, out long _), text);
        Assert.False(SizeText.TryParse(text, out double _), text);
    }

    [Fact]
    public void Long_overflow_is_its_own_limit()
    {
        Assert.True(SizeText.TryParse("8388607T", out long below));
        Assert.Equal(8388607 * T, below);
        Assert.False(SizeText.TryParse("8388608T", out long _));                 // 2^63: fits ulong, not long
        Assert.True(SizeText.TryParse("8388608T", out ulong u));
        Assert.Equal(1UL << 63, u);
    }

    [Theory]
    // plain seconds
    [InlineData("2", 2)]
    [InlineData("1.5", 1.5)]
    [InlineData("0", 0)]
    [InlineData("0.5", 0.5)]
    [InlineData("1e3", 1000)]
    [InlineData(" 5 ", 5)]
    // one unit, any case, optional space, any number spelling
    [InlineData("500ms", 0.5)]
    [InlineData("1ms", 0.001)]
    [InlineData("5s", 5)]
    [InlineData("30s", 30)]
    [InlineData("5S", 5)]
    [InlineData("5 s", 5)]
    [InlineData("5 ms", 0.005)]
    [InlineData(".5s", 0.5)]
    [InlineData("+5s", 5)]
    [InlineData("1e3ms", 1)]
    [InlineData("0s", 0)]
    [InlineData("1m", 60)]
    [InlineData("2m", 120)]
    [InlineData("2min", 120)]
    [InlineData("2 min", 120)]
    [InlineData("90MIN", 5400)]
    [InlineData("1h", 3600)]
    [InlineData("1.5h", 5400)]
    [InlineData("12h", 43200)]
    [InlineData("7d", 604800)]
    [InlineData("1w", 604800)]
    [InlineData("1W", 604800)]
    // compound (relative history times "-1d12h", record --retain)
    [InlineData("1h30m", 5400)]
    [InlineData("1d12h", 129600)]
    [InlineData("1m30s500ms", 90.5)]
    [InlineData("1h 30m", 5400)]
    public void Durations(string text, double seconds)
    {
        Assert.True(DurationText.TryParse(text, out TimeSpan t), text);
        Assert.Equal(seconds, t.TotalSeconds, 6);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("  ")]
    [InlineData("-3s")]                     // negative
    [InlineData("-1")]
    [InlineData("1h-5m")]
    [InlineData("5x")]                      // unknown unit
    [InlineData("5 parsecs")]
    [InlineData("1y")]
    [InlineData("5sec")]
    [InlineData("abc")]
    [InlineData("soon")]
    [InlineData("s")]                       // unit without a number
    [InlineData("ms")]
    [InlineData("1h m")]
    [InlineData("5ss")]
    [InlineData("1,5s")]
    [InlineData("NaN")]
    [InlineData("nan")]                     // LeakArgs used to accept it and then throw in TimeSpan.FromSeconds
    [InlineData("Infinity")]
    [InlineData("1e300")]                   // overflow: more than TimeSpan.MaxValue
    [InlineData("1e9d")]                    // Durations used to accept it and then throw OverflowException
    [InlineData("99999999999w")]
    public void Durations_rejected(string? text) => Assert.False(DurationText.TryParse(text, out _), text);
}
