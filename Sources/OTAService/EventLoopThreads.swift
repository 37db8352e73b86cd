import NIOCore

/// The threads of the process's shared NIO event loop group, which carries the device gateway, the management API
/// and the PostgreSQL connections: one per core unless limited (`ota serve --event-loops`). Several instances on one
/// machine each starting a thread per core oversubscribe its cores; each is better given its share.
public enum EventLoopThreads {
    /// Limits the group to `count` threads. Call it once, before anything networks: NIO ignores a limit set after the
    /// group started and traps on a second one.
    public static func limit(to count: Int) {
        NIOSingletons.groupLoopCountSuggestion = count
    }
}
