using System.Buffers;
using System.Text;
using System.Text.Json;

namespace Sessions;

/// <summary>
/// What a value or flash written to a database of live records (the memory database) counts toward
/// <see cref="SessionConfig.MaxPayloadBytes"/>: about what <see cref="SessionValueCodec.PayloadSize"/> counts for a
/// serialising database, measured once, when it is written, and never on a read.
/// </summary>
/// <remarks>
/// A string counts its UTF-8 length (JSON escapes are not counted), a byte array its base64 length, an integer its
/// digits, any other number 24 bytes, a boolean its JSON text and an immutable snapshot its JSON. Any other object is
/// serialised once with System.Text.Json into a counting buffer (nothing of its size is allocated) and counts its JSON
/// length; one that cannot be serialised counts its key only. A live object changed after it was set is not counted
/// again until it is set again.
/// </remarks>
internal static class LivePayload
{
    private const int NumberBytes = 24; // the longest round-trip form of a double

    [ThreadStatic]
    private static CountingWriter? t_writer;

    /// <summary>The bytes <paramref name="value"/> under <paramref name="key"/> counts (key, one marker byte, JSON).</summary>
    public static int Measure(string key, object? value, JsonSerializerOptions? options = null)
    {
        var json = JsonLength(value, options);
        var total = Encoding.UTF8.GetByteCount(key) + 1 + json;
        return total > int.MaxValue ? int.MaxValue : (int)total;
    }

    private static long JsonLength(object? value, JsonSerializerOptions? options) => value switch
    {
        null => 4,
        string text => Encoding.UTF8.GetByteCount(text) + 2L,
        bool flag => flag ? 4 : 5,
        byte[] bytes => (bytes.Length + 2L) / 3 * 4 + 2,
        ImmutableValue snapshot => snapshot.Json.Length,
        int number => Digits(number),
        long number => Digits(number),
        short number => Digits(number),
        sbyte number => Digits(number),
        byte number => Digits(number),
        ushort number => Digits(number),
        uint number => Digits(number),
        ulong number => Digits(number),
        double or float or decimal => NumberBytes,
        char => 3,
        _ => Serialised(value, options),
    };

    private static int Digits(long number) => number < 0 ? 1 + Digits(number == long.MinValue ? (ulong)long.MaxValue + 1 : (ulong)-number) : Digits((ulong)number);

    private static int Digits(ulong number)
    {
        var digits = 1;
        while (number >= 10)
        {
            number /= 10;
            digits++;
        }
        return digits;
    }

    private static long Serialised(object value, JsonSerializerOptions? options)
    {
        var writer = t_writer ?? new CountingWriter();
        t_writer = null; // a serialiser that re-enters (a getter writing to a session) gets its own writer
        try
        {
            return writer.Count(value, options);
        }
        catch (Exception)
        {
            return 0; // not serialisable: the memory database still stores it, as it stores any object; only its key counts
        }
        finally
        {
            t_writer = writer;
        }
    }

    /// <summary>A JSON writer over a small reused buffer that only counts what it is given.</summary>
    private sealed class CountingWriter : IBufferWriter<byte>
    {
        private byte[] _buffer = new byte[1024];
        private readonly Utf8JsonWriter _json;
        private long _written;

        public CountingWriter() => _json = new Utf8JsonWriter(this);

        public long Count(object value, JsonSerializerOptions? options)
        {
            _written = 0;
            _json.Reset(this);
            try
            {
                JsonSerializer.Serialize(_json, value, value.GetType(), options);
                _json.Flush();
                return _written;
            }
            finally
            {
                _json.Reset(this);
                if (_buffer.Length > 64 * 1024)
                    _buffer = new byte[1024]; // keep no large buffer per thread
            }
        }

        public void Advance(int count) => _written += count;

        public Memory<byte> GetMemory(int sizeHint = 0) => Buffer(sizeHint);

        public Span<byte> GetSpan(int sizeHint = 0) => Buffer(sizeHint);

        private byte[] Buffer(int sizeHint)
        {
            if (sizeHint > _buffer.Length)
                _buffer = new byte[sizeHint];
            return _buffer;
        }
    }
}
