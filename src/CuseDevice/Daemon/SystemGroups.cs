namespace Kmonitor.Daemon;

/// <summary>Group names to ids, from /etc/group (the daemon needs no NSS for its one lookup).</summary>
public static class SystemGroups
{
    public static int? FindGid(string name, string groupFile = "/etc/group")
    {
        if (!File.Exists(groupFile))
            return null;
        foreach (var line in File.ReadLines(groupFile))
        {
            var fields = line.Split(':');
            if (fields.Length >= 3 && fields[0] == name && int.TryParse(fields[2], out int gid))
                return gid;
        }
        return null;
    }
}
