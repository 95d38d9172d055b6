using System.Text;
using Kmonitor.Handover;

namespace Kmonitor.Daemon.Handover;

/// <summary>
/// The state's bytes: a magic, the format's version, then the fields in a fixed order, little-endian
/// (BinaryWriter). Only the same format version is read: an instance of another version starts fresh
/// rather than guess at a layout. A checksum at the end catches a torn or corrupted state.
/// </summary>
public static class StateFormat
{
    public static readonly byte[] Magic = "KMSTATE\0"u8.ToArray();
    /// <summary>2: subscriptions are carried too.</summary>
    public const uint Version = 3;

    public static string DaemonVersion =>
        typeof(StateFormat).Assembly.GetName().Version?.ToString() ?? "0";

    public static byte[] Write(HandoverState state)
    {
        using var stream = new MemoryStream();
        using (var w = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true))
        {
            w.Write(Magic);
            w.Write(Version);
            w.Write(state.DaemonVersion);
            w.Write(state.Mode);
            w.Write(state.DevicePath);
            w.Write(state.MountPoint);
            w.Write(state.NegotiatedMinor);
            var service = state.Service;
            w.Write(service.LastHandle);
            w.Write(service.Files.Count);
            foreach (var file in service.Files)
            {
                w.Write(file.Handle);
                w.Write(file.LastSubscriptionId);
                w.Write(file.NextSeq);
                w.Write(file.Dropped);
                w.Write(file.PollHandle is not null); w.Write(file.PollHandle ?? 0);
                w.Write(file.Records.Length);
                w.Write(file.Records);
                w.Write(file.Registrations.Count);
                foreach (var r in file.Registrations)
                {
                    w.Write(r.Target); w.Write(r.TargetTgid); w.Write(r.TargetStart); w.Write(r.TargetUid);
                    w.Write(r.Mask); w.Write(r.MaskBefore); w.Write(r.Signal); w.Write(r.CreatedAtNs); w.Write(r.ChangedAtNs);
                    w.Write(r.OwnerUid); w.Write(r.TargetPidForMonitor); w.Write(r.Comm is not null); w.Write(r.Comm ?? "");
                    w.Write(r.MonitorTgid); w.Write(r.MonitorStart); w.Write(r.MonitorNamespaceDepth); w.Write(r.MonitorPidNamespace);
                }
                w.Write(file.Subscriptions.Count);
                foreach (var s in file.Subscriptions)
                {
                    w.Write(s.Id); w.Write(s.Scope); w.Write(s.Type); w.Write(s.Flags); w.Write(s.Signal);
                    w.Write(s.Pattern is not null); w.Write(s.Pattern ?? "");
                    w.Write(s.Root); w.Write(s.RootPid); w.Write(s.RootStart); w.Write(s.StartNs);
                    w.Write(s.RealUid); w.Write(s.EffectiveUid); w.Write(s.Everyone);
                    w.Write(s.MonitorTgid); w.Write(s.MonitorStart); w.Write(s.MonitorNamespaceDepth); w.Write(s.MonitorPidNamespace);
                }
            }
            w.Write(state.ParkedReads.Count);
            foreach (var read in state.ParkedReads)
            {
                w.Write(read.Unique); w.Write(read.Fh); w.Write(read.BufferBytes);
            }
        }
        var body = stream.ToArray();
        var result = new byte[body.Length + sizeof(ulong)];
        body.CopyTo(result, 0);
        BitConverter.TryWriteBytes(result.AsSpan(body.Length), Checksum(body));
        return result;
    }

    /// <exception cref="FormatException">Not a state of this format version, or damaged.</exception>
    public static HandoverState Read(byte[] bytes)
    {
        if (bytes.Length < Magic.Length + sizeof(uint) + sizeof(ulong) || !bytes.AsSpan(0, Magic.Length).SequenceEqual(Magic))
            throw new FormatException("no state magic");
        uint version = BitConverter.ToUInt32(bytes, Magic.Length);
        if (version != Version)
            throw new FormatException($"state format {version}, this daemon reads {Version}");
        var body = bytes.AsSpan(0, bytes.Length - sizeof(ulong));
        if (BitConverter.ToUInt64(bytes, body.Length) != Checksum(body))
            throw new FormatException("state checksum mismatch");
        try
        {
            using var r = new BinaryReader(new MemoryStream(bytes, Magic.Length + sizeof(uint), body.Length - Magic.Length - sizeof(uint)), Encoding.UTF8);
            string daemonVersion = r.ReadString(), mode = r.ReadString(), devicePath = r.ReadString(), mountPoint = r.ReadString();
            uint minor = r.ReadUInt32();
            ulong lastHandle = r.ReadUInt64();
            var files = new List<FileState>();
            for (int f = Count(r); f > 0; f--)
            {
                ulong handle = r.ReadUInt64();
                uint lastSubscription = r.ReadUInt32(), nextSeq = r.ReadUInt32(), dropped = r.ReadUInt32();
                bool polled = r.ReadBoolean();
                ulong? pollHandle = r.ReadUInt64() is var kh && polled ? kh : null;
                var records = r.ReadBytes(Count(r));
                var registrations = new List<RegistrationState>();
                for (int n = Count(r); n > 0; n--)
                {
                    registrations.Add(new RegistrationState(
                        r.ReadInt32(), r.ReadInt32(), r.ReadUInt64(), r.ReadUInt32(),
                        r.ReadInt32(), r.ReadInt32(), r.ReadInt32(), r.ReadInt64(), r.ReadInt64(),
                        r.ReadUInt32(), r.ReadInt32(), ReadOptional(r),
                        r.ReadInt32(), r.ReadUInt64(), r.ReadInt32(), r.ReadUInt64()));
                }
                var subscriptions = new List<SubscriptionState>();
                for (int n = Count(r); n > 0; n--)
                {
                    subscriptions.Add(new SubscriptionState(
                        r.ReadUInt32(), r.ReadUInt32(), r.ReadUInt32(), r.ReadUInt32(), r.ReadInt32(), ReadOptional(r),
                        r.ReadInt32(), r.ReadInt32(), r.ReadUInt64(), r.ReadUInt64(),
                        r.ReadUInt32(), r.ReadUInt32(), r.ReadBoolean(),
                        r.ReadInt32(), r.ReadUInt64(), r.ReadInt32(), r.ReadUInt64()));
                }
                files.Add(new FileState(handle, lastSubscription, registrations, records, nextSeq, dropped, subscriptions, pollHandle));
            }
            var parked = new List<ParkedReadState>();
            for (int n = Count(r); n > 0; n--)
                parked.Add(new ParkedReadState(r.ReadUInt64(), r.ReadUInt64(), r.ReadInt32()));
            if (r.BaseStream.Position != r.BaseStream.Length)
                throw new FormatException("trailing bytes after the state");
            if (mode is not ("fuse" or "cuse"))
                throw new FormatException($"unknown mode '{mode}'");
            return new HandoverState(daemonVersion, mode, devicePath, mountPoint, minor, new ServiceState(lastHandle, files), parked);
        }
        catch (EndOfStreamException)
        {
            throw new FormatException("state cut short");
        }
    }

    private static string? ReadOptional(BinaryReader r)
    {
        bool present = r.ReadBoolean();
        string value = r.ReadString();
        return present ? value : null;
    }

    private static int Count(BinaryReader r)
    {
        int count = r.ReadInt32();
        if (count < 0 || count > r.BaseStream.Length)
            throw new FormatException($"impossible count {count}");
        return count;
    }

    /// <summary>FNV-1a, 64 bits: not a defence against tampering (only root can hand a state over), a check against damage.</summary>
    private static ulong Checksum(ReadOnlySpan<byte> bytes)
    {
        ulong hash = 0xcbf29ce484222325;
        foreach (byte b in bytes)
            hash = (hash ^ b) * 0x100000001b3;
        return hash;
    }
}
