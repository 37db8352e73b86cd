// The short text forms of an abort rule and an exponential rollout that the CLI's options and the console's form
// take: `TYPE:PERCENT:MINIMUM` (FAILED:20:10) and `BASE:FACTOR:NOTIFIED` (10:2:50). Ranges are checked later, with
// the rest of the request (CreateUpdateRequest.validate).

public enum RolloutText {
    public static func abortCriterion(_ text: String) throws(OTAServiceError) -> AbortCriterion {
        let parts = text.trimmingCharacters(in: .whitespaces).split(separator: ":")
        guard parts.count == 3, let type = AbortFailureType(rawValue: parts[0].uppercased()),
            let percent = Double(parts[1]), let minimum = Int(parts[2])
        else {
            throw .invalidRequest(
                "abort rule '\(text)' must be TYPE:PERCENT:MINIMUM with TYPE FAILED, REJECTED, TIMED_OUT or ALL, "
                    + "e.g. FAILED:20:10")
        }
        return AbortCriterion(failureType: type, thresholdPercentage: percent, minNumberOfExecutedThings: minimum)
    }

    public static func exponentialRate(_ text: String) throws(OTAServiceError) -> ExponentialRate {
        let parts = text.trimmingCharacters(in: .whitespaces).split(separator: ":")
        guard parts.count == 3, let base = Int(parts[0]), let factor = Double(parts[1]), let notified = Int(parts[2])
        else {
            throw .invalidRequest("exponential rollout '\(text)' must be BASE:FACTOR:NOTIFIED, e.g. 10:2:50")
        }
        return ExponentialRate(baseRatePerMinute: base, incrementFactor: factor, numberOfNotifiedThings: notified)
    }
}
