import Logging
import MQTT
import NIOConcurrencyHelpers
import NIOCore
import Testing

/// A flood of one event writes one line per interval, and that line says how many were held back.
@Suite struct RateLimitedLogTests {
    /// Keeps each line's `suppressed` metadata.
    struct Capture: LogHandler {
        let lines: NIOLockedValueBox<[String]>
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            lines.withLockedValue { $0.append("\(event.message) suppressed=\(event.metadata?["suppressed"] ?? "-")") }
        }
    }

    @Test func oneLinePerKeyAndIntervalCountingWhatWasHeldBack() {
        let lines = NIOLockedValueBox<[String]>([])
        let logger = Logger(label: "test") { _ in Capture(lines: lines) }
        let clock = NIOLockedValueBox(NIODeadline.uptimeNanoseconds(1_000_000_000))
        let log = RateLimitedLog(logger: logger, interval: .seconds(10), now: { clock.withLockedValue { $0 } })

        #expect(log.warning("shed", key: "a"))
        for _ in 0..<500 { #expect(!log.warning("shed", key: "a")) }
        #expect(log.warning("other", key: "b"), "each key has its own window")
        clock.withLockedValue { $0 = $0 + .seconds(10) }
        #expect(log.warning("shed", key: "a"))
        #expect(!log.warning("shed", key: "a"))
        #expect(lines.withLockedValue { $0 } == ["shed suppressed=0", "other suppressed=0", "shed suppressed=500"])
    }
}
