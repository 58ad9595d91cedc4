using System.Text;

namespace Sessions.DistributedCache;

/// <summary>
/// The bytes of one cache entry: a whole session (values, flashes, deadlines, version and the token of the change set that
/// created it) or the end marker a destroyed or renewed session leaves under its key. Values and flashes are stored as
/// <see cref="SessionValueCodec"/> writes them (JSON, never a type name); anything that does not parse reads as absent.
/// </summary>
/// <remarks>
/// Layout (little-endian): <c>'S'</c>, format 1, kind (1 session, 2 end marker); for a session then the absolute deadline
/// in UTC ticks (0: none), the idle deadline in UTC ticks, the version, the 16 token bytes, and the values then the
/// flashes, each as a count followed by (key, payload) pairs, every string and payload length-prefixed.
/// </remarks>
internal static class SessionEntry
{
    private const byte Magic = (byte)'S';
    private const byte Format = 1;
    private const byte SessionKind = 1;
    private const byte EndedKind = 2;

    /// <summary>The bytes of an end marker.</summary>
    public static readonly byte[] Ended = [Magic, Format, EndedKind];

    /// <summary>What a cache entry holds.</summary>
    public enum Kind
    {
        /// <summary>No entry, or bytes this format did not write.</summary>
        Absent,
        /// <summary>A session.</summary>
        Session,
        /// <summary>The end marker of a destroyed or renewed session.</summary>
        Ended,
    }

    /// <summary>Writes a session with every value and flash; <paramref name="payload"/> receives what they count toward the payload limit.</summary>
    /// <exception cref="ArgumentException">A value cannot be serialised with <paramref name="options"/> (<see cref="SessionChanges.SerializerOptions"/>).</exception>
    public static byte[] Write(SessionRecord record, Guid token, out long payload, System.Text.Json.JsonSerializerOptions? options = null)
    {
        using var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true))
        {
            writer.Write(Magic);
            writer.Write(Format);
            writer.Write(SessionKind);
            writer.Write(record.AbsoluteDeadline?.UtcTicks ?? 0L);
            writer.Write(record.IdleDeadline.UtcTicks);
            writer.Write(record.Version);
            writer.Write(token.ToByteArray());
            payload = 0;
            var values = record.Values;
            writer.Write(values.Length);
            foreach (var value in values)
                payload += WriteItem(writer, value.Key, SessionValueCodec.Encode(value.Key, value.Value, options));
            var flashes = record.Flashes;
            writer.Write(flashes.Length);
            foreach (var flash in flashes)
                payload += WriteItem(writer, flash.Key, SessionValueCodec.EncodeFlash(flash.Key, flash.Value, options));
        }
        return stream.ToArray();
    }

    /// <summary>Reads an entry; a session comes back as a new record with its creating token.</summary>
    public static Kind Read(byte[]? bytes, out SessionRecord? record, out Guid token)
    {
        record = null;
        token = Guid.Empty;
        if (bytes is null || bytes.Length < 3 || bytes[0] != Magic || bytes[1] != Format)
            return Kind.Absent;
        if (bytes[2] == EndedKind)
            return bytes.Length == Ended.Length ? Kind.Ended : Kind.Absent;
        if (bytes[2] != SessionKind)
            return Kind.Absent;
        try
        {
            using var reader = new BinaryReader(new MemoryStream(bytes, 3, bytes.Length - 3, writable: false), Encoding.UTF8);
            var absolute = reader.ReadInt64();
            var idle = reader.ReadInt64();
            var version = reader.ReadInt64();
            token = new Guid(reader.ReadBytes(16));
            var read = new SessionRecord(absolute == 0 ? null : Deadline(absolute), Deadline(idle), version);
            var count = Count(reader);
            for (var i = 0; i < count; i++)
            {
                var (key, value) = ReadItem(reader);
                if (key is not null)
                    read.SetValue(key, value);
            }
            count = Count(reader);
            for (var i = 0; i < count; i++)
            {
                var (key, flash) = ReadItem(reader);
                if (key is not null)
                    read.SetFlash(key, flash.Value);
            }
            if (reader.BaseStream.Position != reader.BaseStream.Length)
                return Kind.Absent;
            record = read;
            return Kind.Session;
        }
        catch (Exception e) when (e is EndOfStreamException or IOException or ArgumentException or FormatException or DecoderFallbackException)
        {
            token = Guid.Empty;
            return Kind.Absent;
        }
    }

    private static long WriteItem(BinaryWriter writer, string key, byte[] encoded)
    {
        writer.Write(key);
        writer.Write(encoded.Length);
        writer.Write(encoded);
        return SessionValueCodec.PayloadSize(key, encoded);
    }

    /// <summary>Reads one item; a payload the codec cannot read leaves the key out (as Redis reads a corrupt field), never an exception.</summary>
    private static (string? Key, SessionValue Value) ReadItem(BinaryReader reader)
    {
        var key = reader.ReadString();
        var length = reader.ReadInt32();
        if (length < 0 || length > reader.BaseStream.Length - reader.BaseStream.Position)
            throw new EndOfStreamException();
        var encoded = reader.ReadBytes(length);
        return SessionValueCodec.TryDecode(encoded, out var value) ? (key, value) : (null, default);
    }

    /// <summary>An item count, refused before anything is allocated when the remaining bytes could not hold that many items.</summary>
    private static int Count(BinaryReader reader)
    {
        var count = reader.ReadInt32();
        if (count < 0 || count > reader.BaseStream.Length - reader.BaseStream.Position)
            throw new EndOfStreamException();
        return count;
    }

    private static DateTimeOffset Deadline(long ticks) =>
        ticks is < 0 || ticks > DateTimeOffset.MaxValue.UtcTicks ? throw new FormatException() : new DateTimeOffset(ticks, TimeSpan.Zero);
}
