using System.Diagnostics;

namespace Itsm.Functions.Hosting;

/// <summary>
/// Named points between two writes where a kill test makes the app die as if killed with SIGKILL: the test starts the
/// app as a child process with <c>ITSM_TEST_CRASH_AT</c> naming the point, and the process kills itself there, so the
/// test checks what a crash at exactly that moment leaves behind. Without the variable (always, outside those tests)
/// a point does nothing.
/// </summary>
public static class CrashPoints
{
    public const string Variable = "ITSM_TEST_CRASH_AT";

    private static readonly string? Armed = Environment.GetEnvironmentVariable(Variable);

    public static void Reached(string name)
    {
        if (Armed is not null && string.Equals(Armed, name, StringComparison.Ordinal))
        {
            using var self = Process.GetCurrentProcess();
            self.Kill();
        }
    }
}
