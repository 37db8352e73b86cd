import ArgumentParser
import OTABench

/// `ota bench jobs` — rollout fan-out and stream serving of the real service, in process, over loopback TLS.
struct BenchJobsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jobs",
        abstract: "Create an update for a large group, time executions and notify-next, and measure stream serving.",
        discussion: """
            A service with a fresh data directory gets a static group of --things things, of which --connected \
            connect over MQTT with mutual TLS (each with its own certificate) and subscribe to notify-next. Then an \
            update for the group is created and timed until every execution exists and every connected device has \
            its notify-next. Finally --downloaders devices download the whole image in 4 KiB blocks (32 per \
            get/cbor request, as an agent with a bitmap asks), and the same connections' worth of raw TLS bulk \
            transfer on loopback is the baseline (target: stream >= 0.5 of raw TLS).
            """)

    @Option(help: "Things in the target group.") var things = 10_000
    @Option(help: "Of those, devices connected over MQTT.") var connected = 1_000
    @Option(help: "Connected devices that download the whole image.") var downloaders = 50
    @Option(help: "Downloads of the whole image per device (and raw TLS rounds); the median round is reported.")
    var rounds = 7
    @Option(
        help: "Image size, e.g. 1MiB (at most 4 MiB, the agent's limit).",
        transform: { text in
            guard let value = parseByteCount(text), (64 << 10)...(4 << 20) ~= value else {
                throw ValidationError("the image size must be 64 KiB … 4 MiB")
            }
            return value
        })
    var imageSize = 1 << 20
    @OptionGroup var output: OutputOptions

    func validate() throws {
        guard things > 0, (1...things).contains(connected), (1...connected).contains(downloaders) else {
            throw ValidationError("need things >= connected >= downloaders >= 1")
        }
        guard rounds >= 1 else { throw ValidationError("rounds must be at least 1") }
    }

    func run() async throws {
        bootstrapQuietLogging()
        let result = try await JobsBenchmark(
            things: things, connected: connected, downloaders: downloaders, rounds: rounds, imageSize: imageSize
        ).run()
        try output.emit(result) { JobsBenchmark.render(result) }
    }
}
