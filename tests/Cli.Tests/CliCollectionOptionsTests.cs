using VqaApi.Cli;
using VqaApi.Retrieval;

using VqaApi.Api.Tests;

namespace VqaApi.Cli.Tests;

/// <summary>The CLI's collection verbs open collections with the options the service reads from appsettings.json.</summary>
public sealed class CliCollectionOptionsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("vqaapi-cli-options-").FullName;
    public void Dispose() => Directory.Delete(_dir, true);

    [Fact]
    public void Options_come_from_appsettings_and_flags_win()
    {
        File.WriteAllText(Path.Combine(_dir, "appsettings.json"),
            """{ "Collections": { "Root": "/srv/collections", "HnswThreshold": 5000, "Float16": true, "Fsync": "OsBuffered", "SnapshotEveryRecords": 1234 } }""");
        var fromFile = CliCollectionOptions.Load(_dir);
        Assert.Equal("/srv/collections", fromFile.Root);
        Assert.Equal(5000, fromFile.HnswThreshold);
        Assert.True(fromFile.Float16);
        Assert.Equal(FsyncPolicy.OsBuffered, fromFile.Fsync);
        Assert.Equal(1234, fromFile.SnapshotEveryRecords);

        var flags = CliCollectionOptions.Load(_dir, root: "/tmp/c", hnswThreshold: 7);
        Assert.Equal("/tmp/c", flags.Root);
        Assert.Equal(7, flags.HnswThreshold);
        Assert.True(flags.Float16);
    }

    [Fact]
    public void Without_appsettings_the_defaults_apply()
    {
        var options = CliCollectionOptions.Load(_dir);
        var defaults = new CollectionOptions();
        Assert.Equal(defaults.Root, options.Root);
        Assert.Equal(defaults.HnswThreshold, options.HnswThreshold);
        Assert.Equal(defaults.SnapshotEveryRecords, options.SnapshotEveryRecords);
    }

    [Theory]
    [InlineData("""{ "Collections": { "SnapshotEveryRecords": 1 } }""", "SnapshotEveryRecords")]
    [InlineData("""{ "Collections": { "HnswThreshold": "many" } }""", "HnswThreshold")]
    [InlineData("""{ "Collections": { "Root": "" } }""", "Root")]
    [InlineData("""{ "Collections": """, "appsettings.json")]
    public void Bad_configuration_is_an_error_naming_it(string json, string named)
    {
        File.WriteAllText(Path.Combine(_dir, "appsettings.json"), json);
        var e = Assert.Throws<ArgumentException>(() => CliCollectionOptions.Load(_dir));
        Assert.Contains(named, e.Message);
    }
}
