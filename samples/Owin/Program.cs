// The route contract of every sample (docs/samples.md), as an OWIN 1.0 application on the sample's own OWIN host:
//   dotnet run --project samples/Owin -- --urls http://127.0.0.1:8080 [--store memory|redis|embedded] [--redis HOST:PORT] [--db PATH]
return await Sessions.Samples.SampleMain.RunAsync(args, Sessions.Samples.Owin.SampleApp.Start);
