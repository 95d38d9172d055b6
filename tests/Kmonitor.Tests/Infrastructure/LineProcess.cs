using System.Collections.Concurrent;
using System.Diagnostics;

namespace Kmonitor.Tests.Infrastructure;

/// <summary>
/// A child program driven one line at a time: each command written to its stdin is answered by
/// exactly one line on its stdout (the protocol of the C test clients).
/// </summary>
public class LineProcess : IDisposable
{
    public const int DefaultTimeoutMs = 15000;
    private readonly Process _process;
    private readonly BlockingCollection<string> _lines = new();
    private readonly ConcurrentQueue<string> _stderr = new();

    /// <param name="runAs">A user to run as (through setpriv, without capabilities).</param>
    /// <param name="withUserGroups">Keep that user's supplementary groups (from /etc/group) instead of none.</param>
    public LineProcess(string program, IEnumerable<string>? args = null, string? runAs = null, bool withUserGroups = false)
    {
        var start = new ProcessStartInfo(runAs is null ? program : "setpriv")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (runAs is not null)
        {
            // Run as another user with no capabilities: `setpriv --reuid U --regid U --clear-groups PROGRAM`.
            string[] groups = withUserGroups ? ["--init-groups"] : ["--clear-groups"];
            foreach (var a in new[] { "--reuid", runAs, "--regid", runAs }.Concat(groups).Append(program))
                start.ArgumentList.Add(a);
        }
        foreach (var arg in args ?? [])
            start.ArgumentList.Add(arg);
        _process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {program}");
        _process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
                _lines.CompleteAdding();
            else
                _lines.Add(e.Data);
        };
        _process.ErrorDataReceived += (_, e) => { if (e.Data is not null) _stderr.Enqueue(e.Data); };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        Name = Path.GetFileName(program);
    }

    public string Name { get; }

    /// <summary>The process id of the program (after setpriv has exec'd it, the same process).</summary>
    public int Pid => _process.Id;

    public bool HasExited => _process.HasExited;

    /// <summary>What the program wrote to stderr so far (complete once it has exited and WaitForExit returned).</summary>
    public IReadOnlyList<string> ErrorLines => [.. _stderr];

    public Process Process => _process;

    /// <summary>Sends one command and returns its one-line answer.</summary>
    public string Send(string command, int timeoutMs = DefaultTimeoutMs)
    {
        _process.StandardInput.WriteLine(command);
        _process.StandardInput.Flush();
        return ReadLine(command, timeoutMs);
    }

    /// <summary>Reads the next line the program prints on its own (after an exec, for example).</summary>
    public string ReadLine(string what, int timeoutMs = DefaultTimeoutMs)
    {
        if (!_lines.TryTake(out var line, timeoutMs))
        {
            string state = _process.HasExited ? $"it exited with {_process.ExitCode}" : "it is still running";
            throw new TimeoutException($"{Name}: no answer to '{what}' within {timeoutMs} ms ({state}); stderr: {string.Join(" | ", _stderr)}");
        }
        return line;
    }

    /// <summary>Waits for the program to exit and returns every line it printed that was not read yet.</summary>
    public List<string> ReadToEnd(int timeoutMs = DefaultTimeoutMs)
    {
        WaitForExit(timeoutMs);
        var rest = new List<string>();
        while (_lines.TryTake(out var line, timeoutMs)) // false at once when the output has ended
            rest.Add(line);
        return rest;
    }

    /// <summary>Sends a command that must answer "ok ..." and returns the words after "ok".</summary>
    public string[] Ok(string command)
    {
        var answer = Send(command);
        if (!answer.StartsWith("ok"))
            throw new InvalidOperationException($"{Name}: '{command}' answered '{answer}'");
        return answer.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1..];
    }

    public int WaitForExit(int timeoutMs = DefaultTimeoutMs)
    {
        if (!_process.WaitForExit(timeoutMs))
            throw new TimeoutException($"{Name} did not exit within {timeoutMs} ms");
        _process.WaitForExit();
        return _process.ExitCode;
    }

    public void Kill()
    {
        if (!_process.HasExited)
            _process.Kill();
        _process.WaitForExit();
    }

    public virtual void Dispose()
    {
        if (!_process.HasExited)
        {
            try { _process.StandardInput.Close(); } catch (IOException) { }
            if (!_process.WaitForExit(2000))
                _process.Kill(entireProcessTree: true);
        }
        _process.WaitForExit();
        _process.Dispose();
    }
}
