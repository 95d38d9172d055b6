namespace Kmonitor.Procfs;

/// <summary>The processes (thread-group leaders) /proc lists now: its numeric entries.</summary>
public static class ProcessList
{
    /// <summary>Adds every listed pid to <paramref name="pids"/>, in ascending order.</summary>
    public static void Read(List<int> pids)
    {
        int start = pids.Count;
        foreach (var entry in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(entry.AsSpan()), out int pid) && pid > 0)
                pids.Add(pid);
        }
        pids.Sort(start, pids.Count - start, null);
    }
}
