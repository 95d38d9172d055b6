using Kmonitor.Daemon.Handover;
using static Tmds.Linux.LibC;

namespace Kmonitor.Tests.Unit.Handover;

/// <summary>
/// The state memfd (a real one) keeps a whole state current whatever instant a kill comes: a new
/// state is written beside the current one and only then made current by the header.
/// </summary>
public class StateMemfdTests
{
    private static byte[] Bytes(int length, byte fill) => Enumerable.Repeat(fill, length).ToArray();

    [Fact]
    public void Each_replacement_becomes_current_whatever_its_size()
    {
        int fd = StateMemfd.Create(Bytes(100, 1));
        try
        {
            Assert.Equal(Bytes(100, 1), StateMemfd.ReadCurrent(fd));
            foreach (var (length, fill) in new[] { (5000, 2), (50, 3), (20000, 4), (10, 5), (10, 6), (30000, 7) })
            {
                Assert.Equal(0, StateMemfd.Replace(fd, Bytes(length, (byte)fill)));
                Assert.Equal(Bytes(length, (byte)fill), StateMemfd.ReadCurrent(fd));
            }
        }
        finally
        {
            close(fd);
        }
    }

    [Fact]
    public void A_replacement_cut_short_before_its_header_leaves_the_previous_state_whole()
    {
        // What a kill between the data write and the header write leaves: the new bytes written
        // where Replace would put them, the header not switched. Replace never writes over the
        // current state, so every place it could choose leaves it intact.
        int fd = StateMemfd.Create(Bytes(3000, 1));
        try
        {
            Assert.Equal(0, StateMemfd.Replace(fd, Bytes(6000, 2))); // current now at the high place
            long end = lseek(fd, 0, SEEK_END); // the current state's end
            long after = (end + 4095) / 4096 * 4096;
            unsafe
            {
                var scribble = Bytes(6000, 9);
                fixed (byte* p = scribble)
                {
                    // Both places a next Replace may pick: right after the header, and after the current state.
                    Assert.Equal(3000, (long)pwrite(fd, p, 3000, StateMemfd.HeaderBytes));
                    Assert.Equal(6000, (long)pwrite(fd, p, 6000, after));
                }
            }
            Assert.Equal(Bytes(6000, 2), StateMemfd.ReadCurrent(fd));
        }
        finally
        {
            close(fd);
        }
    }

    [Fact]
    public void A_header_pointing_outside_the_file_is_refused()
    {
        int fd = StateMemfd.Create(Bytes(10, 1));
        try
        {
            Assert.Equal(0, ftruncate(fd, StateMemfd.HeaderBytes + 5));
            Assert.Throws<FormatException>(() => StateMemfd.ReadCurrent(fd));
        }
        finally
        {
            close(fd);
        }
    }
}
