import ArgumentParser
import OTABench

/// `ota bench image` — runs ImageBenchmark.
struct BenchImageCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "image",
        abstract: "Verify an app image (read, parse, checksum, SHA-256) and compare with sha256sum on the same file.",
        discussion: """
            sha256sum runs as a process, whose start-up would swamp a few milliseconds of hashing. So it is run once \
            with the file named once and once with the file named 1 + N times; the difference over N is its time per \
            file, start-up excluded. The ratio is ours over that (target: <= 1.3).
            """)

    @Option(
        help: "Image size, e.g. 4MiB.",
        transform: { text in
            guard let value = parseByteCount(text), value >= 4096 else {
                throw ValidationError("size must be at least 4KiB")
            }
            return value
        })
    var size = 4 << 20

    @Option(help: "Runs of each measurement; the median is reported.")
    var iterations = 31

    @OptionGroup var output: OutputOptions

    func run() throws {
        let result = try ImageBenchmark(size: size, iterations: iterations).run()
        try output.emit(result) { ImageBenchmark.render(result) }
    }
}
