global using System.Net;
global using System.Net.Http.Json;
global using BuildFarm.Contracts;
global using BuildFarm.Settings.Tests.Infrastructure;
global using Xunit;
global using BuildFarm.Testing;
