import ArgumentParser
import OTABench

/// `ota bench sign` — runs SignBenchmark.
struct BenchSignCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sign",
        abstract: "Sign and verify a file (streamed read, SHA-256, ECDSA P-256) vs openssl dgst on the same file.",
        discussion: """
            openssl runs as a process; its start-up, measured as `openssl version` (same binary, same libcrypto), is \
            subtracted so that both sides are timed for the same work. Ratios are ours over openssl's (target: <= 1.1).
            """)

    @Option(
        help: "File size, e.g. 4MiB.",
        transform: { text in
            guard let value = parseByteCount(text), value > 0 else { throw ValidationError("size must be positive") }
            return value
        })
    var size = 4 << 20

    @Option(help: "Runs of each measurement; the median is reported.")
    var iterations = 31

    @OptionGroup var output: OutputOptions

    func run() throws {
        let result = try SignBenchmark(size: size, iterations: iterations).run()
        try output.emit(result) { SignBenchmark.render(result) }
    }
}
