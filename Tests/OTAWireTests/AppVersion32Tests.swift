import OTAWire
import Testing

@Suite struct AppVersion32Tests {
    @Test func packsLikeTheFreeRTOSAgent() throws {
        let version = try #require(AppVersion32("1.2.3"))
        #expect(version.rawValue == 0x0102_0003)
        #expect(version.hexString == "0x01020003")
        #expect(AppVersion32(rawValue: 0x0102_0003) == version)
        #expect(try #require(AppVersion32("255.255.65535")).rawValue == 0xFFFF_FFFF)
    }

    @Test func ordersByTheCombinedValue() throws {
        #expect(try #require(AppVersion32("1.1.0")) > #require(AppVersion32("1.0.65535")))
        #expect(try #require(AppVersion32("2.0.0")) > #require(AppVersion32("1.255.0")))
    }

    @Test(arguments: [
        "", "1.2", "1.2.3.4", "256.0.0", "1.256.0", "1.0.65536", "1.-1.0", "a.b.c", "1..2", " 1.2.3", "1.2.3-rc1",
    ])
    func refusesWhatDoesNotFit(text: String) {
        #expect(AppVersion32(text) == nil)
    }
}
