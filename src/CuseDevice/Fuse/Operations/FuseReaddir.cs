using System.Text;
using Kmonitor.Fuse.Protocol;

namespace Kmonitor.Fuse.Operations;

/// <summary>FUSE_READDIR: struct fuse_dirent records, each padded to 8 bytes, from a given offset.</summary>
public static class FuseReaddir
{
    public readonly record struct Entry(ulong Ino, uint Type, string Name);

    public static ReadOnlySpan<byte> Reply(FuseReplyWriter writer, ulong unique, FuseReadIn request, IReadOnlyList<Entry> entries)
    {
        writer.Begin(unique);
        int start = FuseOutHeader.Size;
        for (int i = (int)request.Offset; i < entries.Count; i++)
        {
            var name = Encoding.UTF8.GetBytes(entries[i].Name);
            int recordSize = (FuseDirent.HeaderSize + name.Length + 7) & ~7;
            if (writer.Length - start + recordSize > request.Size)
                break;
            // off is the offset of the *next* entry: where a later READDIR continues.
            writer.Append(new FuseDirent { Ino = entries[i].Ino, Off = (ulong)(i + 1), NameLen = (uint)name.Length, Type = entries[i].Type })
                  .Append(name)
                  .Align(8);
        }
        return writer.Finish();
    }
}
