// The route contract of every sample (SPEC §7), on ASP.NET Core:
//   dotnet run --project samples/AspNetCore -- --urls http://127.0.0.1:8080 [--store memory|redis|embedded] [--redis HOST:PORT] [--db PATH]
try
{
    var app = Sessions.Samples.AspNetCore.SampleApp.Build(args);
    app.Run();
}
catch (Exception e) when (e is ArgumentException or Sessions.SessionDatabaseException)
{
    // A bad argument, or a store that cannot be opened (the embedded database in use by another process).
    Console.Error.WriteLine(e.Message);
    return 2;
}
return 0;
