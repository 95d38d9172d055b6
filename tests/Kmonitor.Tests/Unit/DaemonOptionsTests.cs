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
}
