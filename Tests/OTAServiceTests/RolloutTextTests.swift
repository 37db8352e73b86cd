import OTAService
import Testing

@Suite struct RolloutTextTests {
    @Test func abortRulesAndExponentialRatesParseOrSayWhy() throws {
        let rule = try RolloutText.abortCriterion(" timed_out:12.5:7 ")
        #expect(rule == AbortCriterion(failureType: .timedOut, thresholdPercentage: 12.5, minNumberOfExecutedThings: 7))
        let rate = try RolloutText.exponentialRate("10:2:50")
        #expect(rate == ExponentialRate(baseRatePerMinute: 10, incrementFactor: 2, numberOfNotifiedThings: 50))
        for text in ["", "FAILED", "FAILED:x:1", "FAILED:10:1.5", "SOMETIMES:10:1", "FAILED:10:1:9"] {
            #expect(throws: OTAServiceError.self, "\(text)") { try RolloutText.abortCriterion(text) }
        }
        for text in ["", "10", "10:2", "a:2:50", "10:2:x", "10:2:50:1"] {
            #expect(throws: OTAServiceError.self, "\(text)") { try RolloutText.exponentialRate(text) }
        }
    }
}
