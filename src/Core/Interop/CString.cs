using System.Text;

namespace Kmonitor.Interop;

/// <summary>A string as C wants it: UTF-8 with a NUL at the end, for the byte* paths of Tmds.LibC's calls.</summary>
public static class CString
{
    public static byte[] From(string text)
    {
        var bytes = new byte[Encoding.UTF8.GetByteCount(text) + 1];
        Encoding.UTF8.GetBytes(text, bytes);
        return bytes;
    }
}
