using System.Text;
using Kmonitor.Abi;
using Kmonitor.Procfs;

namespace Kmonitor.Tests.Unit;

/// <summary>
/// Names read from /proc for name subscriptions and records (issue 16): a name seen before must cost
/// no allocation, since one is read at every exec on the machine.
/// </summary>
public class CommNamesTests
{
    [Fact]
    public void A_name_read_again_is_the_same_string_and_allocates_nothing()
    {
        var names = new CommNames();
        int self = Environment.ProcessId;
        string first = names.Read(self)!;
        Assert.Equal(ProcFile.ReadComm(self), first);

        string? again = null;
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 100; i++)
            again = names.Read(self);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Same(first, again);
        Assert.Equal(0, allocated);
    }

    [Fact]
    public void A_task_that_does_not_exist_has_no_name()
    {
        Assert.Null(new CommNames().Read(5_000_000)); // above PID_MAX_LIMIT: never a task
    }

    [Fact]
    public void Names_past_the_capacity_are_still_right_but_not_kept()
    {
        var names = new CommNames(capacity: 2);
        Assert.Equal("a", names.Intern("a"u8));
        Assert.Equal("b", names.Intern("b"u8));
        string c = names.Intern("c"u8);
        Assert.Equal("c", c);
        Assert.Equal(2, names.Count);
        Assert.NotSame(c, names.Intern("c"u8));
        Assert.Same(names.Intern("a"u8), names.Intern("a"u8));
    }

    [Fact]
    public void A_multibyte_name_decodes_as_UTF8()
    {
        Assert.Equal("café-ü", new CommNames().Intern(Encoding.UTF8.GetBytes("café-ü")));
    }

    [Fact]
    public void A_record_takes_the_name_cut_to_15_bytes_as_the_kernel_keeps_it()
    {
        // What Notifier does: encode into 16 bytes on the stack; SetComm keeps 15 and the NUL.
        var record = new KmonitorEventRecord();
        Span<byte> comm = stackalloc byte[KmonitorEventRecord.CommBytes];
        System.Text.Unicode.Utf8.FromUtf16("a-rather-long-process-name", comm, out _, out int written);
        record.SetComm(comm[..written]);
        Assert.Equal("a-rather-long-p", record.Comm);
    }
}
