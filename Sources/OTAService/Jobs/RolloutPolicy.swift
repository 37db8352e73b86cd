import OTAWire

// Rollout rate and abort decisions (aws-ota-wire.md §9.3) as pure functions of counts, so they are tested with
// a deterministic clock and no I/O.

public struct JobCounts: Sendable, Equatable {
    /// Executions created (things notified), excluding retries.
    public var notified = 0
    public var succeeded = 0
    public var failed = 0
    public var rejected = 0
    public var timedOut = 0
    /// Executions queued by the rollout within the last 60 seconds.
    public var releasedInLastMinute = 0

    public init() {}

    /// Things that finished the job one way or the other (the abort criteria's "executed things").
    public var executed: Int { succeeded + failed + rejected + timedOut }
}

public enum RolloutPolicy {
    /// Releases per tick are bounded even without a rate, so one huge job cannot stall the engine.
    public static let maximumReleasePerTick = 5_000

    /// The current rate per minute: the exponential rate grows by `incrementFactor` each time the criteria count
    /// passes another multiple of its threshold, capped by `maximumPerMinute`; nil means unlimited.
    public static func ratePerMinute(_ config: RolloutConfig, counts: JobCounts) -> Int? {
        var rate: Double?
        if let exponential = config.exponentialRate {
            let steps: Int
            if let notified = exponential.numberOfNotifiedThings, notified > 0 {
                steps = counts.notified / notified
            } else if let succeeded = exponential.numberOfSucceededThings, succeeded > 0 {
                steps = counts.succeeded / succeeded
            } else {
                steps = 0
            }
            var value = Double(exponential.baseRatePerMinute)
            for _ in 0..<min(steps, 64) { value *= exponential.incrementFactor }
            rate = value
        }
        if let maximum = config.maximumPerMinute { rate = min(rate ?? Double(maximum), Double(maximum)) }
        return rate.map { Int(min($0, Double(Int32.max))) }
    }

    /// How many pending targets may be released now.
    public static func allowance(_ config: RolloutConfig, counts: JobCounts) -> Int {
        guard let rate = ratePerMinute(config, counts: counts) else { return maximumReleasePerTick }
        return max(0, min(maximumReleasePerTick, rate - counts.releasedInLastMinute))
    }

    /// The first abort criterion that holds, if any: at least `minNumberOfExecutedThings` executed and the share
    /// of the failure type at or above the threshold.
    public static func abortCriterionMet(_ criteria: [AbortCriterion], counts: JobCounts) -> AbortCriterion? {
        guard counts.executed > 0 else { return nil }
        for criterion in criteria where counts.executed >= criterion.minNumberOfExecutedThings {
            let failures: Int
            switch criterion.failureType {
            case .failed: failures = counts.failed
            case .rejected: failures = counts.rejected
            case .timedOut: failures = counts.timedOut
            case .all: failures = counts.failed + counts.rejected + counts.timedOut
            }
            if Double(failures) * 100 >= criterion.thresholdPercentage * Double(counts.executed) { return criterion }
        }
        return nil
    }
}
