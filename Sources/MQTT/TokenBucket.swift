// A token bucket: a sustained rate, and a burst above it. Paces what one client may make the server do (its
// inbound bytes and messages, its stream requests) without refusing it: the caller waits, or stops reading, for the
// time `take` returns.

public struct TokenBucket: Sendable {
    public let rate: Double
    public let burst: Double
    private var tokens: Double
    private var last: ContinuousClock.Instant

    /// `rate` tokens a second, at most `burst` saved up; full at the start.
    public init(rate: Double, burst: Double, now: ContinuousClock.Instant = .now) {
        self.rate = rate
        self.burst = burst
        tokens = burst
        last = now
    }

    /// Takes `cost` tokens: how long to wait first (zero when they were there). The bucket may go below empty, so
    /// that waiting the time returned pays the debt.
    public mutating func take(_ cost: Double = 1, now: ContinuousClock.Instant = .now) -> Duration {
        refill(now)
        tokens -= cost
        guard tokens < 0 else { return .zero }
        return .microseconds(Int64((-tokens / rate * 1_000_000).rounded(.up)))
    }

    /// Takes `cost` tokens when the bucket holds them (true); otherwise takes nothing (false).
    public mutating func takeIfAvailable(_ cost: Double = 1, now: ContinuousClock.Instant = .now) -> Bool {
        refill(now)
        guard tokens >= cost else { return false }
        tokens -= cost
        return true
    }

    private mutating func refill(_ now: ContinuousClock.Instant) {
        let elapsed = now - last
        last = now
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        tokens = min(burst, tokens + seconds * rate)
    }
}
