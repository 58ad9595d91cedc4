// The route contract of every sample (docs/samples.md), on System.Net.HttpListener:
//   dotnet run --project samples/HttpListener -- --urls http://127.0.0.1:8080 [--store memory|redis|embedded] [--redis HOST:PORT] [--db PATH]
return await Sessions.Samples.SampleMain.RunAsync(args, Sessions.Samples.HttpListener.SampleApp.Start);
