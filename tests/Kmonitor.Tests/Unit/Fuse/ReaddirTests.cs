using Kmonitor.Fuse.FileSystem;
using Kmonitor.Fuse.Protocol;
using static Kmonitor.Tests.Unit.Fuse.FuseWire;

namespace Kmonitor.Tests.Unit.Fuse;

/// <summary>FUSE_READDIR on the one-file mount: ".", ".." and the file, as fuse_dirent records.</summary>
public class ReaddirTests
{
    private static byte[] Readdir(FuseReadIn read) => Request(FuseOpcode.FUSE_READDIR, 1, FuseConstants.FUSE_ROOT_ID, 100, Bytes(read));

    [Fact]
    public void Readdir_pads_each_entry_to_8_bytes_and_resumes_at_an_offset()
    {
        var session = TestSession.Mount(new ScriptedDevice());
        var (_, payload) = session.Ask(Readdir(new FuseReadIn { Size = 4096 }));
        Assert.Equal(32 + 32 + 32, payload.Length);
        var last = Read<FuseDirent>(payload, 64);
        Assert.Equal((2ul, 3ul, 6u, 8u), (last.Ino, last.Off, last.NameLen, last.Type));

        var (_, rest) = session.Ask(Readdir(new FuseReadIn { Size = 4096, Offset = 3 }));
        Assert.Empty(rest);
    }

    [Fact]
    public void Readdir_lists_dot_dotdot_and_the_file_in_that_order()
    {
        var (_, payload) = TestSession.Mount(new ScriptedDevice()).Ask(Readdir(new FuseReadIn { Size = 4096 }));
        var names = new List<(ulong Ino, string Name, uint Type)>();
        for (int at = 0; at < payload.Length; at += (FuseDirent.HeaderSize + (int)Read<FuseDirent>(payload, at).NameLen + 7) & ~7)
        {
            var dirent = Read<FuseDirent>(payload, at);
            names.Add((dirent.Ino, System.Text.Encoding.UTF8.GetString(payload, at + FuseDirent.HeaderSize, (int)dirent.NameLen), dirent.Type));
        }
        Assert.Equal([(1ul, ".", FuseConstants.DT_DIR), (1ul, "..", FuseConstants.DT_DIR), (OneFileFileSystem.FileNodeId, TestSession.FileName, FuseConstants.DT_REG)], names);
    }

    [Fact]
    public void Readdir_sends_only_what_fits_in_the_size_asked_and_goes_on_from_there()
    {
        var session = TestSession.Mount(new ScriptedDevice());
        var (_, first) = session.Ask(Readdir(new FuseReadIn { Size = 70 })); // two 32-byte records fit, not three
        Assert.Equal(64, first.Length);
        Assert.Equal(2ul, Read<FuseDirent>(first, 32).Off);

        var (_, second) = session.Ask(Readdir(new FuseReadIn { Size = 70, Offset = 2 }));
        Assert.Equal(32, second.Length);
        Assert.Equal(OneFileFileSystem.FileNodeId, Read<FuseDirent>(second).Ino);
    }
}
