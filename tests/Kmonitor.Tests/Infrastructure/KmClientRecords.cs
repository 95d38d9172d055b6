using Kmonitor.Abi;

namespace Kmonitor.Tests.Infrastructure;

/// <summary>kmclient's commands for records and subscriptions (tests/clients/kmrecords.c).</summary>
public sealed partial class KmClient
{
    /// <summary>SUBSCRIBE; returns "ok ID" or "err NAME".</summary>
    public string Subscribe(int fd, uint scope, int type, int pid = 0, int signal = 0, uint flags = 0, string pattern = "") =>
        Send(pattern.Length == 0
            ? $"sub {fd} {scope} {type} {pid} {signal} {flags}"
            : $"sub {fd} {scope} {type} {pid} {signal} {flags} {pattern}");

    /// <summary>SUBSCRIBE that must succeed; returns the id.</summary>
    public uint SubscribeOk(int fd, uint scope, int type, int pid = 0, int signal = 0, uint flags = 0, string pattern = "")
    {
        var answer = Subscribe(fd, scope, type, pid, signal, flags, pattern);
        if (!answer.StartsWith("ok "))
            throw new InvalidOperationException($"SUBSCRIBE scope {scope} type 0x{type:X} pid {pid} signal {signal} flags {flags} pattern '{pattern}': {answer}");
        return uint.Parse(answer[3..]);
    }

    /// <summary>SUBSCRIBE whose 232 pattern bytes are all <paramref name="fill"/> (no NUL).</summary>
    public string SubscribeFilled(int fd, uint scope, int type, byte fill, int pid = 0, int signal = 0, uint flags = 0) =>
        Send($"subfill {fd} {scope} {type} {pid} {signal} {flags} {fill}");

    public string Unsubscribe(int fd, uint id) => Send($"unsub {fd} {id}");

    /// <summary>A blocking read(2) into <paramref name="size"/> bytes, ended after <paramref name="timeoutMs"/> ("timeout").</summary>
    public ReadResult Read(int fd, int size = 64 * KmonitorEventRecord.Size, int timeoutMs = 10000) =>
        ReadAnswer($"read {fd} {size} {timeoutMs}", timeoutMs + DefaultTimeoutMs);

    /// <summary>A read(2) under O_NONBLOCK.</summary>
    public ReadResult ReadNonBlocking(int fd, int size = 64 * KmonitorEventRecord.Size) => ReadAnswer($"readnb {fd} {size}");

    /// <summary>A blocking read(2) that kmclient itself interrupts with SIGALRM once the reader sleeps in it.</summary>
    public ReadResult ReadInterrupted(int fd, bool restart, int size = KmonitorEventRecord.Size) =>
        ReadAnswer($"readintr {fd} {size} {(restart ? 1 : 0)}");

    private ReadResult ReadAnswer(string command, int timeoutMs = DefaultTimeoutMs)
    {
        var answer = Send(command, timeoutMs);
        var records = new List<Record>();
        if (answer.StartsWith("ok "))
        {
            int n = int.Parse(answer[3..]);
            for (int i = 0; i < n; i++)
                records.Add(Record.Parse(ReadLine(command)));
        }
        return new ReadResult(answer, records);
    }

    /// <summary>The next record, which must come within the time (read one at a time).</summary>
    public Record Next(int fd, int timeoutMs = 10000)
    {
        var result = Read(fd, KmonitorEventRecord.Size, timeoutMs);
        if (!result.Ok || result.Records.Count != 1)
            throw new TimeoutException($"kmclient {Pid}: no record on fd {fd} within {timeoutMs} ms: {result}");
        return result.Records[0];
    }

    /// <summary>
    /// Records up to and including the first that <paramref name="last"/> accepts, read one at a
    /// time so that nothing after it is taken; fails with everything it read.
    /// </summary>
    public List<Record> ReadUntil(int fd, Func<Record, bool> last, int timeoutMs = 20000)
    {
        var read = new List<Record>();
        var deadline = DateTime.UtcNow.AddMilliseconds(timeoutMs);
        while (true)
        {
            int left = Math.Max(1, (int)(deadline - DateTime.UtcNow).TotalMilliseconds);
            var result = Read(fd, KmonitorEventRecord.Size, left);
            if (!result.Ok)
                throw new TimeoutException($"kmclient {Pid}: the awaited record did not come ({result.Answer}); read so far {Record.Show(read)}");
            read.AddRange(result.Records);
            if (last(result.Records[0]))
                return read;
        }
    }

    /// <summary>Every record queued now (O_NONBLOCK reads until EAGAIN).</summary>
    public List<Record> Drain(int fd)
    {
        var read = new List<Record>();
        while (true)
        {
            var result = ReadNonBlocking(fd);
            if (result.Answer == "err EAGAIN")
                return read;
            if (!result.Ok)
                throw new InvalidOperationException($"read under O_NONBLOCK answered {result.Answer}; read so far {Record.Show(read)}");
            read.AddRange(result.Records);
        }
    }

    public string Poll(int fd, int timeoutMs) => Send($"poll {fd} {timeoutMs}", timeoutMs + DefaultTimeoutMs);

    public string Select(int fd, int timeoutMs) => Send($"select {fd} {timeoutMs}", timeoutMs + DefaultTimeoutMs);

    /// <summary>An epoll instance watching <paramref name="fd"/> edge-triggered for EPOLLIN.</summary>
    public int EpollEdgeTriggered(int fd) => int.Parse(Ok($"epoll {fd}")[0]);

    public string EpollWait(int epfd, int timeoutMs) => Send($"epwait {epfd} {timeoutMs}", timeoutMs + DefaultTimeoutMs);

    public string Write(int fd, int bytes) => Send($"write {fd} {bytes}");
}
