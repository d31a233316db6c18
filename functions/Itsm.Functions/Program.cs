using Itsm.Functions.Hosting;
using Itsm.Functions.Hosting.Standalone;
using Microsoft.AspNetCore.Connections;

if (ItsmCommands.TryRun(args, out var exitCode))
{
    return exitCode;
}

try
{
    var standalone = !ItsmApp.StartedByFunctionsHost(args);
    using var host = standalone ? ItsmApp.BuildStandalone(args) : ItsmApp.BuildFunctionsWorker(args);
    if (standalone && ListeningPorts.TakenMessage(host.Services.GetRequiredService<ItsmOptions>().Standalone.Urls) is { } taken)
    {
        Console.Error.WriteLine(taken);
        return 2;
    }

    await host.RunAsync();
    return 0;
}
catch (InvalidSettingsException ex)
{
    Console.Error.WriteLine(ex.Message);
    return 2;
}
catch (IOException ex) when (ex.InnerException is AddressInUseException)
{
    // Another program took the port between the check and the bind.
    Console.Error.WriteLine($"{ex.Message} Stop that program, or listen elsewhere: set Itsm__Standalone__Urls.");
    return 2;
}
