using System.Diagnostics;
using System.Reflection;
using System.Runtime.InteropServices;
using Kmonitor.Abi;
using Kmonitor.Tests.Infrastructure;
using ClientAbi = Kmonitor.Client.Interop.KmonitorAbi;
using ClientCmd = Kmonitor.Client.Interop.kmonitor_cmd;
using ClientEvent = Kmonitor.Client.Interop.kmonitor_event;
using ClientSubscription = Kmonitor.Client.Interop.kmonitor_subscription;

namespace Kmonitor.Tests.Unit;

/// <summary>
/// The ABI is declared twice in C#: by the daemon (src/Core/Abi) and by the client library
/// (src/Client/Interop), which third parties take without the daemon. Both are held here to
/// include/linux/kmonitor.h as the C compiler reads it (tests/clients/kmheader.c), so that
/// neither can drift from the header, nor from each other.
/// </summary>
public class HeaderAgreementTests
{
    private static readonly Lazy<Dictionary<string, ulong>> Header = new(() =>
    {
        var program = Process.Start(new ProcessStartInfo(TestPaths.Native("kmheader")) { RedirectStandardOutput = true })!;
        var lines = program.StandardOutput.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        program.WaitForExit();
        Assert.Equal(0, program.ExitCode);
        return lines.Select(l => l.Split(' ')).ToDictionary(f => f[0], f => ulong.Parse(f[1]));
    });

    private static IEnumerable<string> HeaderConstants => Header.Value.Keys.Where(k => k.StartsWith("KMONITOR_"));

    /// <summary>Every public or internal constant named KMONITOR_* of the given classes, by name.</summary>
    private static Dictionary<string, ulong> Constants(params Type[] types) => types
        .SelectMany(t => t.GetFields(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static))
        .Where(f => f.IsLiteral && f.Name.StartsWith("KMONITOR_"))
        .ToDictionary(f => f.Name, f => Convert.ToUInt64(f.GetRawConstantValue()));

    private static void AssertSameConstants(Dictionary<string, ulong> declared)
    {
        foreach (string name in HeaderConstants)
            Assert.True(declared.TryGetValue(name, out ulong value) && value == Header.Value[name],
                $"{name}: the header says {Header.Value[name]}, C# says {(declared.TryGetValue(name, out ulong v) ? v : "nothing")}");
        Assert.Empty(declared.Keys.Except(HeaderConstants)); // nothing the header does not have
    }

    [Fact]
    public void The_daemons_constants_are_the_headers() =>
        AssertSameConstants(Constants(typeof(KmonitorAbi), typeof(SubscriptionAbi)));

    [Fact]
    public void The_client_librarys_constants_are_the_headers() =>
        AssertSameConstants(Constants(typeof(ClientAbi)));

    [Fact]
    public void The_daemons_structs_are_laid_out_as_the_headers()
    {
        Assert.Equal(Header.Value["sizeof(kmonitor_cmd)"], (ulong)Marshal.SizeOf<KmonitorCmd>());
        Assert.True(Header.Value["sizeof(kmonitor_cmd)"] == KmonitorCmd.Size);
        AssertLayout<KmonitorEventRecord>("kmonitor_event");
        Assert.True(Header.Value["sizeof(kmonitor_event)"] == KmonitorEventRecord.Size);
        AssertLayout<KmonitorSubscription>("kmonitor_subscription");
        Assert.True(Header.Value["sizeof(kmonitor_subscription)"] == KmonitorSubscription.Size);
    }

    [Fact]
    public void The_client_librarys_structs_are_laid_out_as_the_headers()
    {
        AssertLayout<ClientCmd>("kmonitor_cmd");
        AssertLayout<ClientEvent>("kmonitor_event");
        AssertLayout<ClientSubscription>("kmonitor_subscription");
    }

    /// <summary>The size, and the offset of every field the header names (C# fields carry the C names).</summary>
    private static void AssertLayout<T>(string cStruct) where T : struct
    {
        Assert.Equal(Header.Value[$"sizeof({cStruct})"], (ulong)Marshal.SizeOf<T>());
        var fields = Header.Value.Keys.Where(k => k.StartsWith(cStruct + ".")).ToList();
        Assert.NotEmpty(fields);
        foreach (string key in fields)
        {
            string field = key[(cStruct.Length + 1)..];
            Assert.True(typeof(T).GetField(field) is not null, $"{typeof(T).Name} has no field {field}");
            Assert.Equal(Header.Value[key], (ulong)Marshal.OffsetOf<T>(field));
        }
    }
}
