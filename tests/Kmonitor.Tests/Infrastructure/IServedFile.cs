using System.Collections.Concurrent;
using Kmonitor.Fuse;

namespace Kmonitor.Tests.Infrastructure;

/// <summary>A device of the test's own, served by a real session to the real kernel: a FUSE mount's file or a CUSE node.</summary>
public interface IServedFile : IDisposable
{
    FuseSession Session { get; }

    /// <summary>The file a client opens.</summary>
    string FilePath { get; }

    /// <summary>What the session logged.</summary>
    ConcurrentQueue<string> Log { get; }
}
