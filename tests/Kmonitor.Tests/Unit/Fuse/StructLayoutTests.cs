using System.Reflection;
using System.Runtime.InteropServices;
using Kmonitor.Fuse.Protocol;
using Kmonitor.Tests.Infrastructure;

namespace Kmonitor.Tests.Unit.Fuse;

/// <summary>
/// Every message layout, constant and opcode of the FUSE layer against the kernel's own
/// &lt;linux/fuse.h&gt;: tests/clients/fuse_layout.c prints the header's sizes, offsets and values,
/// and each C# struct must match field for field.
/// </summary>
public class StructLayoutTests
{
    /// <summary>
    /// Fields the C# structs have that an older header lacks, with the minor that added them. A
    /// header older than that prints none of them (fuse_layout.c's #if); any other missing field fails.
    /// </summary>
    private static readonly Dictionary<(Type, string), uint> NewerThanSomeHeaders = new()
    {
        [(typeof(FuseInitOut), nameof(FuseInitOut.MaxStackDepth))] = 40,
        [(typeof(FuseInitOut), nameof(FuseInitOut.RequestTimeout))] = 43,
        [(typeof(FuseInitOut), nameof(FuseInitOut.Unused))] = 43, // 16-bit, after request_timeout, since 7.43
        [(typeof(FuseOpenOut), nameof(FuseOpenOut.BackingId))] = 40,
    };

    private static readonly Dictionary<string, uint> OpcodesNewerThanSomeHeaders = new()
    {
        [nameof(FuseOpcode.FUSE_STATX)] = 39,
    };

    private sealed record Header(uint Minor, Dictionary<string, int> Structs, Dictionary<string, (int Offset, int Size)> Fields,
                                 Dictionary<string, ulong> Constants, Dictionary<string, uint> Opcodes);

    private static readonly Lazy<Header> Kernel = new(ReadHeader);

