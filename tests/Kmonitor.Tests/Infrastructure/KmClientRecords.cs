using System.Runtime.InteropServices;
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
        var records = new List<EventRecord>();
        if (answer.StartsWith("ok "))
        {
            int n = int.Parse(answer[3..]);
            for (int i = 0; i < n; i++)
                records.Add(EventRecord.Parse(ReadLine(command)));
        }
        return new ReadResult(answer, records);
    }

    /// <summary>The next record, which must come within the time (read one at a time).</summary>
    public EventRecord Next(int fd, int timeoutMs = 10000)
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
    public List<EventRecord> ReadUntil(int fd, Func<EventRecord, bool> last, int timeoutMs = 20000)
    {
        var read = new List<EventRecord>();
        var deadline = DateTime.UtcNow.AddMilliseconds(timeoutMs);
        while (true)
        {
            int left = Math.Max(1, (int)(deadline - DateTime.UtcNow).TotalMilliseconds);
            var result = Read(fd, KmonitorEventRecord.Size, left);
            if (!result.Ok)
                throw new TimeoutException($"kmclient {Pid}: the awaited record did not come ({result.Answer}); read so far {EventRecord.Show(read)}");
            read.AddRange(result.Records);
            if (last(result.Records[0]))
                return read;
        }
    }

    /// <summary>Every record queued now (O_NONBLOCK reads until EAGAIN).</summary>
    public List<EventRecord> Drain(int fd)
    {
        var read = new List<EventRecord>();
        while (true)
        {
            var result = ReadNonBlocking(fd);
            if (result.Answer == "err EAGAIN")
                return read;
            if (!result.Ok)
                throw new InvalidOperationException($"read under O_NONBLOCK answered {result.Answer}; read so far {EventRecord.Show(read)}");
            read.AddRange(result.Records);
        }
    }

    public string Poll(int fd, int timeoutMs) => Send($"poll {fd} {timeoutMs}", timeoutMs + DefaultTimeoutMs);

    public string Select(int fd, int timeoutMs) => Send($"select {fd} {timeoutMs}", timeoutMs + DefaultTimeoutMs);

    /// <summary>An epoll instance watching <paramref name="fd"/> edge-triggered for EPOLLIN.</summary>
    public int EpollEdgeTriggered(int fd) => int.Parse(Ok($"epoll {fd}")[0]);

    public string EpollWait(int epfd, int timeoutMs) => Send($"epwait {epfd} {timeoutMs}", timeoutMs + DefaultTimeoutMs);

    public string Write(int fd, int bytes) => Send($"write {fd} {bytes}");

    /// <summary>Writes a command without waiting for its answer (a call the test wants blocked: then <see cref="WaitBlocked"/>, <see cref="Finish"/>).</summary>
    public void Begin(string command)
    {
        Process.StandardInput.WriteLine(command);
        Process.StandardInput.Flush();
    }

    /// <summary>The answer to a read command <see cref="Begin"/> wrote, with its records.</summary>
    public ReadResult FinishRead(int timeoutMs = DefaultTimeoutMs)
    {
        var answer = ReadLine("read", timeoutMs);
        var records = new List<EventRecord>();
        if (answer.StartsWith("ok "))
        {
            for (int i = int.Parse(answer[3..]); i > 0; i--)
                records.Add(EventRecord.Parse(ReadLine("read")));
        }
        return new ReadResult(answer, records);
    }

    /// <summary>The answer to the command <see cref="Begin"/> wrote.</summary>
    public string Finish(string what, int timeoutMs = DefaultTimeoutMs) => ReadLine(what, timeoutMs);

    private static readonly long SysRead = RuntimeInformation.ProcessArchitecture == Architecture.Arm64 ? 63 : 0;

    /// <summary>
    /// Waits until kmclient sleeps in the system call <see cref="Begin"/> started: /proc shows it
    /// asleep (S) in a call other than its idle read(2) of stdin.
    /// </summary>
    public void WaitBlocked(int timeoutMs = DefaultTimeoutMs)
    {
        var deadline = DateTime.UtcNow.AddMilliseconds(timeoutMs);
        string call = "";
        while (true)
        {
            try
            {
                call = File.ReadAllText($"/proc/{Pid}/syscall").Trim();
                string stat = File.ReadAllText($"/proc/{Pid}/stat");
                var words = call.Split(' ');
                bool asleep = stat[(stat.LastIndexOf(')') + 2)..].StartsWith('S');
                bool idle = words.Length > 1 && long.TryParse(words[0], out long nr) && nr == SysRead && words[1] == "0x0";
                if (asleep && words[0] != "running" && !idle)
                    return;
            }
            catch (IOException) { }
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"kmclient {Pid} did not block in its call within {timeoutMs} ms (syscall: {call})");
            Thread.Sleep(1);
        }
    }
}
