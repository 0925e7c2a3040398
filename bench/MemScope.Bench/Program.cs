using BenchmarkDotNet.Running;

// dotnet run -c Release --project bench/MemScope.Bench -- --filter '*'
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
