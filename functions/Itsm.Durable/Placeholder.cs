namespace Itsm.Durable;

internal static class DurableAssembly
{
}
