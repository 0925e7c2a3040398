namespace MemScope.Cli.Commands;

/// <summary>Each command is a small static class with Create() returning its System.CommandLine Command.</summary>
internal static class CommandConventions;
