using StackExchange.Redis;

namespace Sessions.Redis;

/// <summary>
/// Group commit on one Redis server: a commit that arrives while another is on its way waits for it to come back, and
/// the commits that gathered meanwhile then go together, as one run of <see cref="RedisScripts.CommitMany"/>. A lone
/// commit goes at once, as the plain commit script. Each commit in a group stays atomic and gets its own answer (a
/// Redis error in one does not touch the others); the group only shares the script call and its round trip, and with
/// them the per-call work of the client and the server.
/// </summary>
/// <remarks>
/// Used only on a standalone server: in a cluster (or behind a proxy) the keys of two sessions live in different slots,
/// and one script cannot touch both. Should Redis refuse a group as cross-slot all the same, its commits fail (nothing
/// of them was applied) and grouping stops (<see cref="Grouping"/>).
/// <para>
/// A commit that waits behind a group that timed out or lost its connection fails with that group: it waited on a
/// Redis that did not answer, and sending it then could take it past the operation timeout a second time.
/// </para>
/// </remarks>
internal sealed class RedisCommitBatcher(IDatabase database)
{
    /// <summary>The most commits one script run applies (about 8 µs of server time each): a burst past it goes as several.</summary>
    internal const int MaxCommits = 64;

    private readonly object _gate = new();
    private List<Commit> _waiting = [];
    private bool _sending;
    private volatile bool _stopped;

    /// <summary>Sends one commit (<see cref="RedisScripts.Commit"/>'s keys and arguments) now or with the next group; its answer.</summary>
    public Task<RedisResult> CommitAsync(RedisKey[] keys, RedisValue[] argv)
    {
        var commit = new Commit(keys, argv);
        List<Commit>? group = null;
        lock (_gate)
        {
            if (!_sending)
            {
                _sending = true;
                group = [commit];
            }
            else
            {
                _waiting.Add(commit);
                if (_waiting.Count >= MaxCommits)
                {
                    // A full group goes now, next to the one on its way, rather than wait for it.
                    group = _waiting;
                    _waiting = [];
                }
            }
        }
        if (group is not null)
            Send(group, byText: false);
        return commit.Task;
    }

    private void Send(List<Commit> group, bool byText)
    {
        Task<RedisResult> reply;
        try
        {
            reply = group.Count == 1
                ? (byText ? database.ScriptEvaluateAsync(RedisScripts.Commit.Text, group[0].Keys, group[0].Argv) : database.ScriptEvaluateAsync(RedisScripts.Commit.Hash, group[0].Keys, group[0].Argv))
                : SendGroup(group, byText);
        }
        catch (Exception e)
        {
            reply = Task.FromException<RedisResult>(e); // failed before sending: answered as any failure
        }
        reply.ContinueWith(static (t, state) => ((Sent)state!).Answer(t), new Sent(this, group, byText), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    /// <summary>Keys and arguments of a group: each commit's key count and argument count, then its arguments; its keys in order.</summary>
    private Task<RedisResult> SendGroup(List<Commit> group, bool byText)
    {
        int keyCount = 0, argCount = 0;
        foreach (var commit in group)
        {
            keyCount += commit.Keys.Length;
            argCount += 2 + commit.Argv.Length;
        }
        var keys = new RedisKey[keyCount];
        var argv = new RedisValue[argCount];
        int k = 0, a = 0;
        foreach (var commit in group)
        {
            commit.Keys.CopyTo(keys, k);
            k += commit.Keys.Length;
            argv[a++] = commit.Keys.Length;
            argv[a++] = commit.Argv.Length;
            commit.Argv.CopyTo(argv, a);
            a += commit.Argv.Length;
        }
        return byText ? database.ScriptEvaluateAsync(RedisScripts.CommitMany.Text, keys, argv) : database.ScriptEvaluateAsync(RedisScripts.CommitMany.Hash, keys, argv);
    }

    /// <summary>A group came back: the next one goes first, then every commit of this one gets its answer.</summary>
    private void Answered(List<Commit> group, bool byText, Task<RedisResult> reply)
    {
        var failure = reply.IsFaulted ? reply.Exception!.InnerException ?? reply.Exception : reply.IsCanceled ? new TaskCanceledException(reply) : null;
        if (failure is RedisServerException server && !byText && server.Message.StartsWith("NOSCRIPT", StringComparison.Ordinal))
        {
            Send(group, byText: true); // first run on this server, or its script cache was flushed: EVAL sends the text and caches it
            return;
        }
        if (failure is RedisServerException crossSlot && crossSlot.Message.StartsWith("CROSSSLOT", StringComparison.Ordinal))
            _stopped = true; // not one server after all (nothing was applied): these commits fail, later ones go on their own
        var unanswered = failure is TimeoutException or RedisConnectionException;
        List<Commit>? next = null;
        List<Commit>? failedWithIt = null;
        lock (_gate)
        {
            if (_waiting.Count == 0)
                _sending = false;
            else if (unanswered)
            {
                failedWithIt = _waiting;
                _waiting = [];
                _sending = false;
            }
            else
            {
                next = _waiting;
                _waiting = [];
            }
        }
        if (next is not null)
            Send(next, byText: false);
        if (failedWithIt is not null)
            group.AddRange(failedWithIt);
        // One answer per commit of a group; any other reply leaves every commit unanswered below, and so failed.
        var results = failure is null && group.Count > 1 ? reply.Result is { Resp2Type: ResultType.Array } array ? (RedisResult[])array! : [] : null;
        // Every answer but the last continues its request on the thread pool; the last, here.
        for (var i = 0; i < group.Count; i++)
        {
            var commit = group[i];
            if (failure is not null)
                commit.Failure = failure;
            else if (results is null)
                commit.Result = reply.Result;
            else if (i >= results.Length)
                commit.Failure = new RedisServerException(RedisErrorKind.Unknown, CommandFlags.None, $"The group commit script answered {results.Length} of {group.Count} commits.");
            else if (results[i].Resp2Type == ResultType.Array && results[i].Length == 1)
                commit.Failure = new RedisServerException(RedisErrorKind.Unknown, CommandFlags.None, (string?)results[i][0] ?? "ERR the commit failed"); // {error}: this commit's own Redis error
            else
                commit.Result = results[i];
            if (i == group.Count - 1)
                commit.Complete();
            else
                commit.CompleteOnThreadPool();
        }
    }

    /// <summary>Whether commits may go in groups: until Redis refused one as cross-slot.</summary>
    public bool Grouping => !_stopped;

    /// <summary>One commit waiting for its answer.</summary>
    private sealed class Commit(RedisKey[] keys, RedisValue[] argv) : TaskCompletionSource<RedisResult>
#if NET
        , IThreadPoolWorkItem
#endif
    {
        public RedisKey[] Keys { get; } = keys;

        public RedisValue[] Argv { get; } = argv;

        public RedisResult? Result { get; set; }

        public Exception? Failure { get; set; }

        public void Complete()
        {
            if (Failure is null)
                TrySetResult(Result!);
            else
                TrySetException(Failure);
        }

#if NET
        public void CompleteOnThreadPool() => ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);

        void IThreadPoolWorkItem.Execute() => Complete();
#else
        public void CompleteOnThreadPool() => ThreadPool.UnsafeQueueUserWorkItem(static state => ((Commit)state!).Complete(), this);
#endif
    }

    /// <summary>A group on its way.</summary>
    private sealed class Sent(RedisCommitBatcher batcher, List<Commit> group, bool byText)
    {
        public void Answer(Task<RedisResult> reply) => batcher.Answered(group, byText, reply);
    }
}
