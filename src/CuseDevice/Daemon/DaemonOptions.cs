using Kmonitor.Diagnostics;

namespace Kmonitor.Daemon;

public enum FrontEndMode { Auto, Fuse, Cuse }

/// <summary>The daemon's settings, from its command line. Every bad value is one clear message.</summary>
public sealed record DaemonOptions
{
    public FrontEndMode Mode { get; init; } = FrontEndMode.Auto;
    public string Name { get; init; } = "kmonitor";
    public int BufferLength { get; init; } = 16384;
    public int ReceiveBufferBytes { get; init; } = 8 * 1024 * 1024;
    public LogLevel LogLevel { get; init; } = LogLevel.Info;
    public string? Group { get; init; } = "kmonitor";
    public uint ModeBits { get; init; } = 0x1B0; // 0660
    public uint Major { get; init; }
    public uint Minor { get; init; }
    public bool Help { get; init; }

    public const string Usage = """
        usage: kmonitord [options]
          --mode auto|fuse|cuse    how /dev/NAME is served (default auto: CUSE when the kernel has it, else FUSE)
          --name NAME              the device is /dev/NAME (default kmonitor)
          --buffer-length N        events the ring between listener and dispatcher holds (default 16384)
          --receive-buffer BYTES   netlink receive buffer, set with SO_RCVBUFFORCE (default 8388608)
          --group GROUP            group owning the device (default kmonitor; root when no such group)
          --mode-bits OCTAL        permission bits of the device (default 0660)
          --major N --minor N      CUSE device numbers (default 0: the kernel picks)
          --log-level debug|info|warning|error   (default info)
          --help
        """;

    /// <summary>Parses the arguments; throws <see cref="ArgumentException"/> naming the bad option.</summary>
    public static DaemonOptions Parse(IReadOnlyList<string> args)
    {
        var options = new DaemonOptions();
        for (int i = 0; i < args.Count; i++)
        {
            string arg = args[i];
            string? inline = null;
            int eq = arg.IndexOf('=');
            if (arg.StartsWith("--") && eq > 0)
            {
                inline = arg[(eq + 1)..];
                arg = arg[..eq];
            }
            string Value() => inline ?? (i + 1 < args.Count ? args[++i] : throw new ArgumentException($"{arg} needs a value"));
            options = arg switch
            {
                "--mode" => options with { Mode = ParseMode(Value()) },
                "--name" => options with { Name = ParseName(Value()) },
                "--buffer-length" => options with { BufferLength = ParseInt(arg, Value(), 16, 1 << 24) },
                "--receive-buffer" => options with { ReceiveBufferBytes = ParseInt(arg, Value(), 65536, 1 << 30) },
                "--log-level" => options with { LogLevel = ParseLevel(Value()) },
                "--group" => options with { Group = Value() },
                "--mode-bits" => options with { ModeBits = ParseModeBits(Value()) },
                "--major" => options with { Major = (uint)ParseInt(arg, Value(), 0, 4095) },
                "--minor" => options with { Minor = (uint)ParseInt(arg, Value(), 0, 1048575) },
                "--help" or "-h" => options with { Help = true },
                _ => throw new ArgumentException($"unknown option '{args[i]}'"),
            };
        }
        return options;
    }

    private static FrontEndMode ParseMode(string value) => value switch
    {
        "auto" => FrontEndMode.Auto,
        "fuse" => FrontEndMode.Fuse,
        "cuse" => FrontEndMode.Cuse,
        _ => throw new ArgumentException($"--mode must be auto, fuse or cuse, not '{value}'"),
    };

    private static string ParseName(string value)
    {
        // The name becomes /dev/NAME, a mount directory and a CUSE DEVNAME: one plain path component.
        if (value.Length == 0 || value.Length > 64 || value is "." or ".."
            || !value.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'))
            throw new ArgumentException($"--name must be 1 to 64 letters, digits, '-', '_' or '.', not '{value}'");
        return value;
    }

    private static int ParseInt(string option, string value, int min, int max)
    {
        if (!int.TryParse(value, out int n) || n < min || n > max)
            throw new ArgumentException($"{option} must be a whole number from {min} to {max}, not '{value}'");
        return n;
    }

    private static LogLevel ParseLevel(string value) => value switch
    {
        "debug" => LogLevel.Debug,
        "info" => LogLevel.Info,
        "warning" => LogLevel.Warning,
        "error" => LogLevel.Error,
        _ => throw new ArgumentException($"--log-level must be debug, info, warning or error, not '{value}'"),
    };

    private static uint ParseModeBits(string value)
    {
        try
        {
            uint bits = Convert.ToUInt32(value, 8);
            if (bits <= 0x1FF)
                return bits;
        }
        catch (Exception e) when (e is FormatException or OverflowException or ArgumentException) { }
        throw new ArgumentException($"--mode-bits must be octal permission bits from 0 to 0777, not '{value}'");
    }
}
