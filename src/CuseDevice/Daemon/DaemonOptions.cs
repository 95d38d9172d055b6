using System.Text.Json;
using Kmonitor.Diagnostics;
using Kmonitor.Security;

namespace Kmonitor.Daemon;

public enum FrontEndMode { Auto, Fuse, Cuse }

/// <summary>
/// The daemon's settings. Each comes from, in rising order of precedence: its default, the JSON
/// config file (/etc/kmonitor/kmonitord.json, or --config), the environment (KMONITORD_KEY), the
/// command line (--key). A bad value anywhere is one message naming the setting and where it came from.
/// </summary>
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
    public WatchPolicyKind Policy { get; init; } = WatchPolicyKind.Owner;
    public int MaxPerFile { get; init; } = ServiceOptions.DefaultMaxPerFile;
    public int MaxPerUid { get; init; } = ServiceOptions.DefaultMaxPerUid;
    public int QueueLength { get; init; } = ServiceOptions.DefaultQueueLength;
    /// <summary>Acts only under systemd ($NOTIFY_SOCKET): elsewhere there is no store to hand over through.</summary>
    public bool Handover { get; init; } = true;
    public bool Help { get; init; }

    public const string DefaultConfigPath = "/etc/kmonitor/kmonitord.json";
    public const string EnvironmentPrefix = "KMONITORD_";

    /// <summary>Every setting: its key in the config file (also KMONITORD_KEY uppercased, and --key with dashes).</summary>
    public static readonly string[] Keys =
        ["mode", "name", "buffer_length", "receive_buffer", "group", "mode_bits", "major", "minor", "log_level", "policy", "max_per_file", "max_per_uid", "queue_length", "handover"];

    public static readonly string Usage = $$"""
        usage: kmonitord [options]          serve /dev/NAME in the foreground
               kmonitord status [--name NAME] [--json]
               kmonitord cleanup [--name NAME] [--unit UNIT]   the unit's ExecStopPost= (kmonitord(8))
          --mode auto|fuse|cuse    how /dev/NAME is served (default auto: CUSE when the kernel has it, else FUSE)
          --name NAME              the device is /dev/NAME (default kmonitor)
          --buffer-length N        events the ring between listener and dispatcher holds (default 16384)
          --receive-buffer BYTES   netlink receive buffer, set with SO_RCVBUFFORCE (default 8388608)
          --group GROUP            group owning the device (default kmonitor; root when no such group)
          --mode-bits OCTAL        permission bits of the device (default 0660)
          --major N --minor N      CUSE device numbers (default 0: the kernel picks)
          --log-level debug|info|warning|error   (default info)
          --policy owner|open      who may watch whom (default owner: your own processes, or any with
                                   root, CAP_KILL or CAP_SYS_PTRACE; open: anyone, as in 2004)
          --max-per-file N         registrations per open file (default {{ServiceOptions.DefaultMaxPerFile}}); more is ENOSPC
          --max-per-uid N          registrations per user (default {{ServiceOptions.DefaultMaxPerUid}}); more is ENOSPC
          --queue-length N         records an open file holds unread (default {{ServiceOptions.DefaultQueueLength}}); more are
                                   dropped, counted, and reported by one KMONITOR_EVENT_LOST record
          --handover yes|no        under systemd, hand the device to the next instance through the fd
                                   store at SIGTERM, and keep its state there for a crash (default yes;
                                   see README "Restarts and upgrades")
          --config PATH            settings file (default /etc/kmonitor/kmonitord.json)
          --help
        Every setting can also be given as KMONITORD_<SETTING> (e.g. KMONITORD_LOG_LEVEL=debug) or in
        the config file ({"log_level": "debug"}); the command line wins over the environment, which
        wins over the file.
        """;

    /// <summary>Reads the command line; the environment and config file come from <paramref name="environment"/>.</summary>
    public static DaemonOptions Parse(IReadOnlyList<string> args) =>
        Load(args, name => Environment.GetEnvironmentVariable(name));

    public static DaemonOptions Load(IReadOnlyList<string> args, Func<string, string?> environment)
    {
        var flags = ReadFlags(args, out string? configFlag, out bool help);
        string? configPath = configFlag ?? environment(EnvironmentPrefix + "CONFIG");
        var options = new DaemonOptions { Help = help };
        foreach (var (key, value) in ReadConfigFile(configPath ?? DefaultConfigPath, mustExist: configPath is not null))
            options = options.With(key, value, $"{key} in {configPath ?? DefaultConfigPath}");
        foreach (var key in Keys)
        {
            string variable = EnvironmentPrefix + key.ToUpperInvariant();
            if (environment(variable) is string value)
                options = options.With(key, value, variable);
        }
        foreach (var (key, flag, value) in flags)
            options = options.With(key, value, flag);
        return options;
    }

    private static List<(string Key, string Flag, string Value)> ReadFlags(IReadOnlyList<string> args, out string? config, out bool help)
    {
        var flags = new List<(string, string, string)>();
        config = null;
        help = false;
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
            if (arg is "--help" or "-h")
            {
                help = true;
                continue;
            }
            string Value() => inline ?? (i + 1 < args.Count ? args[++i] : throw new ArgumentException($"{arg} needs a value"));
            if (arg == "--config")
            {
                config = Value();
                continue;
            }
            string key = arg.StartsWith("--") ? arg[2..].Replace('-', '_') : "";
            if (!Keys.Contains(key))
                throw new ArgumentException($"unknown option '{args[i]}'");
            flags.Add((key, arg, Value()));
        }
        return flags;
    }

    private static IEnumerable<(string Key, string Value)> ReadConfigFile(string path, bool mustExist)
    {
        if (!File.Exists(path))
        {
            if (mustExist)
                throw new ArgumentException($"config file {path} does not exist");
            yield break;
        }
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(File.ReadAllText(path), new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        }
        catch (Exception e) when (e is JsonException or IOException or UnauthorizedAccessException)
        {
            throw new ArgumentException($"config file {path}: {e.Message}");
        }
        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
                throw new ArgumentException($"config file {path}: expected a JSON object of settings");
            foreach (var property in document.RootElement.EnumerateObject().ToList())
            {
                if (!Keys.Contains(property.Name))
                    throw new ArgumentException($"config file {path}: unknown setting '{property.Name}' (known: {string.Join(", ", Keys)})");
                string value = property.Value.ValueKind switch
                {
                    JsonValueKind.String => property.Value.GetString()!,
                    JsonValueKind.Number => property.Value.GetRawText(),
                    _ => throw new ArgumentException($"{property.Name} in {path} must be a string or a number"),
                };
                yield return (property.Name, value);
            }
        }
    }

    /// <summary>These options with one setting changed; <paramref name="from"/> names where the value came from.</summary>
    private DaemonOptions With(string key, string value, string from) => key switch
    {
        "mode" => this with { Mode = ParseMode(from, value) },
        "name" => this with { Name = ParseName(from, value) },
        "buffer_length" => this with { BufferLength = ParseInt(from, value, 16, 1 << 24) },
        "receive_buffer" => this with { ReceiveBufferBytes = ParseInt(from, value, 65536, 1 << 30) },
        "log_level" => this with { LogLevel = ParseLevel(from, value) },
        "group" => this with { Group = value },
        "mode_bits" => this with { ModeBits = ParseModeBits(from, value) },
        "major" => this with { Major = (uint)ParseInt(from, value, 0, 4095) },
        "minor" => this with { Minor = (uint)ParseInt(from, value, 0, 1048575) },
        "policy" => this with { Policy = ParsePolicy(from, value) },
        "max_per_file" => this with { MaxPerFile = ParseInt(from, value, 1, int.MaxValue) },
        "max_per_uid" => this with { MaxPerUid = ParseInt(from, value, 1, int.MaxValue) },
        "queue_length" => this with { QueueLength = ParseInt(from, value, 1, 1 << 24) },
        "handover" => this with { Handover = value switch
        {
            "yes" => true,
            "no" => false,
            _ => throw new ArgumentException($"{from} must be yes or no, not '{value}'"),
        } },
        _ => throw new ArgumentException($"unknown setting '{key}'"),
    };

    private static FrontEndMode ParseMode(string from, string value) => value switch
    {
        "auto" => FrontEndMode.Auto,
        "fuse" => FrontEndMode.Fuse,
        "cuse" => FrontEndMode.Cuse,
        _ => throw new ArgumentException($"{from} must be auto, fuse or cuse, not '{value}'"),
    };

    private static string ParseName(string from, string value)
    {
        // The name becomes /dev/NAME, a mount directory and a CUSE DEVNAME: one plain path component.
        if (value.Length == 0 || value.Length > 64 || value is "." or ".."
            || !value.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'))
            throw new ArgumentException($"{from} must be 1 to 64 letters, digits, '-', '_' or '.', not '{value}'");
        return value;
    }

    private static int ParseInt(string from, string value, int min, int max)
    {
        if (!int.TryParse(value, out int n) || n < min || n > max)
            throw new ArgumentException($"{from} must be a whole number from {min} to {max}, not '{value}'");
        return n;
    }

    private static LogLevel ParseLevel(string from, string value) => value switch
    {
        "debug" => LogLevel.Debug,
        "info" => LogLevel.Info,
        "warning" => LogLevel.Warning,
        "error" => LogLevel.Error,
        _ => throw new ArgumentException($"{from} must be debug, info, warning or error, not '{value}'"),
    };

    private static WatchPolicyKind ParsePolicy(string from, string value) => value switch
    {
        "owner" => WatchPolicyKind.Owner,
        "open" => WatchPolicyKind.Open,
        _ => throw new ArgumentException($"{from} must be owner or open, not '{value}'"),
    };

    private static uint ParseModeBits(string from, string value)
    {
        try
        {
            uint bits = Convert.ToUInt32(value, 8);
            if (bits <= 0x1FF)
                return bits;
        }
        catch (Exception e) when (e is FormatException or OverflowException or ArgumentException) { }
        throw new ArgumentException($"{from} must be octal permission bits from 0 to 0777, not '{value}'");
    }
}
