namespace Kmonitor.Client;

/// <summary>Signal numbers as Linux numbers them on x86, arm and arm64 (the generic table), by name.</summary>
internal static class SignalNames
{
    private static readonly string[] Standard =
    [
        "", "SIGHUP", "SIGINT", "SIGQUIT", "SIGILL", "SIGTRAP", "SIGABRT", "SIGBUS", "SIGFPE", "SIGKILL", "SIGUSR1",
        "SIGSEGV", "SIGUSR2", "SIGPIPE", "SIGALRM", "SIGTERM", "SIGSTKFLT", "SIGCHLD", "SIGCONT", "SIGSTOP", "SIGTSTP",
        "SIGTTIN", "SIGTTOU", "SIGURG", "SIGXCPU", "SIGXFSZ", "SIGVTALRM", "SIGPROF", "SIGWINCH", "SIGIO", "SIGPWR", "SIGSYS",
    ];

    // glibc keeps the kernel's 32 and 33 for itself, so the SIGRTMIN a program sees is 34.
    private const int GlibcRtMin = 34;

    public static string Name(int signal) => signal switch
    {
        > 0 and < 32 => Standard[signal],
        >= GlibcRtMin and <= 64 => signal == GlibcRtMin ? "SIGRTMIN" : $"SIGRTMIN+{signal - GlibcRtMin}",
        _ => $"signal {signal}",
    };
}
