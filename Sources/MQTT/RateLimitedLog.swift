// Log lines for events an attacker can produce at will (a connection shed, a request timed out). Each event is
// still counted elsewhere; the log gets at most one line per key and interval, so a flood of 100,000 sockets
// writes a few lines that say how many were held back, not 100,000 lines that fill the disk.
import Logging
import NIOConcurrencyHelpers
import NIOCore

public final class RateLimitedLog: Sendable {
    private struct Window {
        var lastLogged: NIODeadline
        var suppressed: Int
    }

    private let logger: Logger
    private let interval: TimeAmount
    private let now: @Sendable () -> NIODeadline
    private let windows = NIOLockedValueBox<[String: Window]>([:])

    public init(logger: Logger, interval: Duration, now: @escaping @Sendable () -> NIODeadline = { .now() }) {
        self.logger = logger
        self.interval = TimeAmount(interval)
        self.now = now
    }

    /// Logs a warning unless one with the same key went out less than `interval` ago. Returns whether it did; a
    /// line that goes out carries `suppressed`: how many of its key were held back since the previous one. The
    /// caller's file, function and line go to the log, so its source is the caller's module.
    @discardableResult
    public func warning(
        _ message: Logger.Message, key: String, metadata: Logger.Metadata = [:], file: String = #fileID,
        function: String = #function, line: UInt = #line
    ) -> Bool {
        let time = now()
        let held: Int? = windows.withLockedValue { windows in
            if let window = windows[key], time - window.lastLogged < interval {
                windows[key]?.suppressed += 1
                return nil
            }
            defer { windows[key] = Window(lastLogged: time, suppressed: 0) }
            return windows[key]?.suppressed ?? 0
        }
        guard let held else { return false }
        var metadata = metadata
        metadata["suppressed"] = "\(held)"
        logger.warning(message, metadata: metadata, file: file, function: function, line: line)
        return true
    }
}
