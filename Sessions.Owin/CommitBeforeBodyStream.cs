namespace Sessions.Owin;

/// <summary>
/// Replaces <c>owin.ResponseBody</c> when a session is started on a database that stores copies
/// (<see cref="ISessionDatabase.SharesRecords"/> is <see langword="false"/>). An OWIN host sends the status and headers
/// on the first write or flush of the body, and from then on the response can reach the client, whose next request
/// (on another connection, or another process sharing the store) must see the change, and which must not get a
/// success when the change was not stored. So the first asynchronous write or flush awaits the session's commit
/// before passing through; after that every call goes straight to the host's stream.
/// </summary>
/// <remarks>
/// A synchronous <see cref="Write(byte[], int, int)"/> or <see cref="Flush"/> never waits for the commit: it passes
/// through when the commit has nothing to do or completed synchronously, and otherwise throws an
/// <see cref="InvalidOperationException"/> telling the application to write asynchronously (the commit it started is
/// awaited by the middleware, or by the next write). <c>BeginWrite</c>/<c>EndWrite</c> go through
/// <see cref="WriteAsync(byte[], int, int, CancellationToken)"/>. Disposing the wrapper leaves the host's stream
/// open: the host completes the response.
/// </remarks>
internal sealed class CommitBeforeBodyStream : Stream
{
    private readonly OwinCookieCarrier _carrier;
    private readonly Stream _inner;
    private bool _committed;

    public CommitBeforeBodyStream(OwinCookieCarrier carrier, Stream inner)
    {
        _carrier = carrier;
        _inner = inner;
    }

    /// <summary>The host's response body.</summary>
    public Stream Inner => _inner;

    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => _inner.CanWrite;

    public override bool CanTimeout => _inner.CanTimeout;

    public override int WriteTimeout
    {
        get => _inner.WriteTimeout;
        set => _inner.WriteTimeout = value;
    }

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
    {
        if (_committed || TryCommittedAtOnce(out var commit))
            return _inner.WriteAsync(buffer, offset, count, cancellationToken);
        return CommitThenWriteAsync(commit, buffer, offset, count, cancellationToken);
    }

    public override Task FlushAsync(CancellationToken cancellationToken)
    {
        if (_committed || TryCommittedAtOnce(out var commit))
            return _inner.FlushAsync(cancellationToken);
        return CommitThenFlushAsync(commit, cancellationToken);
    }

#if NET
    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_committed || TryCommittedAtOnce(out var commit))
            return _inner.WriteAsync(buffer, cancellationToken);
        return CommitThenWriteAsync(commit, buffer, cancellationToken);
    }

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        CommitSynchronously();
        _inner.Write(buffer);
    }
#endif

    public override void Write(byte[] buffer, int offset, int count)
    {
        CommitSynchronously();
        _inner.Write(buffer, offset, count);
    }

    public override void WriteByte(byte value)
    {
        CommitSynchronously();
        _inner.WriteByte(value);
    }

    public override void Flush()
    {
        CommitSynchronously();
        _inner.Flush();
    }

    public override IAsyncResult BeginWrite(byte[] buffer, int offset, int count, AsyncCallback? callback, object? state) =>
        AsyncResult.Begin(WriteAsync(buffer, offset, count, CancellationToken.None), callback, state);

    public override void EndWrite(IAsyncResult asyncResult) => AsyncResult.End(asyncResult);

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    /// <summary>
    /// Starts the commit; <see langword="true"/> when it completed at once (nothing to store, or a database that
    /// completed synchronously), else <paramref name="commit"/> is the commit to await. A failure propagates. Not
    /// cancelled with the write that triggered it: the host's own commit is kept even if the client went away.
    /// </summary>
    private bool TryCommittedAtOnce(out ValueTask commit)
    {
        commit = _carrier.CommitAsync(CancellationToken.None);
        if (!commit.IsCompleted)
            return false;
        commit.GetAwaiter().GetResult(); // completed: does not block; rethrows a failure, so no byte goes out
        _committed = true;
        return true;
    }

    private async Task CommitThenWriteAsync(ValueTask commit, byte[] buffer, int offset, int count, CancellationToken cancellationToken)
    {
        await commit.ConfigureAwait(false);
        _committed = true;
        await _inner.WriteAsync(buffer, offset, count, cancellationToken).ConfigureAwait(false);
    }

    private async Task CommitThenFlushAsync(ValueTask commit, CancellationToken cancellationToken)
    {
        await commit.ConfigureAwait(false);
        _committed = true;
        await _inner.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

#if NET
    private async ValueTask CommitThenWriteAsync(ValueTask commit, ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken)
    {
        await commit.ConfigureAwait(false);
        _committed = true;
        await _inner.WriteAsync(buffer, cancellationToken).ConfigureAwait(false);
    }
#endif

    /// <summary>
    /// The synchronous path: goes on only when the commit is already complete, never waiting for it. A commit still
    /// running is handed to the carrier (the middleware, or the next write, awaits it) and the write is refused.
    /// </summary>
    private void CommitSynchronously()
    {
        if (_committed)
            return;
        var commit = _carrier.CommitAsync(CancellationToken.None);
        if (commit.IsCompleted)
        {
            commit.GetAwaiter().GetResult(); // completed: does not block; rethrows a failure
            _committed = true;
            return;
        }
        _carrier.SetPendingCommit(commit.AsTask());
        throw new InvalidOperationException(
            "The session is being committed to a database that stores copies, and that commit must complete before the response headers go out. " +
            "A synchronous Write or Flush of owin.ResponseBody would block a thread waiting for it: write the response body asynchronously (WriteAsync, FlushAsync, or an awaited StreamWriter).");
    }

    /// <summary>The APM pattern over a task (what .NET 8's <c>TaskToAsyncResult</c> does, also on netstandard2.0).</summary>
    private static class AsyncResult
    {
        public static IAsyncResult Begin(Task task, AsyncCallback? callback, object? state)
        {
            var result = new TaskCompletionSource<bool>(state, TaskCreationOptions.RunContinuationsAsynchronously);
            task.ContinueWith(static (completed, box) =>
            {
                var (source, onCompleted) = ((TaskCompletionSource<bool>, AsyncCallback?))box!;
                if (completed.IsFaulted)
                    source.TrySetException(completed.Exception!.InnerExceptions);
                else if (completed.IsCanceled)
                    source.TrySetCanceled();
                else
                    source.TrySetResult(true);
                onCompleted?.Invoke(source.Task);
            }, (result, callback), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            return result.Task;
        }

        /// <summary>Ends the write; called from the callback (or after it ran) the task is complete and this does not block.</summary>
        public static void End(IAsyncResult asyncResult) => ((Task)asyncResult).GetAwaiter().GetResult();
    }
}
