using BenchmarkDotNet.Running;
using Itsm.Benchmarks;

// Commands that measure whole systems (a durable engine, a seeded database) run once and print figures;
// everything else goes to BenchmarkDotNet.
return args switch
{
    ["tickets", .. var rest] => await TicketsCommand.RunAsync(rest),
    ["sla", .. var rest] => await SlaCommand.RunAsync(rest),
    ["cmdb", .. var rest] => await CmdbBenchCommand.RunAsync(rest),
    ["intake", .. var rest] => await IntakeCommand.RunAsync(rest),
    ["durable-chain", .. var rest] => await DurableChainCommand.RunAsync(rest),
    ["reports", .. var rest] => await ReportsCommand.RunAsync(rest),
    _ => RunBenchmarkDotNet(args),
};

static int RunBenchmarkDotNet(string[] args)
{
    var summaries = BenchmarkSwitcher.FromAssembly(typeof(BenchApp).Assembly).Run(args);
    return summaries.Any(s => s.HasCriticalValidationErrors || s.Reports.Any(r => !r.Success)) ? 1 : 0;
}
