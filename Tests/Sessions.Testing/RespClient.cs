using System.Net.Sockets;
using System.Text;

namespace Sessions.Testing;

/// <summary>
/// A minimal RESP client on its own socket, for setting servers up and reading their statistics without going through
/// (or being counted with) the multiplexer under test.
/// </summary>
public sealed class RespClient : IDisposable
{
    private readonly TcpClient _client;
    private readonly NetworkStream _stream;
    private readonly BufferedStream _reader;

    private RespClient(TcpClient client)
    {
        _client = client;
        _stream = client.GetStream();
        _reader = new BufferedStream(_stream);
    }

    public static RespClient Connect(int port, int timeoutMilliseconds = 5000)
    {
        var client = new TcpClient { NoDelay = true, ReceiveTimeout = timeoutMilliseconds, SendTimeout = timeoutMilliseconds };
        try
        {
            client.Connect("127.0.0.1", port);
            return new RespClient(client);
        }
        catch
        {
            client.Dispose();
            throw;
        }
    }

    /// <summary>Runs one command; a simple, integer or bulk reply as text, an array as its elements joined by new lines.</summary>
    public string? Call(params string[] args)
    {
        var request = new StringBuilder().Append('*').Append(args.Length).Append("\r\n");
        foreach (var arg in args)
            request.Append('$').Append(Encoding.UTF8.GetByteCount(arg)).Append("\r\n").Append(arg).Append("\r\n");
        var bytes = Encoding.UTF8.GetBytes(request.ToString());
        _stream.Write(bytes, 0, bytes.Length);
        return ReadReply();
    }

    /// <summary>Runs one command with binary arguments.</summary>
    public string? Call(params byte[][] args)
    {
        using var request = new MemoryStream();
        void Write(string text) => request.Write(Encoding.ASCII.GetBytes(text));
        Write($"*{args.Length}\r\n");
        foreach (var arg in args)
        {
            Write($"${arg.Length}\r\n");
            request.Write(arg);
            Write("\r\n");
        }
        _stream.Write(request.GetBuffer(), 0, (int)request.Length);
        return ReadReply();
    }

    private string? ReadReply()
    {
        var line = ReadLine();
        switch (line[0])
        {
            case '+':
            case ':':
                return line.Substring(1);
            case '-':
                throw new InvalidOperationException("Redis error: " + line.Substring(1));
            case '$':
                var length = int.Parse(line.AsSpan(1), System.Globalization.CultureInfo.InvariantCulture);
                if (length < 0)
                    return null;
                var buffer = new byte[length + 2];
                _reader.ReadExactly(buffer);
                return Encoding.UTF8.GetString(buffer, 0, length);
            case '*':
                var count = int.Parse(line.AsSpan(1), System.Globalization.CultureInfo.InvariantCulture);
                var items = new List<string?>();
                for (var i = 0; i < count; i++)
                    items.Add(ReadReply());
                return string.Join("\n", items);
            default:
                throw new InvalidOperationException("Unexpected RESP reply: " + line);
        }
    }

    private string ReadLine()
    {
        var bytes = new List<byte>();
        while (true)
        {
            var b = _reader.ReadByte();
            if (b < 0)
                throw new EndOfStreamException("Redis closed the connection.");
            if (b == '\n' && bytes.Count > 0 && bytes[^1] == '\r')
                return Encoding.UTF8.GetString(bytes.ToArray(), 0, bytes.Count - 1);
            bytes.Add((byte)b);
        }
    }

    public void Dispose()
    {
        _reader.Dispose();
        _client.Dispose();
    }
}
