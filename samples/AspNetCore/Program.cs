// The route contract of every sample (SPEC §7), on ASP.NET Core:
//   dotnet run --project samples/AspNetCore -- --urls http://127.0.0.1:8080 [--store memory]
try
{
    var app = Sessions.Samples.AspNetCore.SampleApp.Build(args);
    app.Run();
}
catch (ArgumentException e)
{
    Console.Error.WriteLine(e.Message);
    return 2;
}
return 0;
