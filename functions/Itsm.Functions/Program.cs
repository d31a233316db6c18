using Itsm.Functions.Hosting;

if (ItsmCommands.TryRun(args, out var exitCode))
{
    return exitCode;
}

try
{
    await ItsmApp.Build(args).RunAsync();
    return 0;
}
catch (InvalidSettingsException ex)
{
    Console.Error.WriteLine(ex.Message);
    return 2;
}
