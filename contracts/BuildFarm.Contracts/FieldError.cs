namespace BuildFarm.Contracts;

/// <summary>One reason a request was refused, naming the field it concerns (camelCase).</summary>
public sealed record FieldError(string Field, string Message);
