// The benchmark drives Linux processes, signals, /proc and Unix file modes.
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
