using Sessions.Testing;
using static Sessions.Core.Tests.TestSupport;

namespace Sessions.Core.Tests;

/// <summary>
/// A page built from a session must not be kept by a shared cache and served to another user (Django's CVE-2014-1418):
/// the core asks the host to mark every response of a request that started a session private, once, whether or not it
/// writes a cookie.
/// </summary>
public class SharedCacheTests
{
    [Test]
    public void Shared_cache_cannot_keep_a_read_only_session_page()
    {
        using var manager = NewManager();
        var next = EstablishedRequest(manager).NextRequest();

        manager.Start(next).GetString("k").Should().Be("v");

        next.Written.Should().BeEmpty("a read sets no cookie");
        next.PrivateMarks.Should().Be(1, "the response still depends on the cookie");
    }

    [Test]
    public void Shared_cache_cannot_keep_a_page_of_a_request_without_a_session()
    {
        using var manager = NewManager();
        var request = new TestCarrier();

        manager.Start(request).Get("k").Should().BeNull();

        request.PrivateMarks.Should().Be(1, "the page of a request without the cookie differs from one with it");
    }

    [Test]
    public async Task The_response_is_marked_once_per_request_however_often_the_session_is_started()
    {
        using var manager = NewManager(configure: c => c.AllowReclaim = true);
        var request = EstablishedRequest(manager).NextRequest();

        manager.Start(request);
        await manager.StartAsync(request);
        manager.RenewId(request);
        manager.Destroy(request);
        manager.Start(request).Set("k", "again");

        request.PrivateMarks.Should().Be(1);
    }
}
