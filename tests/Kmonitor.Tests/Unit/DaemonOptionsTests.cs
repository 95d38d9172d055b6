using Kmonitor.Daemon;

namespace Kmonitor.Tests.Unit;

public class DaemonOptionsTests
{
    [Fact]
    public void Defaults_serve_dev_kmonitor_in_auto_mode()
    {
        var options = DaemonOptions.Parse([]);
        Assert.Equal((FrontEndMode.Auto, "kmonitor", 0x1B0u), (options.Mode, options.Name, options.ModeBits));
    }

    [Fact]
    public void Flags_take_values_separately_or_after_an_equals_sign()
    {
        var options = DaemonOptions.Parse(["--mode", "fuse", "--name=kmx", "--buffer-length", "64", "--mode-bits=0600", "--log-level", "debug"]);
        Assert.Equal((FrontEndMode.Fuse, "kmx", 64, 0x180u, Diagnostics.LogLevel.Debug),
            (options.Mode, options.Name, options.BufferLength, options.ModeBits, options.LogLevel));
    }

    [Theory]
    [InlineData("--mode", "block", "--mode must be auto, fuse or cuse")]
    [InlineData("--name", "../etc", "--name must be")]
    [InlineData("--name", "", "--name must be")]
    [InlineData("--buffer-length", "0", "--buffer-length must be a whole number from 16")]
    [InlineData("--buffer-length", "many", "--buffer-length must be a whole number")]
    [InlineData("--mode-bits", "0999", "--mode-bits must be octal")]
    [InlineData("--log-level", "loud", "--log-level must be")]
    public void A_bad_value_names_the_option_and_the_problem(string option, string value, string message)
    {
        var e = Assert.Throws<ArgumentException>(() => DaemonOptions.Parse([option, value]));
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void Unknown_options_and_missing_values_are_refused()
    {
        Assert.Contains("unknown option '--frobnicate'", Assert.Throws<ArgumentException>(() => DaemonOptions.Parse(["--frobnicate"])).Message);
        Assert.Contains("--name needs a value", Assert.Throws<ArgumentException>(() => DaemonOptions.Parse(["--name"])).Message);
    }

    private static DaemonOptions Load(string? configJson, Dictionary<string, string> environment, params string[] args)
    {
        string? path = null;
        if (configJson is not null)
        {
            path = Path.Combine(Path.GetTempPath(), $"kmonitord-options-{Guid.NewGuid():N}.json");
            File.WriteAllText(path, configJson);
            args = ["--config", path, .. args];
        }
        try
        {
            return DaemonOptions.Load(args, name => environment.GetValueOrDefault(name));
        }
        finally
        {
            if (path is not null)
                File.Delete(path);
        }
    }

    [Fact]
    public void The_command_line_beats_the_environment_which_beats_the_config_file()
    {
        string json = """{ "name": "fromfile", "buffer_length": 100, "log_level": "warning", "mode_bits": "0600", "policy": "open" }""";
        var environment = new Dictionary<string, string> { ["KMONITORD_BUFFER_LENGTH"] = "200", ["KMONITORD_LOG_LEVEL"] = "error" };
        var options = Load(json, environment, "--log-level", "debug");
        Assert.Equal(("fromfile", 200, Diagnostics.LogLevel.Debug, 0x180u, Security.WatchPolicyKind.Open),
            (options.Name, options.BufferLength, options.LogLevel, options.ModeBits, options.Policy));
    }

    [Theory]
    [InlineData("""{ "buffer_length": "lots" }""", "buffer_length in ")]
    [InlineData("""{ "colour": "blue" }""", "unknown setting 'colour'")]
    [InlineData("""[1, 2]""", "expected a JSON object")]
    [InlineData("""{ "name": """, "config file")]
    public void A_bad_config_file_names_the_setting_and_the_file(string json, string message) =>
        Assert.Contains(message, Assert.Throws<ArgumentException>(() => Load(json, [])).Message);

    [Fact]
    public void A_bad_environment_value_names_the_variable() =>
        Assert.Contains("KMONITORD_MAX_PER_UID must be a whole number",
            Assert.Throws<ArgumentException>(() => Load(null, new() { ["KMONITORD_MAX_PER_UID"] = "0" })).Message);

    [Fact]
    public void A_config_file_asked_for_must_exist()
    {
        Assert.Contains("does not exist", Assert.Throws<ArgumentException>(() =>
            DaemonOptions.Load(["--config", "/nonexistent/kmonitord.json"], _ => null)).Message);
        Assert.Contains("does not exist", Assert.Throws<ArgumentException>(() =>
            DaemonOptions.Load([], name => name == "KMONITORD_CONFIG" ? "/nonexistent/kmonitord.json" : null)).Message);
    }
}
