import Foundation
import Testing

@testable import OTAService

// The console's small defences in isolation: the escaper, the login throttle, the audit subject's sanitizing.
@Suite struct ConsoleDefenceTests {
    @Test func escapingWorksOnScalarsSoACombiningMarkCannotHideAQuote() {
        let sneaky = "\"\u{301} autofocus onfocus=x <b>&'"
        let escaped = HTML.escape(sneaky)
        #expect(!escaped.contains("\"") && !escaped.contains("<") && !escaped.contains("'"))
        #expect(escaped.hasPrefix("&quot;\u{301}"))
        #expect(HTML.component("é/x y") == "%C3%A9%2Fx%20y", "ASCII-only unreserved characters")
    }

    @Test func attemptsCountBeforeTheyAreCheckedAndOnlyTwoHashAtOnce() {
        let throttle = LoginThrottle()
        let time: Int64 = 1000
        #expect(throttle.admit(address: "a", name: "ana", at: time) == .granted)
        #expect(throttle.admit(address: "a", name: "ana", at: time) == .granted)
        #expect(throttle.admit(address: "a", name: "ana", at: time) == .busy, "two hashes in flight already")
        throttle.finished(address: "a", name: "ana", succeeded: false)
        throttle.finished(address: "a", name: "ana", succeeded: false)
        for _ in 0..<3 {
            #expect(throttle.admit(address: "a", name: "ana", at: time) == .granted)
            throttle.finished(address: "a", name: "ana", succeeded: false)
        }
        #expect(throttle.admit(address: "a", name: "ana", at: time) == .throttled, "five failures")
        #expect(throttle.admit(address: "b", name: "ana", at: time) == .throttled, "per name, from any address")
        #expect(throttle.admit(address: "a", name: "bob", at: time) == .throttled, "per address, for any name")
        #expect(throttle.admit(address: "b", name: "bob", at: time) == .granted)
        throttle.finished(address: "b", name: "bob", succeeded: true)
        #expect(throttle.admit(address: "a", name: "ana", at: time + LoginThrottle.window) == .granted, "window over")
        throttle.finished(address: "a", name: "ana", succeeded: true)
    }

    @Test func theThrottleTableStaysBounded() {
        let throttle = LoginThrottle()
        for n in 0..<(LoginThrottle.maximumEntries + 100) {
            _ = throttle.admit(address: "10.0.\(n)", name: "name\(n)", at: Int64(n))
            throttle.finished(address: "10.0.\(n)", name: "name\(n)", succeeded: false)
        }
        #expect(throttle.entryCount <= LoginThrottle.maximumEntries)
    }

    @Test func anAuditTargetKeepsNoControlCharactersAndNoMegabytes() {
        let subject = AuditSubject(kind: "thing", id: "dev\u{1B}[2J\u{202E}x" + String(repeating: "a", count: 5000))
        #expect(!subject.id.unicodeScalars.contains { $0.value == 0x1B || $0.value == 0x202E })
        #expect(subject.id.hasPrefix("dev[2Jx") && subject.id.count <= 201)
    }
}
