using static Kmonitor.Abi.KmonitorAbi;
using static Kmonitor.Abi.SubscriptionAbi;

namespace Kmonitor.Tests.Unit.Subscriptions;

public class NameTests
{
    private const int Shell = SubscriptionWorld.Base, Child = Shell + 1, Other = Shell + 2;
    private const int StartStop = KMONITOR_PROCESS_EXEC | KMONITOR_PROCESS_EXIT | KMONITOR_PROCESS_ABORT;

    [Fact]
    public void NAME_reports_the_running_matches_then_a_process_from_its_exec_to_its_exit_with_its_name()
    {
        var w = new SubscriptionWorld();
        w.Proc.Process(Shell, 1, "sh");
        w.Proc.Process(Other, 1, "sleep");
        var sleeps = w.Subscribe(KMONITOR_SCOPE_NAME, StartStop | KMONITOR_PROCESS_EXISTING, pattern: "sleep");

        w.Fork(Shell, Child);               // still "sh": no record
        w.Proc.Process(Child, Shell, "sh");
        w.Proc.Exec(Child, "sleep");
        w.Exec(Child);
        w.Proc.Gone(Child);                 // reaped: /proc knows nothing of it any more
        w.Exit(Child, status: 15, parent: Shell);

        Assert.Equal([(KMONITOR_PROCESS_EXISTING, Other), (KMONITOR_PROCESS_EXEC, Child), (KMONITOR_PROCESS_ABORT, Child), (KMONITOR_PROCESS_EXIT, Child)],
                     w.Sink.Bits(sleeps));
        Assert.All(w.Sink.To(sleeps), e => Assert.Equal("sleep", e.Comm));
        Assert.Equal(15, w.Sink.To(sleeps)[^1].Status);
        Assert.Equal(0, w.Counters.NamesUnreadAtExec);
    }

    [Fact]
    public void A_process_that_execs_another_name_leaves_and_its_children_inherit_membership_until_they_exec()
    {
        var w = new SubscriptionWorld();
        w.Proc.Process(Shell, 1, "sh");
        var shells = w.Subscribe(KMONITOR_SCOPE_NAME, StartStop | KMONITOR_PROCESS_FORK, pattern: "sh");
        w.Fork(Shell, Child);                 // the shell forks: reported; the child is "sh" too
        w.Fork(Child, Child + 10);            // so its fork is reported
        w.Proc.Process(Child, Shell, "sh");
        w.Proc.Exec(Child, "ls");
        w.Exec(Child);                        // it becomes ls: no longer a match
        w.Exit(Child, parent: Shell);

        Assert.Equal([(KMONITOR_PROCESS_FORK, Child), (KMONITOR_PROCESS_FORK, Child + 10)], w.Sink.Bits(shells));
    }

    [Fact]
    public void A_rename_by_COMM_makes_a_match_and_undoes_one()
    {
        var w = new SubscriptionWorld();
        w.Proc.Process(Shell, 1, "python3");
        w.Proc.Process(Other, 1, "worker");
        var workers = w.Subscribe(KMONITOR_SCOPE_NAME, StartStop | KMONITOR_PROCESS_FORK, pattern: "worker");
        w.Proc.Rename(Shell, "worker");
        w.Comm(Shell);
        w.Proc.Rename(Other, "idle");
        w.Comm(Other);
        w.Fork(Shell, Child);
        w.Fork(Other, Child + 1);
        w.Exit(Shell);
        w.Exit(Other);

        Assert.Equal([(KMONITOR_PROCESS_FORK, Child), (KMONITOR_PROCESS_EXIT, Shell)], w.Sink.Bits(workers));
    }

    [Fact]
    public void REGEX_matches_the_name_in_POSIX_extended_syntax()
    {
        var w = new SubscriptionWorld();
        w.Proc.Process(Shell, 1, "sh");
        w.Proc.Process(Other, 1, "nginx");
        var web = w.Subscribe(KMONITOR_SCOPE_REGEX, StartStop | KMONITOR_PROCESS_EXISTING, pattern: "^(nginx|httpd)$");
        w.Fork(Shell, Child);
        w.Proc.Process(Child, Shell, "sh");
        w.Proc.Exec(Child, "httpd");
        w.Exec(Child);
        w.Fork(Shell, Child + 1);
        w.Proc.Process(Child + 1, Shell, "sh");
        w.Proc.Exec(Child + 1, "nginx-debug");
        w.Exec(Child + 1);

        Assert.Equal([(KMONITOR_PROCESS_EXISTING, Other), (KMONITOR_PROCESS_EXEC, Child)], w.Sink.Bits(web));
    }

