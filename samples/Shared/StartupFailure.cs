namespace Sessions.Samples;

/// <summary>How every sample reports an exception that stops it: plainly when the user can fix it, in full otherwise.</summary>
internal static class StartupFailure
{
    /// <summary>
    /// The failures a user causes and can fix from the message alone (exit code 2): a bad argument (the samples' own
    /// <see cref="ArgumentException"/>) or a store that cannot be opened (<see cref="SessionDatabaseException"/>). An
    /// <see cref="ArgumentNullException"/> is never a bad command line but a bug somewhere (.NET's managed HttpListener
    /// throws one, "Value cannot be null.", from <c>Start()</c> when a client connects while it sets up its socket), so it
    /// is reported in full like any unexpected exception.
    /// </summary>
    public static bool IsExpected(Exception e) =>
        e is (ArgumentException and not ArgumentNullException) or SessionDatabaseException;

    /// <summary>Writes an unexpected exception's type, message and stack trace (inner exceptions included) to stderr (exit code 1).</summary>
    public static void ReportUnexpected(Exception e) => Console.Error.WriteLine("Unexpected failure: " + e);
}
