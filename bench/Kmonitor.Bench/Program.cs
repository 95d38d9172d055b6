using BenchmarkDotNet.Jobs;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Kmonitor.Bench;

/// <summary>
///   Kmonitor.Bench dispatcher ARTIFACTS_DIR [SUITE]  runs the BenchmarkDotNet suites (DispatcherBenchmarks,
///                                           ServiceBenchmarks, SubscriptionBenchmarks; or only the one named), then prints one line per case:
///                                           "bdn method=... registrations=N ns=MEDIAN p95=... min=... bytes=..." (N 0 where a suite has no Registrations);
///   Kmonitor.Bench ready                    the reference for start-up time and idle RSS: an empty .NET
///                                           process that logs "ready:" on stderr and waits for SIGTERM.
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        if (args.Length == 1 && args[0] == "ready")
            return Ready();
        if (args.Length is 2 or 3 && args[0] == "dispatcher")
            return Suite.Run(args[1], args.Length == 3 ? args[2] : null);
        Console.Error.WriteLine("usage: Kmonitor.Bench dispatcher ARTIFACTS_DIR [SUITE] | ready");
        return 2;
    }

    private static int Ready()
    {
        using var stopped = new ManualResetEventSlim();
        using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
        {
            context.Cancel = true;
            stopped.Set();
        });
        Console.Error.WriteLine("ready: empty .NET process");
        stopped.Wait();
        return 0;
    }
}

/// <summary>Kept apart from Main so that the "ready" reference never loads BenchmarkDotNet.</summary>
internal static class Suite
{
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static int Run(string artifacts, string? only)
    {
        Type[] suites = [typeof(DispatcherBenchmarks), typeof(ServiceBenchmarks), typeof(SubscriptionBenchmarks)];
        if (only is not null)
            suites = Array.FindAll(suites, t => t.Name == only);
        if (suites.Length == 0)
        {
            Console.Error.WriteLine($"no suite named {only}");
            return 2;
        }
        bool quick = Environment.GetEnvironmentVariable("KB_QUICK") == "1";
        var job = Job.Default
            .WithToolchain(BenchmarkDotNet.Toolchains.InProcess.Emit.InProcessEmitToolchain.Instance)
            .WithLaunchCount(1)
            .WithWarmupCount(quick ? 1 : 3)
            .WithIterationCount(quick ? 3 : 8)
            .WithIterationTime(Perfolizer.Horology.TimeInterval.FromMilliseconds(quick ? 50 : 150));
        var config = BenchmarkDotNet.Configs.ManualConfig.CreateEmpty()
            .AddJob(job)
            .AddDiagnoser(BenchmarkDotNet.Diagnosers.MemoryDiagnoser.Default)
            .AddColumnProvider(BenchmarkDotNet.Columns.DefaultColumnProviders.Instance)
            .AddLogger(BenchmarkDotNet.Loggers.ConsoleLogger.Default)
            .WithArtifactsPath(artifacts);
        var summaries = BenchmarkDotNet.Running.BenchmarkRunner.Run(suites, config);
        int failed = 0;
        foreach (var report in summaries.SelectMany(s => s.Reports))
        {
            var benchmark = report.BenchmarkCase;
            string method = benchmark.Descriptor.WorkloadMethod.Name;
            object? n = benchmark.HasParameters ? benchmark.Parameters["Registrations"] : 0;
            if (!report.Success || report.ResultStatistics is null)
            {
                Console.WriteLine($"bdn method={method} registrations={n} failed=1");
                failed++;
                continue;
            }
            long? bytes = report.GcStats.GetBytesAllocatedPerOperation(benchmark);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"bdn method={method} registrations={n} ns={report.ResultStatistics.Median:F2} " +
                $"p95={report.ResultStatistics.Percentiles.P95:F2} min={report.ResultStatistics.Min:F2} bytes={bytes ?? -1}"));
        }
        return failed == 0 ? 0 : 1;
    }
}
