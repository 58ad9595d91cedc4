namespace Sessions.Sqlite.Tests;

/// <summary>A fresh directory under the system temp folder, deleted (immutable flags cleared first) on dispose.</summary>
internal sealed class TempDirectory : IDisposable
{
    public TempDirectory()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "sessions-sqlite-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose() => Delete(Path);

    public static void Delete(string path)
    {
        try
        {
            Directory.Delete(path, recursive: true);
        }
        catch (IOException)
        {
            // a test that made something immutable restores it in its own finally; leftovers in /tmp are harmless
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
