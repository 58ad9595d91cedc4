// go-sessions' README securecookie example on ASP.NET Core. Where go-sessions encodes the cookie with gorilla/securecookie
// and two keys in the source, the cookie here carries the session ID encrypted and authenticated by ASP.NET Core Data
// Protection (Sessions.DataProtection): keys kept and rotated by the key ring, no secret in the code. A changed or foreign
// cookie value fails to decode and the request gets a new session.
//   dotnet run --project samples/SecureCookie -- --urls http://127.0.0.1:8080
//   curl -c jar http://127.0.0.1:8080/set && curl -b jar http://127.0.0.1:8080/get   # The name on the /set was: iris
using Microsoft.AspNetCore.DataProtection;
using Sessions;
using Sessions.AspNetCore;
using Sessions.DataProtection;

var builder = WebApplication.CreateBuilder(args);
builder.Services.AddDataProtection();
builder.Services.AddSessions(config =>
{
    config.Cookie = "mycustomsessionid";
    config.AllowReclaim = true;
});
builder.Services.AddOptions<SessionConfig>()
    .Configure<IDataProtectionProvider>((config, provider) => config.Encoder = new DataProtectionSessionIdEncoder(provider));
var app = builder.Build();
app.UseSessions();
var sessions = app.Services.GetRequiredService<SessionManager>();

app.MapGet("/", () => "You should navigate to the /set, /get, /delete, /clear,/destroy instead");

app.MapGet("/set", (HttpContext context) =>
{
    // set session values
    var session = sessions.Start(context);
    session.Set("name", "iris");
    // test if set here
    return "All ok session setted to: " + session.GetString("name");
});

app.MapGet("/get", (HttpContext context) =>
    // get a specific key, as string; if no found returns just an empty string
    "The name on the /set was: " + sessions.Start(context).GetString("name", ""));

app.MapGet("/delete", (HttpContext context) => { sessions.Start(context).Delete("name"); }); // delete a specific key

app.MapGet("/clear", (HttpContext context) => { sessions.Start(context).Clear(); });         // remove all entries

app.MapGet("/update", (HttpContext context) => { sessions.ShiftExpiration(context); });      // updates expire date with a new date

app.MapGet("/destroy", (HttpContext context) => { sessions.Destroy(context); });              // destroy, removes the entire session and cookie

app.Run();
