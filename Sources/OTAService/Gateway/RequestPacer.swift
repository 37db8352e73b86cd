// Paces one thing's stream requests: a token bucket (a sustained rate, and a burst above it). A device asking for
// blocks faster than that is served at the rate, not refused — the FreeRTOS agent treats a refusal as silence and
// waits for its request timer — and its inbox keeps only its newest requests meanwhile. A device that floods
// GetStream can take no more of the service than the rate allows.

struct RequestPacer {
    /// Requests a second, sustained; a well-behaved agent asks a few times a second (8 blocks, or 1, per request).
    static let defaultRate = 100.0
    /// Requests allowed at once above the rate (a burst after a reconnect, or a retry round).
    static let defaultBurst = 200.0

    let rate: Double
    let burst: Double
    private var tokens: Double
    private var last: ContinuousClock.Instant

    init(rate: Double = defaultRate, burst: Double = defaultBurst, now: ContinuousClock.Instant = .now) {
        self.rate = rate
        self.burst = burst
        tokens = burst
        last = now
    }

    /// Takes a token: how long to wait first (zero when one is available).
    mutating func take(now: ContinuousClock.Instant = .now) -> Duration {
        let elapsed = now - last
        last = now
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        tokens = min(burst, tokens + seconds * rate)
        tokens -= 1
        guard tokens < 0 else { return .zero }
        return .milliseconds(Int64((-tokens / rate * 1000).rounded(.up)))
    }
}
