using System.Runtime.InteropServices;

namespace Kmonitor.Command.Cli;

/// <summary>
/// Ctrl-C (SIGINT) and SIGTERM end a command cleanly: they cancel <see cref="Token"/>, the command
/// stops reading, prints its summary and exits 128 + the signal (130 for Ctrl-C), as a shell
/// reports a process killed by it. Handled here rather than by System.CommandLine, whose own
/// handler would decide the exit code and give up on the command after a time-out.
/// </summary>
public sealed class Termination : IDisposable
{
    private readonly CancellationTokenSource _source = new();
    private readonly PosixSignalRegistration[] _registrations;
    private volatile int _signal;

    public Termination()
    {
        _registrations =
        [
            PosixSignalRegistration.Create(PosixSignal.SIGINT, Handle),
            PosixSignalRegistration.Create(PosixSignal.SIGTERM, Handle),
        ];
    }

    public CancellationToken Token => _source.Token;

    public bool Requested => _signal != 0;

    /// <summary>SIGINT is 2, SIGTERM 15: the numbers the exit code is made of.</summary>
    public int Signal => _signal;

    /// <summary>The exit code of a command ended by the signal: 130 for Ctrl-C.</summary>
    public int ExitCode => 128 + _signal;

    private void Handle(PosixSignalContext context)
    {
        context.Cancel = true; // we end the command ourselves, after its summary
        _signal = context.Signal == PosixSignal.SIGINT ? 2 : 15;
        _source.Cancel();
    }

    public void Dispose()
    {
        foreach (var registration in _registrations)
            registration.Dispose();
        _source.Dispose();
    }
}
