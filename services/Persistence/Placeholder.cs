namespace BuildFarm.Persistence;
