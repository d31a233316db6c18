using System.Runtime.CompilerServices;
using Itsm.Functions.Security;

namespace Itsm.Functions.Tests.Security;

internal static class IdentityModelSetup
{
    /// <summary>
    /// Tests use IdentityModel directly (to forge tokens), possibly before any type of the app is touched; the app's
    /// module initializer sets IdentityModel's process-wide switches, so it runs first, as it does in the app.
    /// </summary>
    [ModuleInitializer]
    internal static void RunAppModuleInitializer() => RuntimeHelpers.RunModuleConstructor(typeof(BearerTokenValidator).Module.ModuleHandle);
}
