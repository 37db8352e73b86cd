import Testing

@testable import OTAWire

@Suite struct JSONTests {
    @Test(arguments: [
        #"{"clientToken":":my-thing"}"#,
        #"{"a":[1,-2,3.5,1e10,-0.5E-3,true,false,null,"x\"y\\z\/"],"b":{}}"#,
        #"[]"#, #"0"#, #""\u00e9\ud83d\ude00""#, " { \"k\" : [ ] } ",
    ])
    func acceptsValidJSON(_ text: String) throws {
        _ = try JSONParser.parse(text)
    }

    @Test(arguments: [
        "", "{", "}", "[1,]", "{\"a\":1,}", "{\"a\" 1}", "01", "1.", ".5", "1e", "-", "+1", "tru", "nul",
        "\"unterminated", "\"bad \\q escape\"", "\"\\ud800\"", "\"\\udc00x\"", "\"tab\there\"", "{\"a\":1}x",
        "{\"a\":1,\"a\":2}", "[1 2]", "{1:2}", "'single'", "NaN", "\"\\u12\"",
    ])
    func refusesInvalidJSON(_ text: String) {
        #expect(throws: JSONError.self) { try JSONParser.parse(text) }
    }

    @Test func refusesInvalidUTF8AndDeepNesting() {
        #expect(throws: JSONError.self) { try JSONParser.parse([0x22, 0xC3, 0x28, 0x22]) }
        let deep = String(repeating: "[", count: 40) + String(repeating: "]", count: 40)
        #expect(throws: JSONError.self) { try JSONParser.parse(deep) }
        let fine = String(repeating: "[", count: 30) + String(repeating: "]", count: 30)
        #expect(throws: Never.self) { try JSONParser.parse(fine) }
    }

    @Test func decodesEscapesAndSurrogates() throws {
        let value = try JSONParser.parse(#""a\n\t\u0041\u00e9\ud83d\ude00""#)
        #expect(value == .string("a\n\tAé😀"))
    }

    @Test func writesCompactJSONThatParsesBack() throws {
        let value = JSONValue.object(
            JSONObject([
                JSONMember("s", .string("quote\" back\\ nl\n ctl\u{01} é")), JSONMember("n", .integer(-42)),
                JSONMember("a", .array([.bool(true), .null, .number("1.5e3")])),
            ]))
        let text = value.serializedText
        #expect(text == #"{"s":"quote\" back\\ nl\n ctl\u0001 é","n":-42,"a":[true,null,1.5e3]}"#)
        #expect(try JSONParser.parse(text) == value)
    }

    @Test func readsUnsignedNumbersTheWayStrtoulDoes() {
        #expect(JSONValue.number("1024").unsignedValue() == 1024)
        #expect(JSONValue.string("1024").unsignedValue() == 1024)
        #expect(JSONValue.string("0x01020002").unsignedValue() == 0x0102_0002)
        #expect(JSONValue.string("010").unsignedValue() == 8)
        #expect(JSONValue.number("-1").unsignedValue() == nil)
        #expect(JSONValue.number("1.5").unsignedValue() == nil)
        #expect(JSONValue.string("12ab").unsignedValue() == nil)
        #expect(JSONValue.number("4294967296").unsignedValue(maximum: UInt64(UInt32.max)) == nil)
        #expect(JSONValue.string("99999999999999999999999").unsignedValue() == nil)
    }

    @Test func randomMutationsNeverCrashAndValidOutputReparses() {
        var generator = SplitMix(seed: 7)
        let seed = Array(#"{"execution":{"jobId":"AFR_OTA-1","statusDetails":{"a":"b"},"n":[1,2.5,"\u00e9"]}}"#.utf8)
        for _ in 0..<20_000 {
            var bytes = seed
            for _ in 0..<Int.random(in: 1...4, using: &generator) {
                let index = Int.random(in: 0..<bytes.count, using: &generator)
                switch Int.random(in: 0..<3, using: &generator) {
                case 0: bytes[index] = UInt8.random(in: 0...255, using: &generator)
                case 1: bytes.remove(at: index)
                default: bytes.insert(UInt8.random(in: 0...255, using: &generator), at: index)
                }
                if bytes.isEmpty { bytes = [0x7B] }
            }
            if let value = try? JSONParser.parse(bytes) {
                #expect((try? JSONParser.parse(value.serialized)) == value)
            }
        }
    }
}

/// A small deterministic generator (OTAWireTests depends on OTAWire only).
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
