namespace Sessions;

/// <summary>
/// Finds the values of one cookie in a raw <c>Cookie</c> request header. Every host adapter goes through this one parser,
/// so odd headers (duplicates, quotes, commas, oversized input, non-ASCII) give the same outcome on every host.
/// </summary>
/// <remarks>
/// Rules: pairs are separated by <c>;</c> only, as browsers join cookies with <c>"; "</c> (RFC 6265 section 5.4). A comma
/// is part of a value: splitting on it would let a cookie whose value is <c>x,sid=...</c> (which a sibling subdomain can
/// set under any name) plant a session, even past a <c>__Host-</c> name. Host adapters join several <c>Cookie</c> header
/// fields with <c>"; "</c>. Whitespace around names and values is ignored; a value wrapped in double quotes is unwrapped;
/// names compare case-sensitively. The whole header the host accepted is read (the host bounds its size) and every value
/// of the name is returned, in one pass linear in the header: a cap on either would let padding or decoy values hide the
/// real cookie (cookie bombing). What bounds the work of a request is the manager's number of database lookups,
/// <see cref="SessionManager.MaxCookieLookups"/>.
/// </remarks>
public static class CookieHeaderParser
{
    /// <summary>Enumerates the values of the cookie <paramref name="name"/> in header order.</summary>
    public static Enumerator Find(string? header, string name) => new(header, name);

    /// <summary>The values of one cookie name, in header order; allocation-free.</summary>
    public ref struct Enumerator
    {
        private readonly ReadOnlySpan<char> _header;
        private readonly string _name;
        private int _position;

        internal Enumerator(string? header, string name)
        {
            _header = (header ?? string.Empty).AsSpan();
            _name = name;
            _position = 0;
            Current = default;
        }

        /// <summary>The current value (possibly empty).</summary>
        public ReadOnlySpan<char> Current { get; private set; }

        /// <summary>Returns this enumerator, so it works in <c>foreach</c>.</summary>
        public readonly Enumerator GetEnumerator() => this;

        /// <summary>Advances to the next value of the name.</summary>
        public bool MoveNext()
        {
            if (!TryNext(_header, _name, ref _position, out var value))
                return false;
            Current = value;
            return true;
        }
    }

    /// <summary>The next value of the cookie <paramref name="name"/> in <paramref name="header"/> from <paramref name="position"/>, which it advances.</summary>
    internal static bool TryNext(ReadOnlySpan<char> header, string name, scoped ref int position, out ReadOnlySpan<char> value)
    {
        while (position < header.Length)
        {
            var rest = header.Slice(position);
            var end = rest.IndexOf(';');
            var pair = end < 0 ? rest : rest.Slice(0, end);
            position += end < 0 ? rest.Length : end + 1;

            var equals = pair.IndexOf('=');
            if (equals < 0)
                continue;
            if (!Trim(pair.Slice(0, equals)).SequenceEqual(name.AsSpan()))
                continue;
            value = Trim(pair.Slice(equals + 1));
            if (value.Length >= 2 && value[0] == '"' && value[value.Length - 1] == '"')
                value = value.Slice(1, value.Length - 2);
            return true;
        }
        value = default;
        return false;
    }

    internal static ReadOnlySpan<char> Trim(ReadOnlySpan<char> text) => text.Trim(" \t".AsSpan());
}
