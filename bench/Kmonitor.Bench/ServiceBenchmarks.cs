using BenchmarkDotNet.Attributes;
using Kmonitor.Abi;
using Kmonitor.Procfs;
using Kmonitor.Registrations;

namespace Kmonitor.Bench;

/// <summary>
/// REGISTER and DEREGISTER as the service does them, in process and without FUSE: what an ioctl
/// costs the daemon once its request has been read. The target and the caller are this process
/// itself (its main thread, which outlives the run), so every step is real: the /proc reads, the
/// target's pidfd (opened at REGISTER, closed at DEREGISTER), the table.
/// </summary>
[MemoryDiagnoser]
public class ServiceBenchmarks
{
    private KmonitorService _service = null!;
    private DeviceFile _file = null!;
    private KmonitorCmd _cmd;
    private int _self;

    [GlobalSetup]
    public void Setup()
    {
        _self = Environment.ProcessId; // the main thread's id is the process id
        _service = new KmonitorService();
        _file = _service.Open();
        _cmd = new KmonitorCmd(_self, KmonitorAbi.KMONITOR_PROCESS_EXIT, 40);
        int error = _service.Register(_file, _self, _cmd, callerFsUid: 0);
        if (error == 0)
            error = _service.Deregister(_file, _self, _cmd);
        if (error != 0)
            throw new InvalidOperationException($"REGISTER/DEREGISTER of this process failed: errno {error}");
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _service.Release(_file);
        _service.Dispose();
    }

    /// <summary>The reference: one read and parse of /proc/PID/status, which REGISTER does for the target (and for a caller it has not seen).</summary>
    [Benchmark(Baseline = true)]
    public bool Read_proc_status() => ProcTaskStatus.TryRead(_self, out _);

    /// <summary>
    /// One REGISTER then one DEREGISTER of the same target, as the device makes them: the request
    /// header's uid given (root's: the benchmarks run as root), the caller a thread seen before. The
    /// figure is per ioctl.
    /// </summary>
    [Benchmark(OperationsPerInvoke = 2)]
    public int Register_and_deregister()
    {
        int error = _service.Register(_file, _self, _cmd, callerFsUid: 0);
        return error | _service.Deregister(_file, _self, _cmd);
    }
}
