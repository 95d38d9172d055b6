using Kmonitor.Fuse;
using Kmonitor.Fuse.Operations;
using Kmonitor.Fuse.Protocol;
using Kmonitor.Tests.Infrastructure;
using Tmds.Linux;

namespace Kmonitor.Tests.Integration;

/// <summary>
/// The protocol layer against the real kernel, on a FUSE mount of the test's own: the kernel sends
/// POLL for the one-file mount's file and wakes a poller on NotifyPoll; a read(2) the device keeps is
/// ended by a signal once the device answers the kernel's INTERRUPT.
/// </summary>
public class FuseWaitTests : WaitTests
{
    protected override IServedFile Serve(ICharacterDevice device) => new OneFileMount(device);
}

/// <summary>The same on a CUSE device of the test's own (in the VM: this machine's kernel has no CUSE).</summary>
[Trait("Requires", "cuse")]
public class CuseWaitTests : WaitTests
{
    protected override IServedFile Serve(ICharacterDevice device) => new CuseNode(device);
}

/// <summary>What both protocols must do for a device whose reads wait.</summary>
public abstract class WaitTests
{
    /// <summary>Serves <paramref name="device"/> as a file a client can open, on a connection of its own.</summary>
    protected abstract IServedFile Serve(ICharacterDevice device);

