using System.CommandLine;
using VqaApi.Api.Security;

namespace VqaApi.Cli;

/// <summary><c>vqa keys create|list|revoke</c>: the service's API keys, in the keys file it reads (Auth:KeysFile).</summary>
public static class KeyCommands
{
    public static Command Create(Func<Func<int>, int> guarded)
    {
        var keys = new Command("keys", "API keys of the service: create (shown once), list, revoke. Stored hashed in Auth:KeysFile; a running service picks up changes.");
        var file = new Option<string?>("--keys-file") { Description = "keys file (default: Auth:KeysFile of appsettings.json in the working folder, as the service reads it)" };

        var name = new Option<string>("--name") { Description = "who or what the key is for", Required = true };
        var scope = new Option<string>("--scope") { Description = "read (embed, classify, VQA, search), write (+ collection items) or admin (+ collections and heads)", DefaultValueFactory = _ => ApiScopes.Read };
        scope.AcceptOnlyFromAmong(ApiScopes.All);
        var create = new Command("create", "Create a key and print it; it is not stored and cannot be shown again") { name, scope, file };
        create.SetAction(parse => guarded(() =>
        {
            var store = Open(parse.GetValue(file));
            var (record, key) = store.Create(parse.GetValue(name)!, parse.GetValue(scope)!);
            Console.WriteLine(key);
            Console.Error.WriteLine($"created key {record.Id} ('{record.Name}', scope {record.Scope}) in {store.Path}; send it as 'Authorization: Bearer KEY'. It is shown only now.");
            return 0;
        }));

        var list = new Command("list", "List keys (id, name, scope, created, revoked); never the keys themselves") { file };
        list.SetAction(parse => guarded(() =>
        {
            var store = Open(parse.GetValue(file));
            var all = store.List();
            if (all.Count == 0) { Console.Error.WriteLine($"no keys in {store.Path}"); return 0; }
            Console.WriteLine($"{"id",-12}  {"scope",-5}  {"created (UTC)",-16}  {"revoked (UTC)",-16}  name");
            foreach (var k in all)
                Console.WriteLine($"{k.Id,-12}  {k.Scope,-5}  {k.CreatedAt.UtcDateTime:yyyy-MM-dd HH:mm}  {(k.RevokedAt is { } r ? r.UtcDateTime.ToString("yyyy-MM-dd HH:mm") : "-"),-16}  {k.Name}");
            return 0;
        }));

        var id = new Argument<string>("id") { Description = "the key's id (from 'keys list')" };
        var revoke = new Command("revoke", "Revoke a key: a running service refuses it from its next call") { id, file };
        revoke.SetAction(parse => guarded(() =>
        {
            var store = Open(parse.GetValue(file));
            if (!store.Revoke(parse.GetValue(id)!)) throw new ArgumentException($"there is no key '{parse.GetValue(id)}' in {store.Path}");
            Console.Error.WriteLine($"revoked key {parse.GetValue(id)}");
            return 0;
        }));

        keys.Subcommands.Add(create);
        keys.Subcommands.Add(list);
        keys.Subcommands.Add(revoke);
        return keys;
    }

    private static ApiKeyStore Open(string? file)
    {
        if (file is null)
        {
            var options = new ApiKeyOptions();
            CliConfiguration.Build(Environment.CurrentDirectory).GetSection(ApiKeyOptions.Section).Bind(options);
            file = options.KeysFile;
        }
        return new ApiKeyStore(file);
    }
}
