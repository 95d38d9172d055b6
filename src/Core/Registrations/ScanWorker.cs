using System.Collections.Concurrent;
using Kmonitor.Diagnostics;
using Kmonitor.Interop;

namespace Kmonitor.Registrations;

/// <summary>
/// Runs the requests that need a slow scan of /proc (translating the pid a caller in another pid
/// namespace names), one after another on a thread of its own, so the FUSE request thread never
/// waits for one: such a request is answered when its work is done. Started on first use.
/// </summary>
public sealed class ScanWorker : IDisposable
{
    private readonly BlockingCollection<(Func<int> Work, TaskCompletionSource<int> Done)> _queue = new();
    private readonly Lazy<Thread> _thread;

    public ScanWorker()
    {
        _thread = new Lazy<Thread>(() =>
        {
            var thread = new Thread(Run) { Name = "kmonitor-proc-scan", IsBackground = true };
            thread.Start();
            return thread;
        });
    }

    /// <summary>Queues <paramref name="work"/>; its result is the request's errno.</summary>
    public ValueTask<int> Run(Func<int> work)
    {
        // Continuations run on the worker (they only write the answer), not on the thread pool.
        var done = new TaskCompletionSource<int>();
        try
        {
            _ = _thread.Value;
            _queue.Add((work, done));
        }
        catch (InvalidOperationException)
        {
            done.SetResult(Errno.ENOTCONN); // stopping: the device is going away
        }
        return new ValueTask<int>(done.Task);
    }

    private void Run()
    {
        foreach (var (work, done) in _queue.GetConsumingEnumerable())
        {
            int result;
            try
            {
                result = work();
            }
            catch (Exception e)
            {
                // A bug in one request's handling fails that request, not the daemon.
                Log.Error($"a request handed to the /proc scanner failed: {e.GetType().Name}: {e.Message}");
                result = Errno.EIO;
            }
            done.SetResult(result);
        }
    }

    /// <summary>
    /// For a handover, once no request can come any more: takes no more work and returns when every
    /// queued scan has finished and answered its request, so that no caller is left waiting on an
    /// instance that is about to exit.
    /// </summary>
    public void Finish()
    {
        _queue.CompleteAdding();
        if (_thread.IsValueCreated)
            _thread.Value.Join();
    }

    public void Dispose() => Finish();
}
