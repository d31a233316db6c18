using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Itsm.Functions.Hosting;

namespace Itsm.Functions.Tests.Hosting;

public class InvocationEnvelopeTests
{
    [Fact]
    public void String_values_sent_by_the_host_are_decoded_once_to_their_json_text()
    {
        // As in the protocol notes: an activity input "order-42" arrives as JSON text inside a JSON string.
        var body = """{"Data":{"input":"\"\\\"order-42\\\"\""},"Metadata":{"instanceId":"\"abc123\"","sys":{"MethodName":"A"}}}""";

        var request = InvocationEnvelope.ParseRequest(Encoding.UTF8.GetBytes(body));

        var input = InvocationEnvelope.DecodeValue(request.Data["input"]);
        Assert.Equal(JsonValueKind.String, input.ValueKind);
        Assert.Equal("\"order-42\"", input.GetString());
        Assert.Equal("abc123", InvocationEnvelope.DecodeValue(request.Metadata["instanceId"]).GetString());
    }

    [Fact]
    public void Object_values_are_passed_as_objects_and_dates_stay_strings()
    {
        var body = """{"Data":{"req":{"Method":"GET"}},"Metadata":{"EnqueuedTimeUtc":"2026-03-02T08:00:00Z","DeliveryCount":"3"}}""";

        var request = InvocationEnvelope.ParseRequest(Encoding.UTF8.GetBytes(body));

        Assert.Equal(JsonValueKind.Object, InvocationEnvelope.DecodeValue(request.Data["req"]).ValueKind);
        Assert.Equal("2026-03-02T08:00:00Z", InvocationEnvelope.DecodeValue(request.Metadata["EnqueuedTimeUtc"]).GetString());
        Assert.Equal(3, InvocationEnvelope.DecodeValue(request.Metadata["DeliveryCount"]).GetInt32());
    }

    [Theory]
    [InlineData("plain text body")]
    [InlineData("{\"channel\":\"email\",\"externalId\":\"m-1\"}")]
    [InlineData("\"already quoted\"")]
    [InlineData("")]
    public void A_queue_message_body_survives_the_hosts_double_encoding_unchanged(string original)
    {
        var data = new JsonObject { ["message"] = InvocationEnvelope.EncodeString(original) };
        var bytes = InvocationEnvelope.SerializeRequest(data, new JsonObject());

        var request = InvocationEnvelope.ParseRequest(bytes);

        Assert.Equal(original, InvocationEnvelope.DecodeString(request.Data["message"]));
    }

    [Fact]
    public void The_host_encoding_of_a_string_is_json_text_inside_a_json_string()
    {
        var encoded = InvocationEnvelope.EncodeString("abc").ToJsonString();

        Assert.Equal("\"\\u0022abc\\u0022\"", encoded);
        Assert.Equal("\"abc\"", JsonSerializer.Deserialize<string>(encoded));
    }

    [Theory]
    [InlineData("not json", "not valid JSON")]
    [InlineData("[1,2]", "must be a JSON object")]
    [InlineData("{\"Metadata\":{}}", "'Data' is missing")]
    [InlineData("{\"Data\":\"x\"}", "'Data' is missing or is not a JSON object")]
    [InlineData("{\"Data\":{},\"Metadata\":[]}", "'Metadata' must be a JSON object")]
    public void Malformed_envelopes_are_rejected_with_the_reason(string body, string reason)
    {
        var error = Assert.Throws<EnvelopeFormatException>(() => InvocationEnvelope.ParseRequest(Encoding.UTF8.GetBytes(body)));

        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_http_request_object_is_read_with_its_query_headers_route_values_and_body()
    {
        var json = """
            {"Url":"https://app/api/tickets/42?x=1","Method":"post","Query":{"x":"1"},
             "Headers":{"Content-Type":["application/json"],"If-Match":"\"e1\""},
             "Params":{"id":"42"},"Identities":[],"Body":"{\"title\":\"Printer\"}"}
            """;

        var request = HttpTriggerRequest.Parse(JsonDocument.Parse(json).RootElement);

        Assert.Equal("POST", request.Method);
        Assert.Equal("1", request.QueryValue("X"));
        Assert.Equal("application/json", request.Header("content-type"));
        Assert.Equal("\"e1\"", request.Header("If-Match"));
        Assert.Equal("42", request.RouteValue("id"));
        Assert.Equal("{\"title\":\"Printer\"}", request.Body);
    }

    [Fact]
    public void A_result_is_written_with_outputs_logs_and_return_value()
    {
        var result = new InvocationResult(
            new Dictionary<string, JsonNode?> { ["res"] = new HttpResponseOutput(201, new Dictionary<string, string> { ["Location"] = "/api/x" }, "{}").ToJson() },
            ["created"],
            JsonValue.Create("done"));

        var json = Encoding.UTF8.GetString(InvocationEnvelope.SerializeResult(result));

        Assert.Equal("""{"Outputs":{"res":{"statusCode":201,"headers":{"Location":"/api/x"},"body":"{}"}},"Logs":["created"],"ReturnValue":"done"}""", json);
    }

    [Fact]
    public void An_http_output_with_a_string_status_code_is_read_like_the_host_does()
    {
        var output = HttpResponseOutput.Parse(JsonNode.Parse("""{"statusCode":"202","headers":{"Retry-After":"10"},"body":{"id":"x"}}"""));

        Assert.Equal(202, output.StatusCode);
        Assert.Equal("10", output.Headers["retry-after"]);
        Assert.Equal("{\"id\":\"x\"}", output.Body);
    }
}
