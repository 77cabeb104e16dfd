using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using BuildFarm.ServiceDefaults.Auth;

namespace BuildFarm.Settings.Tests;

public sealed class Controlling_access(SettingsFixture app) : IClassFixture<SettingsFixture>
{
    [Theory]
    [InlineData("GET", "/api/settings", null, HttpStatusCode.Unauthorized)]
    [InlineData("GET", "/api/settings", FarmRoles.Viewer, HttpStatusCode.OK)]
    [InlineData("GET", "/api/settings", FarmRoles.Submitter, HttpStatusCode.OK)]
    [InlineData("GET", "/api/settings", FarmRoles.Admin, HttpStatusCode.OK)]
    [InlineData("GET", "/api/settings", "guest", HttpStatusCode.Forbidden)]
    [InlineData("PUT", "/api/settings", null, HttpStatusCode.Unauthorized)]
    [InlineData("PUT", "/api/settings", FarmRoles.Viewer, HttpStatusCode.Forbidden)]
    [InlineData("PUT", "/api/settings", FarmRoles.Submitter, HttpStatusCode.Forbidden)]
    [InlineData("PUT", "/api/settings", FarmRoles.Admin, HttpStatusCode.OK)]
    [InlineData("PATCH", "/api/settings/1/", FarmRoles.Submitter, HttpStatusCode.Forbidden)]
    [InlineData("PATCH", "/api/settings/1/", FarmRoles.Admin, HttpStatusCode.OK)]
    [InlineData("GET", "/api/settings/history", null, HttpStatusCode.Unauthorized)]
    [InlineData("GET", "/api/settings/history", FarmRoles.Viewer, HttpStatusCode.OK)]
    [InlineData("GET", "/api/settings/build_status", null, HttpStatusCode.Unauthorized)]
    [InlineData("GET", "/api/settings/build_status", FarmRoles.Viewer, HttpStatusCode.OK)]
    [InlineData("POST", "/api/settings/build_status/clear", FarmRoles.Submitter, HttpStatusCode.Forbidden)]
    [InlineData("POST", "/api/settings/build_status/release/nothing", FarmRoles.Viewer, HttpStatusCode.Forbidden)]
    public async Task Lets_each_role_do_what_it_may(string method, string path, string? role, HttpStatusCode expected)
    {
        var (current, _) = await app.GetAsync();
        using var client = app.Client(role);
        HttpContent? body = method switch
        {
            "PUT" => Json.Body(current),
            "PATCH" => Json.Body($$"""{"maxRetries": {{current.MaxRetries}}}""", Json.MergePatch),
            _ => null,
        };

        using var response = await client.SendAsync(Json.Request(new HttpMethod(method), path, body));

        if (expected == HttpStatusCode.OK)
        {
            Assert.Equal(expected, response.StatusCode);
            return;
        }
        var problem = await Json.ProblemAsync(response, expected);
        Assert.False(string.IsNullOrEmpty(problem.Detail));
        if (expected == HttpStatusCode.Unauthorized)
        {
            Assert.Equal("Bearer", response.Headers.WwwAuthenticate.First().Scheme);
        }
        else
        {
            Assert.Contains(role!, problem.Detail, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Accepts_a_token_made_as_farm_token_makes_it()
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var claims = $$"""{"sub":"carol","name":"carol","role":"viewer","iss":"buildfarm-local","aud":"buildfarm","iat":{{now}},"nbf":{{now}},"exp":{{now + 86400}}}""";
        var token = Sign("""{"alg":"HS256","typ":"JWT"}""", claims, SettingsFixture.SigningKey);
        using var client = app.Client(null);
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);

        using var response = await client.GetAsync("/api/settings");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    public static TheoryData<string, string> RejectedTokens => new()
    {
        { "expired", FarmTokens.Create(SettingsFixture.SigningKey, "dave", FarmRoles.Admin, TimeSpan.FromHours(-1)) },
        { "signature", FarmTokens.Create("another-farm's-signing-key-0123456789abcdef", "dave", FarmRoles.Admin, TimeSpan.FromHours(1)) },
        { "another audience", FarmTokens.Create(SettingsFixture.SigningKey, "dave", FarmRoles.Admin, TimeSpan.FromHours(1), "buildfarm-local", "elsewhere") },
        { "issued by someone else", FarmTokens.Create(SettingsFixture.SigningKey, "dave", FarmRoles.Admin, TimeSpan.FromHours(1), "elsewhere", "buildfarm") },
        { "not HS256", Sign("""{"alg":"none","typ":"JWT"}""", """{"sub":"dave","role":"admin","iss":"buildfarm-local","aud":"buildfarm","exp":4102444800}""", SettingsFixture.SigningKey, unsigned: true) },
    };

    [Theory]
    [MemberData(nameof(RejectedTokens))]
    public async Task Refuses_a_token_that_is_not_the_farms(string why, string token)
    {
        using var client = app.Client(null);
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);

        using var response = await client.GetAsync("/api/settings");

        var problem = await Json.ProblemAsync(response, HttpStatusCode.Unauthorized);
        Assert.False(string.IsNullOrEmpty(problem.Detail), why);
    }

    private static string Sign(string header, string claims, string key, bool unsigned = false)
    {
        var input = $"{Base64Url(Encoding.UTF8.GetBytes(header))}.{Base64Url(Encoding.UTF8.GetBytes(claims))}";
        var signature = unsigned ? "" : Base64Url(HMACSHA256.HashData(Encoding.UTF8.GetBytes(key), Encoding.ASCII.GetBytes(input)));
        return $"{input}.{signature}";
    }

    private static string Base64Url(byte[] data) => Convert.ToBase64String(data).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
