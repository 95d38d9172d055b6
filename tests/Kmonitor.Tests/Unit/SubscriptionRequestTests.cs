using Kmonitor.Abi;
using Kmonitor.Interop;
using Kmonitor.Subscriptions;
using static Kmonitor.Abi.SubscriptionAbi;

namespace Kmonitor.Tests.Unit;

public class SubscriptionRequestTests
{
    private static KmonitorSubscription Request(uint scope, uint type = KmonitorAbi.KMONITOR_PROCESS_EXIT, int pid = 0, int signal = 0, uint flags = 0, string? pattern = "x")
    {
        var request = new KmonitorSubscription { scope = scope, type = type, pid = pid, signal = signal, flags = flags };
        if (pattern is not null)
            request.SetPattern(pattern);
        return request;
    }

    private static int Validate(KmonitorSubscription request) => SubscriptionRequest.Validate(request, out _, out _);

    [Theory]
    [InlineData(0u)]
    [InlineData(5u)]
    [InlineData(uint.MaxValue)]
    public void A_scope_outside_1_to_4_is_EINVAL(uint scope) => Assert.Equal(Errno.EINVAL, Validate(Request(scope)));

    [Theory]
    [InlineData(0u)]
    [InlineData(0x100u)]
    [InlineData(0x8000u)] // LOST is a record type, not something to subscribe to
    public void A_type_of_0_or_with_unknown_bits_is_EINVAL(uint type) => Assert.Equal(Errno.EINVAL, Validate(Request(KMONITOR_SCOPE_ALL, type)));

    [Theory]
    [InlineData(-1)]
    [InlineData(65)]
    public void A_signal_outside_0_to_64_is_EINVAL(int signal) => Assert.Equal(Errno.EINVAL, Validate(Request(KMONITOR_SCOPE_ALL, signal: signal)));

    [Theory]
    [InlineData("")]
    [InlineData("sixteen-bytes-xx")]
    public void A_NAME_that_is_empty_or_longer_than_comm_is_EINVAL(string name) => Assert.Equal(Errno.EINVAL, Validate(Request(KMONITOR_SCOPE_NAME, pattern: name)));

    [Fact]
    public void A_NAME_of_15_bytes_is_taken()
    {
        Assert.Equal(0, SubscriptionRequest.Validate(Request(KMONITOR_SCOPE_NAME, pattern: "fifteen-bytes-x"), out var spec, out _));
        Assert.Equal("fifteen-bytes-x", spec!.Name);
    }

    [Fact]
    public void A_pattern_with_no_NUL_is_EINVAL_for_NAME_and_REGEX_and_ignored_for_TREE_and_ALL()
    {
        foreach (uint scope in new[] { KMONITOR_SCOPE_NAME, KMONITOR_SCOPE_REGEX, KMONITOR_SCOPE_TREE, KMONITOR_SCOPE_ALL })
        {
            var request = Request(scope, pid: 1, pattern: null);
            Span<byte> pattern = request.pattern;
            pattern.Fill((byte)'a');
            Assert.Equal(scope is KMONITOR_SCOPE_NAME or KMONITOR_SCOPE_REGEX ? Errno.EINVAL : 0, Validate(request));
        }
    }

    [Fact]
    public void A_regular_expression_that_does_not_compile_is_EINVAL_and_says_why()
    {
        Assert.Equal(Errno.EINVAL, SubscriptionRequest.Validate(Request(KMONITOR_SCOPE_REGEX, pattern: "[abc"), out _, out var why));
        Assert.Contains("unclosed bracket", why);
    }

    [Theory]
    [InlineData(KMONITOR_SCOPE_REGEX, 0x2u)]
    [InlineData(KMONITOR_SCOPE_NAME, KMONITOR_MATCH_CMDLINE)]
    [InlineData(KMONITOR_SCOPE_ALL, KMONITOR_MATCH_CMDLINE)]
    [InlineData(KMONITOR_SCOPE_TREE, KMONITOR_MATCH_CMDLINE)]
    public void Any_flag_but_MATCH_CMDLINE_or_that_flag_off_REGEX_is_EINVAL(uint scope, uint flags) =>
        Assert.Equal(Errno.EINVAL, Validate(Request(scope, pid: 1, flags: flags)));

    [Theory]
    [InlineData(0)]
    [InlineData(-5)]
    public void A_TREE_root_that_is_not_a_positive_pid_is_EINVAL(int pid) => Assert.Equal(Errno.EINVAL, Validate(Request(KMONITOR_SCOPE_TREE, pid: pid)));

    [Fact]
    public void A_valid_request_is_decoded()
    {
        var request = Request(KMONITOR_SCOPE_REGEX, KmonitorAbi.KMONITOR_PROCESS_EXEC | KMONITOR_PROCESS_EXISTING, signal: 40, flags: KMONITOR_MATCH_CMDLINE, pattern: "^sleep [0-9]+$");
        Assert.Equal(0, SubscriptionRequest.Validate(request, out var spec, out _));
        Assert.Equal((KmonitorAbi.KMONITOR_PROCESS_EXEC, true, 40, true), (spec!.Events, spec.Existing, spec.Signal, spec.MatchCommandLine));
        Assert.True(spec.MatchesName("sleep", () => "sleep 10"));
        Assert.False(spec.MatchesName("sleep", () => "sleep forever"));
    }

    [Fact]
    public void NAME_equals_comm_exactly()
    {
        Assert.Equal(0, SubscriptionRequest.Validate(Request(KMONITOR_SCOPE_NAME, pattern: "sleep"), out var spec, out _));
        Assert.True(spec!.MatchesName("sleep", () => ""));
        Assert.False(spec.MatchesName("sleeper", () => ""));
        Assert.False(spec.MatchesName("Sleep", () => ""));
    }
}
