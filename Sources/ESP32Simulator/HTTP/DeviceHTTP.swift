import OTAAgent

// A simulated device's HTTP data plane for one power-on: the fetcher is made at the first request (most sessions
// never need one), requests run one at a time — a new one cancels an older one still running, whose answer the
// agent would ignore anyway — and the answers come back through `answer` into the device's input stream. Closing
// it with the session drops its connections, as a reboot does.

/// Used only from the device's session task, one call after another.
final class DeviceHTTP {
    private let trustedCAPEM: String
    private let timeout: Duration
    private var fetcher: HTTPRangeFetcher?
    private var running: Task<Void, Never>?

    init(trustedCAPEM: String, timeout: Duration) {
        self.trustedCAPEM = trustedCAPEM
        self.timeout = timeout
    }

    func start(
        _ request: HTTPRangeRequest,
        answer: @escaping @Sendable (HTTPRangeRequest, HTTPRangeFetcher.Response) -> Void
    ) {
        running?.cancel()
        if fetcher == nil { fetcher = try? HTTPRangeFetcher(trustedCAPEM: trustedCAPEM, timeout: timeout) }
        guard let fetcher else {
            answer(request, HTTPRangeFetcher.Response(status: 0, body: [], failure: "the device's CA file is unusable"))
            return
        }
        running = Task {
            let response = await fetcher.fetch(request)
            if !Task.isCancelled { answer(request, response) }
        }
    }

    func close() async {
        running?.cancel()
        await running?.value
        running = nil
        await fetcher?.shutdown()
        fetcher = nil
    }
}