    private static Header ReadHeader()
    {
        var run = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo(TestPaths.Native("fuse_layout"))
        {
            RedirectStandardOutput = true,
        })!;
        string output = run.StandardOutput.ReadToEnd();
        run.WaitForExit();
        Assert.Equal(0, run.ExitCode);
        var header = new Header(0, [], [], [], []);
        uint minor = 0;
        foreach (var line in output.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var words = line.Split(' ');
            switch (words[0])
            {
                case "minor": minor = uint.Parse(words[1]); break;
                case "struct": header.Structs.Add(words[1], int.Parse(words[2])); break;
                case "field": header.Fields.Add(words[1], (int.Parse(words[2]), int.Parse(words[3]))); break;
                case "const": header.Constants.Add(words[1], ulong.Parse(words[2])); break;
                case "opcode": header.Opcodes.Add(words[1], uint.Parse(words[2])); break;
                default: Assert.Fail($"fuse_layout printed an unknown line: {line}"); break;
            }
        }
        Assert.True(minor >= 31, $"the installed linux/fuse.h is 7.{minor}, older than the 7.31 the layer speaks");
        return header with { Minor = minor };
    }

    /// <summary>Every wire struct of the layer: the public value types of Kmonitor.Fuse.Protocol that are not enums.</summary>
    private static IEnumerable<Type> WireStructTypes() =>
        typeof(FuseInHeader).Assembly.GetExportedTypes()
            .Where(t => t.Namespace == typeof(FuseInHeader).Namespace && t.IsValueType && !t.IsEnum && !t.IsNested)
            .OrderBy(t => t.Name);

    public static TheoryData<string> WireStructs() => new(WireStructTypes().Select(t => t.Name));

    /// <summary>FuseInHeader is fuse_in_header, CuseInitOut cuse_init_out: the kernel's name in C# case.</summary>
    private static string KernelName(string name) =>
        string.Concat(name.Select((c, i) => char.IsUpper(c) && i > 0 ? "_" + char.ToLowerInvariant(c) : char.ToLowerInvariant(c).ToString()));

    /// <summary>C's field names are C#'s with underscores, so names match ignoring case and underscores.</summary>
    private static string Normalised(string name) => name.Replace("_", "").ToLowerInvariant();

    private static int SizeOf(Type type) => Marshal.SizeOf(type.IsEnum ? Enum.GetUnderlyingType(type) : type);

    [Theory]
    [MemberData(nameof(WireStructs))]
    public void A_struct_has_the_size_and_field_offsets_of_linux_fuse_h(string typeName)
    {
        var header = Kernel.Value;
        var type = typeof(FuseInHeader).Assembly.GetType($"{typeof(FuseInHeader).Namespace}.{typeName}")!;
        string cName = KernelName(typeName);
        Assert.True(header.Structs.TryGetValue(cName, out int size), $"fuse_layout.c prints no struct {cName}: add it");
        Assert.Equal(size, Marshal.SizeOf(type));

        var kernelFields = header.Fields.Where(f => f.Key.StartsWith(cName + ".", StringComparison.Ordinal))
                                        .ToDictionary(f => Normalised(f.Key[(cName.Length + 1)..]), f => f.Value);
        var fields = type.GetFields(BindingFlags.Public | BindingFlags.Instance);
        foreach (var field in fields)
        {
            int offset = (int)Marshal.OffsetOf(type, field.Name);
            if (kernelFields.TryGetValue(Normalised(field.Name), out var kernel))
            {
                Assert.True((kernel.Offset, kernel.Size) == (offset, SizeOf(field.FieldType)),
                    $"{typeName}.{field.Name} is at {offset}, {SizeOf(field.FieldType)} bytes; {cName} has it at {kernel.Offset}, {kernel.Size} bytes");
            }
            else
            {
                // Only a field newer than the installed header may be missing from it, and it must still fit.
                Assert.True(NewerThanSomeHeaders.TryGetValue((type, field.Name), out uint since) && header.Minor < since,
                    $"{typeName}.{field.Name} has no counterpart in {cName} (linux/fuse.h 7.{header.Minor}); add it to fuse_layout.c");
                Assert.True(offset + SizeOf(field.FieldType) <= size, $"{typeName}.{field.Name} lies outside {cName}");
            }
        }
        var names = fields.Select(f => Normalised(f.Name)).ToHashSet();
        Assert.All(kernelFields.Keys, name => Assert.Contains(name, names));
    }

    [Fact]
    public void Every_struct_fuse_layout_prints_is_one_of_the_layers()
    {
        var ours = WireStructTypes().Select(t => KernelName(t.Name)).ToHashSet();
        Assert.All(Kernel.Value.Structs.Keys, name => Assert.Contains(name, ours));
    }

    [Fact]
    public void The_constants_have_the_values_of_linux_fuse_h()
    {
        var header = Kernel.Value;
        foreach (var constant in typeof(FuseConstants).GetFields(BindingFlags.Public | BindingFlags.Static).Where(f => f.IsLiteral))
        {
            if (constant.Name == nameof(FuseConstants.FUSE_KERNEL_MINOR_VERSION))
                continue; // ours is the minor we speak, not the header's
            Assert.True(header.Constants.TryGetValue(constant.Name, out ulong value), $"fuse_layout.c prints no {constant.Name}: add it");
            Assert.Equal(value, Convert.ToUInt64(constant.GetValue(null)));
        }
    }

    [Fact]
    public void The_opcodes_have_the_values_of_linux_fuse_h()
    {
        var header = Kernel.Value;
        foreach (var opcode in Enum.GetValues<FuseOpcode>())
        {
            string name = opcode.ToString();
            if (header.Opcodes.TryGetValue(name, out uint value))
                Assert.Equal(value, (uint)opcode);
            else
                Assert.True(OpcodesNewerThanSomeHeaders.TryGetValue(name, out uint since) && header.Minor < since,
                    $"{name} is not in linux/fuse.h 7.{header.Minor}; add it to fuse_layout.c");
        }
        Assert.Equal(Enum.GetValues<FuseOpcode>().Length, header.Opcodes.Count + OpcodesNewerThanSomeHeaders.Count(o => header.Minor < o.Value));
    }
}
