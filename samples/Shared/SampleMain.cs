namespace Sessions.Samples;

/// <summary>Runs a sample until Ctrl+C or SIGTERM; shared by the samples' Program.cs.</summary>
internal static class SampleMain
{
    public static async Task<int> RunAsync(string[] args, Func<string[], ListenerServer> start)
    {
        ListenerServer server;
        SampleOptions options;
        try
        {
            options = SampleOptions.Parse(args); // the sample parses them again, into its own options
            server = start(args);
        }
        catch (Exception e) when (StartupFailure.IsExpected(e))
        {
            // A bad argument, or a store that cannot be opened (the embedded database in use by another process).
            Console.Error.WriteLine(e.Message);
            return 2;
        }
        catch (Exception e)
        {
            StartupFailure.ReportUnexpected(e);
            return 1;
        }
        await using (server)
        {
            var stop = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
            Console.CancelKeyPress += (_, e) =>
            {
                e.Cancel = true;
                stop.TrySetResult(true);
            };
            using var sigterm = System.Runtime.InteropServices.PosixSignalRegistration.Create(
                System.Runtime.InteropServices.PosixSignal.SIGTERM, context =>
                {
                    context.Cancel = true;
                    stop.TrySetResult(true);
                });
            Console.WriteLine(options.Describe());
            foreach (var url in server.Urls)
                Console.WriteLine("Now listening on: " + url);
            await stop.Task.ConfigureAwait(false);
        }
        return 0;
    }
}
