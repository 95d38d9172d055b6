using System.Text;
using Kmonitor.Fuse.Protocol;

namespace Kmonitor.Fuse.Operations;

/// <summary>One name in a directory listing.</summary>
/// <param name="Type">A DT_* value of &lt;dirent.h&gt;.</param>
public readonly record struct DirectoryEntry(ulong Ino, uint Type, string Name);

/// <summary>
/// The answer to READDIR: struct fuse_dirent records, each padded to 8 bytes, as many as fit in the
/// size the request asked for.
/// </summary>
public readonly struct DirectoryReply
{
    private readonly FuseReply _reply;
    private readonly uint _size;

    internal DirectoryReply(FuseReply reply, uint size)
    {
        _reply = reply;
        _size = size;
    }

    public ulong Unique => _reply.Unique;

    /// <summary>
    /// Sends the entries from position <paramref name="offset"/> of the listing on. Each record's off
    /// is the position of the entry after it: where a later READDIR (whose offset it becomes) resumes.
    /// An offset past the end sends none, which ends the listing.
    /// </summary>
    public bool Entries(IReadOnlyList<DirectoryEntry> listing, ulong offset)
    {
        var writer = _reply.Begin();
        int start = FuseOutHeader.Size;
        for (int i = (int)Math.Min(offset, (ulong)listing.Count); i < listing.Count; i++)
        {
            var name = Encoding.UTF8.GetBytes(listing[i].Name);
            int recordSize = (FuseDirent.HeaderSize + name.Length + 7) & ~7;
            if (writer.Length - start + recordSize > _size)
                break;
            writer.Append(new FuseDirent { Ino = listing[i].Ino, Off = (ulong)(i + 1), NameLen = (uint)name.Length, Type = listing[i].Type })
                  .Append(name)
                  .Align(8);
        }
        return _reply.Send(writer.Finish());
    }

    public bool Error(int errno) => _reply.Error(errno);
}
