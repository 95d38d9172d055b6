namespace Kmonitor.Registrations;

/// <summary>
/// How much one caller may register: at most <see cref="MaxPerFile"/> registrations per open file
/// and <see cref="MaxPerUid"/> for all monitors of one real uid together. The per-uid counts are
/// its own state; a file's count is the file's index.
/// </summary>
public sealed class Quotas(int maxPerFile, int maxPerUid)
{
    private readonly Dictionary<uint, int> _perUid = [];

    public int MaxPerFile { get; } = maxPerFile;
    public int MaxPerUid { get; } = maxPerUid;

    /// <summary>Whether a file that holds <paramref name="registrations"/> may take one more.</summary>
    public bool FileHasRoom(int registrations) => registrations < MaxPerFile;

    /// <summary>Whether <paramref name="uid"/> may take one more, without taking it.</summary>
    public bool UidHasRoom(uint uid)
    {
        lock (_perUid)
            return !_perUid.TryGetValue(uid, out int count) || count < MaxPerUid;
    }

    /// <summary>Counts one more registration for <paramref name="uid"/>; false when it has reached its limit.</summary>
    public bool TryTake(uint uid)
    {
        lock (_perUid)
        {
            _perUid.TryGetValue(uid, out int count);
            if (count >= MaxPerUid)
                return false;
            _perUid[uid] = count + 1;
            return true;
        }
    }

    /// <summary>A registration of <paramref name="uid"/> has gone.</summary>
    public void Give(uint uid)
    {
        lock (_perUid)
        {
            if (_perUid.TryGetValue(uid, out int count) && count > 1)
                _perUid[uid] = count - 1;
            else
                _perUid.Remove(uid);
        }
    }
}
