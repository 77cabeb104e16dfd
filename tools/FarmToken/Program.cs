using BuildFarm.ServiceDefaults.Auth;

// Prints a bearer token for the farm, minted by FarmTokens (HS256; sub, name, role, iss, aud, iat, nbf, exp).
//   BUILDFARM_SIGNING_KEY=KEY dotnet BuildFarm.FarmToken.dll --role viewer|submitter|admin [--user NAME] [--hours N]
// ./farm token runs it with the farm's key (.farm/signing.key unless BUILDFARM_SIGNING_KEY is set). Exit code 1 on a usage error.
const int MaxHours = 10 * 366 * 24;
const string Usage = "usage: ./farm token --role viewer|submitter|admin [--user NAME] [--hours N]";

string? role = null;
var user = Environment.GetEnvironmentVariable("USER") is { Length: > 0 } name ? name : "developer";
var hours = "24";
for (var i = 0; i < args.Length; i++)
{
    var arg = args[i];
    var (option, value) = arg.Split('=', 2) is [var o, var v] ? (o, v) : (arg, i + 1 < args.Length ? args[i + 1] : "");
    switch (option)
    {
        case "--role": role = value; break;
        case "--user": user = value; break;
        case "--hours": hours = value; break;
        default: return Fail($"unknown option for token: {arg} ({Usage})");
    }
    i += option == arg ? 1 : 0;
}

if (role is not (FarmRoles.Viewer or FarmRoles.Submitter or FarmRoles.Admin))
{
    return Fail("token needs --role viewer, submitter or admin");
}
if (user.Length == 0)
{
    return Fail("--user needs a name");
}
if (!int.TryParse(hours, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var lifetime) || lifetime <= 0)
{
    return Fail("--hours needs a positive whole number");
}
if (lifetime > MaxHours)
{
    return Fail($"--hours may be at most {MaxHours} (ten years)");
}
var key = Environment.GetEnvironmentVariable("BUILDFARM_SIGNING_KEY");
if (string.IsNullOrEmpty(key))
{
    return Fail("BUILDFARM_SIGNING_KEY is not set: the key the services check tokens with (./farm token sets it)");
}
if (System.Text.Encoding.UTF8.GetByteCount(key) < FarmAuthOptions.MinimumKeyBytes)
{
    return Fail($"BUILDFARM_SIGNING_KEY is {System.Text.Encoding.UTF8.GetByteCount(key)} bytes; an HS256 key needs at least {FarmAuthOptions.MinimumKeyBytes} (as the services require)");
}

Console.WriteLine(FarmTokens.Create(key, user, role, TimeSpan.FromHours(lifetime)));
return 0;

static int Fail(string message)
{
    Console.Error.WriteLine($"[farm] error: {message}");
    return 1;
}
