// go-sessions' README overview example on ASP.NET Core: /secret is 403 until /login marks the session authenticated,
// /logout ends the session.
//   dotnet run --project samples/Overview -- --urls http://127.0.0.1:8080
//   curl -i http://127.0.0.1:8080/secret     # 403
//   curl -c jar http://127.0.0.1:8080/login && curl -b jar http://127.0.0.1:8080/secret   # The cake is a lie!
using Sessions;
using Sessions.AspNetCore;

var builder = WebApplication.CreateBuilder(args);
builder.Services.AddSessions(config => config.Cookie = "mycookiesessionnameid");
var app = builder.Build();
app.UseSessions();
var sessions = app.Services.GetRequiredService<SessionManager>();

app.MapGet("/secret", (HttpContext context) =>
    // Check if user is authenticated
    sessions.Start(context).GetBoolean("authenticated", false)
        ? Results.Text("The cake is a lie!") // Print secret message
        : Results.StatusCode(StatusCodes.Status403Forbidden));

app.MapGet("/login", (HttpContext context) =>
{
    // Authentication goes here
    // ...
    sessions.RenewId(context);                          // a new ID at every privilege change (fixation defence)
    sessions.Start(context).Set("authenticated", true); // Set user as authenticated
});

// Revoke users authentication: the session is removed from the store and its cookie expired.
app.MapGet("/logout", (HttpContext context) => { sessions.Destroy(context); });

app.Run();
