namespace Itsm.Durable.Tests;

public class PlaceholderTests
{
}
