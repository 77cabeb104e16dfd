using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace BuildFarm.Settings.Tests.Infrastructure;

/// <summary>Request bodies and problem details.</summary>
public static class Json
{
    public const string MergePatch = "application/merge-patch+json";
    public const string Problem = "application/problem+json";

    public static StringContent Body(string json, string mediaType = "application/json") => new(json, Encoding.UTF8, mediaType);

    public static StringContent Body(object value, string mediaType = "application/json") =>
        Body(JsonSerializer.Serialize(value, JsonSerializerOptions.Web), mediaType);

    /// <summary>Asserts the response is problem details with <paramref name="status"/> and returns them.</summary>
    public static async Task<HttpValidationProblemDetails> ProblemAsync(HttpResponseMessage response, HttpStatusCode status)
    {
        Assert.Equal(status, response.StatusCode);
        Assert.Equal(Problem, response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<HttpValidationProblemDetails>();
        Assert.NotNull(problem);
        Assert.Equal((int)status, problem.Status);
        return problem;
    }

    public static HttpRequestMessage Request(HttpMethod method, string path, HttpContent? content = null, string? ifMatch = null)
    {
        var request = new HttpRequestMessage(method, path) { Content = content };
        if (ifMatch is not null)
        {
            request.Headers.IfMatch.Add(new EntityTagHeaderValue(ifMatch));
        }
        return request;
    }
}
