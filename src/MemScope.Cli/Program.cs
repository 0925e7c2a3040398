using MemScope.Cli;

return CliHost.Run(args);
