global using BuildFarm.Contracts;
global using BuildFarm.Worker.Tests.Support;
global using Xunit;

[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
