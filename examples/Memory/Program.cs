using Sessions.AspNetCore;

var builder = WebApplication.CreateBuilder(args);
builder.Services.AddSessions(config => config.Cookie = "app_sid");   // in-memory sessions, one process
var app = builder.Build();
app.UseSessions();

app.MapGet("/", async (HttpContext context) =>
{
    var session = await context.GetSessionAsync();
    return $"visits: {session.Increment("visits")}";
});

app.Run();
