using BuildFarm.Worker.Builds;

namespace BuildFarm.Worker.Tests;

public sealed class Mapping_exit_codes
{
    [Theory]
    [InlineData(0, BuildRunOutcome.Succeeded)]
    [InlineData(1, BuildRunOutcome.InfrastructureFailed)]
    [InlineData(2, BuildRunOutcome.InfrastructureFailed)]
    [InlineData(3, BuildRunOutcome.InfrastructureFailed)]
    [InlineData(4, BuildRunOutcome.BuildFailed)]
    [InlineData(5, BuildRunOutcome.InfrastructureFailed)]
    [InlineData(6, BuildRunOutcome.InfrastructureFailed)]
    [InlineData(10, BuildRunOutcome.BuildFailed)]
    [InlineData(11, BuildRunOutcome.TimedOut)]
    [InlineData(20, BuildRunOutcome.InfrastructureFailed)]
    [InlineData(25, BuildRunOutcome.InfrastructureFailed)]
    [InlineData(30, BuildRunOutcome.InfrastructureFailed)]
    [InlineData(31, BuildRunOutcome.BuildFailed)]
    [InlineData(40, BuildRunOutcome.BuildFailed)]
    [InlineData(50, BuildRunOutcome.InfrastructureFailed)]
    [InlineData(60, BuildRunOutcome.InfrastructureFailed)]
    [InlineData(65, BuildRunOutcome.InfrastructureFailed)]
    [InlineData(70, BuildRunOutcome.InfrastructureFailed)]
    [InlineData(80, BuildRunOutcome.InfrastructureFailed)]
    [InlineData(110, BuildRunOutcome.InfrastructureFailed)]
    [InlineData(137, BuildRunOutcome.InfrastructureFailed)]
    [InlineData(143, BuildRunOutcome.InfrastructureFailed)]
    [InlineData(99, BuildRunOutcome.InfrastructureFailed)]
    public void Maps_mock_codes_to_build_or_infrastructure_failures(int code, BuildRunOutcome outcome)
    {
        var result = ExitCodes.Mock(code);
        Assert.Equal(outcome, result.Outcome);
        if (code != 0)
        {
            Assert.Equal(code, result.ExitCode);
            Assert.Contains(code.ToString(System.Globalization.CultureInfo.InvariantCulture), result.Reason);
        }
    }

    [Theory]
    [InlineData(0, BuildRunOutcome.Succeeded)]
    [InlineData(1, BuildRunOutcome.BuildFailed)]
    [InlineData(2, BuildRunOutcome.BuildFailed)]
    [InlineData(137, BuildRunOutcome.InfrastructureFailed)]
    public void Maps_rpmbuild_codes(int code, BuildRunOutcome outcome) => Assert.Equal(outcome, ExitCodes.Rpmbuild(code).Outcome);

    [Theory]
    [InlineData("fatal: repository '/nope' does not exist", BuildRunOutcome.BuildFailed)]
    [InlineData("remote: Repository not found.\nfatal: repository 'https://github.com/x/y/' not found", BuildRunOutcome.BuildFailed)]
    [InlineData("fatal: Remote branch nope not found in upstream origin", BuildRunOutcome.BuildFailed)]
    [InlineData("fatal: unable to access 'https://h/x/': Could not resolve host: h", BuildRunOutcome.InfrastructureFailed)]
    [InlineData("fatal: unable to access 'https://h/x/': Failed to connect to h port 443: Connection refused", BuildRunOutcome.InfrastructureFailed)]
    public void Maps_clone_failures(string stderr, BuildRunOutcome outcome) =>
        Assert.Equal(outcome, GitCheckout.ClassifyCloneFailure("https://h/x", "main", stderr, 128).Outcome);
}