    [Fact]
    public void REGEX_with_MATCH_CMDLINE_matches_argv_joined_by_spaces_and_counts_the_zombies_it_could_not_read()
    {
        var w = new SubscriptionWorld();
        w.Proc.Process(Shell, 1, "sh", commandLine: "sh -c run");
        w.Proc.Process(Other, 1, "python3", commandLine: "python3 /srv/app/server.py --port 80");
        var servers = w.Subscribe(KMONITOR_SCOPE_REGEX, StartStop | KMONITOR_PROCESS_EXISTING, pattern: "python3? .*server\\.py --port", flags: KMONITOR_MATCH_CMDLINE);

        w.Fork(Shell, Child);
        w.Proc.Process(Child, Shell, "sh");
        w.Proc.Exec(Child, "python3", "python3 server.py --port 81");
        w.Exec(Child);
        w.Fork(Shell, Child + 1);
        w.Proc.Process(Child + 1, Shell, "sh");
        w.Proc.Exec(Child + 1, "python3", "python3 client.py --port 81");
        w.Exec(Child + 1);
        w.Fork(Shell, Child + 2);            // execs the server, and is a zombie before its EXEC is handled
        w.Proc.Process(Child + 2, Shell, "sh");
        w.Proc.Exec(Child + 2, "python3", "python3 server.py --port 82");
        w.Proc.Zombie(Child + 2);
        w.Exec(Child + 2);
        w.Exit(Child);

        Assert.Equal([(KMONITOR_PROCESS_EXISTING, Other), (KMONITOR_PROCESS_EXEC, Child), (KMONITOR_PROCESS_EXIT, Child)], w.Sink.Bits(servers));
        Assert.Equal(1, w.Counters.CommandLineMisses);
    }

    [Fact]
    public void A_process_reaped_before_its_name_was_read_is_counted_and_matches_no_name()
    {
        var w = new SubscriptionWorld();
        w.Proc.Process(Shell, 1, "sleep");
        var sleeps = w.Subscribe(KMONITOR_SCOPE_NAME, StartStop, pattern: "sleep");
        w.Fork(Shell, Child);                 // a "sleep" by inheritance
        w.Exec(Child);                        // exec'd and reaped before it could be read
        w.Exit(Child, parent: Shell);

        Assert.Empty(w.Sink.To(sleeps));
        Assert.Equal(1, w.Counters.NamesUnreadAtExec);
    }

    [Fact]
    public void An_exec_reads_the_name_once_and_the_command_line_once_however_many_subscriptions_and_a_fork_reads_nothing()
    {
        var w = new SubscriptionWorld();
        w.Proc.Process(Shell, 1, "sh");
        for (int i = 0; i < 100; i++)
            w.Subscribe(KMONITOR_SCOPE_NAME, StartStop, pattern: $"name{i}");
        for (int i = 0; i < 5; i++)
            w.Subscribe(KMONITOR_SCOPE_REGEX, StartStop, pattern: $"^re{i}");
        for (int i = 0; i < 5; i++)
            w.Subscribe(KMONITOR_SCOPE_REGEX, StartStop, pattern: $"--opt{i}", flags: KMONITOR_MATCH_CMDLINE);
        int comms = w.Proc.CommReads, lines = w.Proc.CommandLineReads;

        w.Fork(Shell, Child);
        w.Exit(Child, parent: Shell);
        Assert.Equal((comms, lines), (w.Proc.CommReads, w.Proc.CommandLineReads));

        w.Fork(Shell, Child + 1);
        w.Proc.Process(Child + 1, Shell, "sh");
        w.Proc.Exec(Child + 1, "name42", "name42 --opt3");
        w.Exec(Child + 1);
        Assert.Equal((comms + 1, lines + 1), (w.Proc.CommReads, w.Proc.CommandLineReads));
        var matched = w.Sink.Delivered.Select(d => d.Subscription.ToString()).ToList();
        Assert.Equal(["subscription 43 (name 'name42')", "subscription 109 (regex '--opt3' on the command line)"], matched);
    }
}
