namespace BuildFarm.Domain;
