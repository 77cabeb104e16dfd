global using Xunit;
global using BuildFarm.Testing;
