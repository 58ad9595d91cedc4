using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Sessions.Testing;

/// <summary>
/// A logger provider (and factory, for code that takes one) that keeps every event at every level: category, event ID,
/// level, the formatted message, the structured values and the exception. Thread-safe.
/// </summary>
public sealed class LogCapture : ILoggerProvider, ILoggerFactory
{
    private readonly ConcurrentQueue<LogEntry> _entries = new();

    /// <summary>Every event logged so far, in order.</summary>
    public IReadOnlyList<LogEntry> Entries => [.. _entries];

    /// <summary>The events with <paramref name="eventId"/> in a category of Sessions (other libraries reuse the same numbers).</summary>
    public IReadOnlyList<LogEntry> WithId(int eventId) =>
        Entries.Where(e => e.EventId.Id == eventId && e.Category.StartsWith("Sessions.", StringComparison.Ordinal)).ToList();

    /// <summary>Everything an event exposes as text: message, values, exception (with inner ones), for "never in a log" checks.</summary>
    public IEnumerable<string> AllText() => Entries.SelectMany(e => e.AllText());

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void AddProvider(ILoggerProvider provider) => throw new NotSupportedException("LogCapture is its own only provider.");

    public void Dispose()
    {
    }

    private sealed class Logger(LogCapture capture, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var values = state as IReadOnlyList<KeyValuePair<string, object?>> ?? [];
            capture._entries.Enqueue(new LogEntry(category, eventId, logLevel, formatter(state, exception), values.ToList(), exception));
        }
    }
}

/// <summary>One captured log event.</summary>
public sealed record LogEntry(string Category, EventId EventId, LogLevel Level, string Message, IReadOnlyList<KeyValuePair<string, object?>> Values, Exception? Exception)
{
    /// <summary>The value named <paramref name="name"/> in the event's structured state.</summary>
    public object? Value(string name) => Values.FirstOrDefault(v => v.Key == name).Value;

    public IEnumerable<string> AllText()
    {
        yield return Message;
        foreach (var value in Values)
            yield return value.Value?.ToString() ?? string.Empty;
        for (var e = Exception; e is not null; e = e.InnerException)
            yield return e.ToString();
    }
}
