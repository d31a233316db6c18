using Itsm.Functions.Hosting;

if (ItsmCommands.TryRun(args, out var exitCode))
{
    return exitCode;
}

try
{
    using var host = ItsmApp.StartedByFunctionsHost(args) ? ItsmApp.BuildFunctionsWorker(args) : ItsmApp.BuildStandalone(args);
    await host.RunAsync();
    return 0;
}
catch (InvalidSettingsException ex)
{
    Console.Error.WriteLine(ex.Message);
    return 2;
}
