// The route contract of every sample (docs/samples.md), on ASP.NET Core:
//   dotnet run --project samples/AspNetCore -- --urls http://127.0.0.1:8080 [--store memory|redis|embedded] [--redis HOST:PORT] [--db PATH]
try
{
    var app = Sessions.Samples.AspNetCore.SampleApp.Build(args);
    var store = Sessions.Samples.SampleOptions.Parse(args).Describe(); // Build has checked the arguments
    // The samples announce their store and URLs the same way (the Lifetime log line is below the sample's Warning level).
    app.Lifetime.ApplicationStarted.Register(() =>
    {
        Console.WriteLine(store);
        foreach (var url in app.Urls)
            Console.WriteLine("Now listening on: " + url);
    });
    app.Run();
}
catch (Exception e) when (Sessions.Samples.StartupFailure.IsExpected(e))
{
    // A bad argument, or a store that cannot be opened (the embedded database in use by another process).
    Console.Error.WriteLine(e.Message);
    return 2;
}
catch (Exception e)
{
    Sessions.Samples.StartupFailure.ReportUnexpected(e);
    return 1;
}
return 0;
