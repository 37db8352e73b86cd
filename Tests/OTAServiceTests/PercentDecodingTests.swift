import Foundation
import Testing

@testable import OTAService

// The fast path must change nothing: for every input, what Foundation's `removingPercentEncoding` gives.
@Suite struct PercentDecodingTests {
    @Test(arguments: [
        "sim-001", "", "x%3Ay", "%C3%A9t%C3%A9", "50%", "%zz", "%4", "%FF", "a+b", "%2F..%2F", "sp%20ace", "é",
    ])
    func decodesAsFoundationDoes(_ text: String) {
        #expect(text.percentDecoded == text.removingPercentEncoding)
        #expect(text[...].percentDecoded == text.removingPercentEncoding)
    }

    @Test func decodesOrRefuses() {
        #expect("x%3Ay".percentDecoded == "x:y")
        #expect("plain-name".percentDecoded == "plain-name")
        #expect("%zz".percentDecoded == nil)
        #expect("%FF".percentDecoded == nil)
    }
}
