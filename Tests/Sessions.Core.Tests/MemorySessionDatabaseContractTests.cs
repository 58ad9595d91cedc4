using Sessions.Testing;

namespace Sessions.Core.Tests;

/// <summary>The store contract on the memory database (live records shared by every request of a session).</summary>
[TestFixture]
public sealed class MemorySessionDatabaseContractTests : SessionDatabaseContract
{
    protected override ISessionDatabase CreateDatabase() => new MemorySessionDatabase(Time);
}
