namespace Kmonitor.Fuse;

public enum FuseLogLevel { Warning, Error }

/// <summary>
/// Where a session says what went wrong with a request or the channel, one line per problem. The
/// program that owns the session decides where the line goes; the layer has no logger of its own.
/// </summary>
public delegate void FuseLog(FuseLogLevel level, string message);
