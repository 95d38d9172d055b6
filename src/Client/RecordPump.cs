using System.Threading.Channels;
using Kmonitor.Client.Interop;

namespace Kmonitor.Client;

/// <summary>
/// The dedicated thread of one ReadEventsAsync enumeration: waits in poll(2) on the device and on
/// an eventfd (written to stop it), reads records in batches and hands them over through a bounded
/// channel. Bounded, so a slow consumer leaves records in the daemon's queue, whose limit then
/// drops and counts them (a Lost event) instead of this process growing without bound.
/// </summary>
internal sealed unsafe class RecordPump
{
    private const int BatchRecords = 64;

    private readonly DescriptorHandle _device;
    private readonly DescriptorHandle _wake;
    private readonly Channel<ProcessEvent> _channel = Channel.CreateBounded<ProcessEvent>(
        new BoundedChannelOptions(BatchRecords) { SingleReader = true, SingleWriter = true, FullMode = BoundedChannelFullMode.Wait });
    private readonly CancellationTokenSource _stop = new();
    private readonly Queue<ProcessEvent> _unsent = new(); // read, not yet in the channel
    private readonly Lock _stopping = new();
    private List<ProcessEvent>? _leftover;

    public RecordPump(DescriptorHandle device, DescriptorHandle wake)
    {
        _device = device;
        _wake = wake;
        Thread = new Thread(Run) { IsBackground = true, Name = "kmonitor-reader" };
        Thread.Start();
    }

    public Thread Thread { get; }

    public ChannelReader<ProcessEvent> Reader => _channel.Reader;

    /// <summary>
    /// Stops the thread and, when <paramref name="collect"/> (the consumer itself stops), returns in
    /// order what it read and nobody took. Idempotent.
    /// </summary>
    public List<ProcessEvent> Stop(bool collect)
    {
        lock (_stopping)
        {
            if (_leftover is not null)
                return [];
            _stop.Cancel();
            Wake();
            Thread.Join();
            Drain();
            _leftover = [];
            if (collect)
            {
                while (_channel.Reader.TryRead(out var e))
                    _leftover.Add(e);
                _leftover.AddRange(_unsent);
            }
            _channel.Writer.TryComplete();
            return _leftover;
        }
    }

    private void Run()
    {
        bool deviceAdded = false, wakeAdded = false;
        try
        {
            _device.DangerousAddRef(ref deviceAdded);
            _wake.DangerousAddRef(ref wakeAdded);
            Pump();
            _channel.Writer.TryComplete();
        }
        catch (Exception ex)
        {
            _channel.Writer.TryComplete(ex);
        }
        finally
        {
            if (wakeAdded)
                _wake.DangerousRelease();
            if (deviceAdded)
                _device.DangerousRelease();
        }
    }

    private void Pump()
    {
        var buffer = new byte[BatchRecords * RecordParser.RecordSize];
        var fds = stackalloc Libc.pollfd[2];
        var batch = new List<ProcessEvent>(BatchRecords);
        while (!_stop.IsCancellationRequested)
        {
            fds[0] = new Libc.pollfd { fd = _device.Number, events = Libc.POLLIN };
            fds[1] = new Libc.pollfd { fd = _wake.Number, events = Libc.POLLIN };
            if (Libc.poll(fds, 2, -1) < 0)
            {
                int errno = Errors.LastErrno;
                if (errno == Libc.EINTR)
                    continue;
                throw Errors.Call(errno, "poll");
            }
            if (fds[1].revents != 0 || _stop.IsCancellationRequested)
                return;
            if (fds[0].revents == 0)
                continue;
            batch.Clear();
            KmonitorConnection.ReadBatch(_device, buffer, batch);
            if (batch.Count == 0 && (fds[0].revents & (Libc.POLLERR | Libc.POLLHUP | Libc.POLLNVAL)) != 0)
                throw Errors.Call(Libc.ENOTCONN, "poll"); // the file is broken and will never be readable
            foreach (var e in batch)
                _unsent.Enqueue(e);
            if (!Hand())
                return;
        }
    }

    /// <summary>Moves the read records into the channel, waiting for room; false when stopped meanwhile.</summary>
    private bool Hand()
    {
        while (_unsent.TryPeek(out var e))
        {
            if (_channel.Writer.TryWrite(e))
            {
                _unsent.Dequeue();
                continue;
            }
            try
            {
                // A dedicated thread, so waiting here blocks no thread-pool thread.
                if (!_channel.Writer.WaitToWriteAsync(_stop.Token).AsTask().GetAwaiter().GetResult())
                    return false;
            }
            catch (OperationCanceledException)
            {
                return false;
            }
        }
        return true;
    }

    private void Wake()
    {
        ulong one = 1;
        Libc.write(_wake, &one, sizeof(ulong));
    }

    /// <summary>Resets the eventfd, so the next enumeration's poll does not wake at once.</summary>
    private void Drain()
    {
        ulong value;
        Libc.read(_wake, &value, sizeof(ulong));
    }
}