    private const int SIGUSR1 = 10;
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);

    [Fact]
    public void A_poller_sleeps_until_NotifyPoll_and_then_sees_POLLIN()
    {
        var device = new WaitingDevice();
        Served(device, ["poll"], (mount, client) =>
        {
            Assert.Equal("polling", client.ReadLine("poll"));

            // The kernel asked, was told "nothing yet" and wants a notification: the poller is asleep.
            Assert.True(device.PollerWaiting.Wait(Timeout), "no POLL with FUSE_POLL_SCHEDULE_NOTIFY reached the device");
            Assert.False(client.HasExited);
            ulong kh = device.BecomeReadable();
            mount.Session.NotifyPoll(kh);

            Assert.Equal($"revents {LibC.POLLIN}", client.ReadLine("poll after NotifyPoll"));
            Assert.True(device.Polls >= 2, "the poller woke without polling again");
            Assert.Empty(mount.Log);
        });
    }

    [Fact]
    public void A_device_without_poll_is_asked_once_and_its_file_is_always_ready()
    {
        // KmonitorDevice's answer until it has records: ENOSYS turns poll off for the connection.
        var device = new WaitingDevice { WithoutPoll = true };
        for (int round = 0; round < 2; round++)
        {
            Served(device, ["poll"], (mount, client) =>
            {
                Assert.Equal("polling", client.ReadLine("poll"));
                Assert.Equal($"revents {LibC.POLLIN}", client.ReadLine("poll of a file without poll"));
                using var second = new LineProcess(TestPaths.Native("kmblock"), ["poll", mount.FilePath]);
                Assert.Equal("polling", second.ReadLine("poll"));
                Assert.Equal($"revents {LibC.POLLIN}", second.ReadLine("second poll of a file without poll"));
            });
            Assert.Equal(round + 1, device.Polls); // once per mount (a new connection asks again)
        }
    }

    [Fact]
    public void A_signal_ends_a_read_the_device_keeps_with_EINTR()
    {
        var device = new WaitingDevice();
        Served(device, ["read"], (mount, client) =>
        {
            Assert.Equal("reading", client.ReadLine("read"));
            Assert.True(device.ReadKept.Wait(Timeout), "no READ reached the device");

            Posix.Kill(client.Pid, SIGUSR1);

            Assert.Equal("err EINTR", client.ReadLine("read after SIGUSR1"));
            // The session's thread may still be on its way back from answering.
            Assert.True(device.Interrupted.Wait(Timeout), "the client got EINTR, but not through the device's answer");
            Assert.Equal(device.KeptUnique, device.InterruptedUnique);
            // The record that would have ended the read comes too late, and is not sent.
            Assert.False(device.AnswerKeptRead("record"u8));
            Assert.Empty(mount.Log);
        });
    }

    /// <summary>
    /// Runs kmblock on the served file. The connection goes first when the test ends: a client whose
    /// read the device never answered is stuck in the kernel (not even SIGKILL ends it) until the
    /// channel closes, so a failing test must not wait for the client before closing it.
    /// </summary>
    private void Served(WaitingDevice device, string[] mode, Action<IServedFile, LineProcess> test)
    {
        var mount = Serve(device);
        LineProcess? client = null;
        try
        {
            client = new LineProcess(TestPaths.Native("kmblock"), [.. mode, mount.FilePath]);
            test(mount, client);
        }
        finally
        {
            mount.Dispose();
            client?.Dispose();
        }
    }

    /// <summary>
    /// A device whose READ waits for a record, as kmonitor's will: it keeps the reply, and answers
    /// it EINTR when its caller is interrupted. POLL answers from a readable flag, keeping the kh.
    /// </summary>
    protected sealed class WaitingDevice : ICharacterDevice
    {
        private readonly Lock _lock = new();
        private ReadReply? _kept;
        private ReadReply? _lastKept;
        private bool _readable;
        private ulong _kh;
        private int _polls;

        public ManualResetEventSlim ReadKept { get; } = new();
        public ManualResetEventSlim PollerWaiting { get; } = new();
        public ManualResetEventSlim Interrupted { get; } = new();
        public ulong KeptUnique { get; private set; }
        public ulong InterruptedUnique { get; private set; }
        public int Polls => Volatile.Read(ref _polls);

        /// <summary>Answer POLL ENOSYS, as a device that does not poll.</summary>
        public bool WithoutPoll { get; init; }

        /// <summary>Marks the file readable and returns the kh to notify.</summary>
        public ulong BecomeReadable()
        {
            lock (_lock)
            {
                _readable = true;
                return _kh;
            }
        }

        /// <summary>Answers the read kept last (even one answered already) with a record; false if it was answered already.</summary>
        public bool AnswerKeptRead(ReadOnlySpan<byte> record)
        {
            ReadReply reply;
            lock (_lock)
                reply = _lastKept!.Value;
            return reply.Data(record);
        }

        void ICharacterDevice.Open(in FuseInHeader caller, in FuseOpenIn request, OpenReply reply) =>
            reply.Opened(1, FuseConstants.FOPEN_DIRECT_IO | FuseConstants.FOPEN_NONSEEKABLE);

        void ICharacterDevice.Read(in FuseInHeader caller, in FuseReadIn request, ReadReply reply)
        {
            lock (_lock)
            {
                _kept = _lastKept = reply;
                KeptUnique = reply.Unique;
            }
            ReadKept.Set();
        }

        void ICharacterDevice.Interrupt(in FuseInHeader caller, ulong interruptedUnique)
        {
            ReadReply? reply = null;
            lock (_lock)
            {
                if (_kept is { } kept && kept.Unique == interruptedUnique)
                {
                    reply = kept;
                    _kept = null;
                }
            }
            if (reply is null)
                return;
            InterruptedUnique = interruptedUnique;
            reply.Value.Error(LibC.EINTR);
            Interrupted.Set();
        }

        void ICharacterDevice.Poll(in FuseInHeader caller, in FusePollIn request, PollReply reply)
        {
            Interlocked.Increment(ref _polls);
            if (WithoutPoll)
            {
                reply.Error(LibC.ENOSYS);
                return;
            }
            bool readable, notify = (request.Flags & FuseConstants.FUSE_POLL_SCHEDULE_NOTIFY) != 0;
            lock (_lock)
            {
                if (notify)
                    _kh = request.Kh;
                readable = _readable;
            }
            reply.Ready(readable ? (uint)LibC.POLLIN : 0);
            if (!readable && notify)
                PollerWaiting.Set();
        }

        void ICharacterDevice.Write(in FuseInHeader caller, in FuseWriteIn request, ReadOnlySpan<byte> data, WriteReply reply) => reply.Error(LibC.EINVAL);

        void ICharacterDevice.Flush(in FuseInHeader caller, in FuseFlushIn request, FuseReply reply) => reply.Success();

        void ICharacterDevice.Fsync(in FuseInHeader caller, in FuseFsyncIn request, FuseReply reply) => reply.Success();

        void ICharacterDevice.Release(in FuseInHeader caller, in FuseReleaseIn request, FuseReply reply) => reply.Success();

        void ICharacterDevice.Ioctl(in IoctlCall call, IoctlReply reply) => reply.Answer(IoctlOutcome.Done(LibC.EINVAL));
    }
}
