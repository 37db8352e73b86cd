import OTAWire
import Testing

@testable import OTAAgent

// The agent reads job messages and data blocks with its own small readers (Sources/OTAAgent/Wire/), not with
// OTAWire's tree parsers. These tests hold the two to the same answers: on the messages a service sends, on
// variations of them, and on thousands of random corruptions, the agent's reader must accept exactly what the full
// parser accepts and read the same values. The only difference allowed is the documented one: a repeated key
// outside the fields the agent reads.
struct WireReaderTests {
    /// xorshift64*: a fixed sequence, so a failure can be repeated.
    struct Random {
        var state: UInt64
        mutating func next(_ bound: Int) -> Int {
            state ^= state >> 12
            state ^= state << 25
            state ^= state >> 27
            return Int((state &* 0x2545_F491_4F6C_DD1D) >> 33) % bound
        }

        /// `message` with one to `edits` bytes replaced, removed or inserted (new bytes drawn from `alphabet`).
        mutating func corrupt(_ message: [UInt8], edits: Int, alphabet: [UInt8]) -> [UInt8] {
            var bytes = message
            for _ in 0..<1 + next(edits) {
                let at = next(bytes.count)
                switch next(3) {
                case 0: bytes[at] = alphabet[next(alphabet.count)]
                case 1: bytes.remove(at: at)
                default: bytes.insert(alphabet[next(alphabet.count)], at: at)
                }
                if bytes.isEmpty { bytes = [message[0]] }
            }
            return bytes
        }
    }

    /// What the agent read, in a form both readers can produce.
    struct Reading: Equatable {
        var jobID: [UInt8]
        var file: [String]?
        var selfTest: [String]?
    }

    /// The agent's reader.
    static func agentReading(_ payload: [UInt8]) -> Reading? {
        guard case .job(let id, let file, let selfTest) = JobMessage(parsing: payload) else { return nil }
        return Reading(
            jobID: id,
            file: file.map { file in
                [
                    String(file.protocols.rawValue), file.streamName.map { text($0) } ?? "-", String(file.fileSize),
                    String(file.fileID), String(file.fileType), text(file.certificate), text(file.signature),
                    file.url.map { text($0) } ?? "-",
                ]
            },
            selfTest: selfTest.map { [$0.phase.map { text($0) } ?? "-", String($0.updatedBy.rawValue)] })
    }

    /// The same reading through OTAWire's JSONParser and OTAJobDocument, with the rules the agent applied before
    /// it had its own reader; `.skip` for a message refused only for a repeated key.
    enum Oracle: Equatable {
        case reading(Reading?)
        case skip
    }

    static func oracleReading(_ payload: [UInt8]) -> Oracle {
        let message: JSONValue
        do {
            message = try JSONParser.parse(payload)
        } catch {
            return error.reason.hasPrefix("duplicate key") ? .skip : .reading(nil)
        }
        guard let execution = message["execution"]?.objectValue, let id = execution["jobId"]?.stringValue,
            !id.isEmpty, id.utf8.count <= AgentLimits.maximumJobIDBytes
        else { return .reading(nil) }
        var file: [String]?
        if let value = execution["jobDocument"], let document = try? OTAJobDocument(parsing: value),
            let first = document.files.first
        {
            var listed: UInt8 = 0
            for name in document.protocols {
                if name == "MQTT" { listed |= 1 }
                if name == "HTTP" { listed |= 2 }
            }
            file = [
                String(listed), document.streamName ?? "-", String(first.fileSize), String(first.fileID),
                String(first.fileType ?? 0), first.certFile, first.signature, first.updateDataURL ?? "-",
            ]
        }
        var selfTest: [String]?
        if let details = execution["statusDetails"]?.objectValue, let phase = details["self_test"] {
            let updatedBy = details["updatedBy"]?.unsignedValue(maximum: UInt64(UInt32.max)) ?? 0
            selfTest = [phase.stringValue ?? "-", String(updatedBy)]
        }
        return .reading(Reading(jobID: Array(id.utf8), file: file, selfTest: selfTest))
    }

    static func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

    static let documents: [String] = [
        #"{"afr_ota":{"protocols":["MQTT"],"streamname":"AFR_OTA-s1","files":[{"filepath":"/","filesize":10000,"#
            + #""fileid":0,"certfile":"Code Verify Key","sig-sha256-ecdsa":"MEQ="}]}}"#,
        #"{"afr_ota":{"protocols":["MQTT","HTTP"],"streamname":"s","files":[{"filesize":"0x2710","fileid":"07","#
            + #""update_data_url":"https://h/f?x=1\u0026y=\ud83d\ude00","auth_scheme":"aws.s3.presigned","#
            + #""sig-sha256-ecdsa":"MEQ=","fileType":3},{"filesize":1}]}}"#,
        #"{ "afr_ota" : { "files" : [ { "fileid" : 0 , "filesize" : 4096 } ] , "protocols" : [ "HTTP" , 7 ] } }"#,
        #"{"afr_ota":{"protocols":[],"files":[]}}"#,
        #"{"afr_ota":[1,{"protocols":["MQTT"]}],"x":{"afr_ota":{}}}"#,
        #"{"afr_ota":{"protocols":["MQTT"],"streamname":5,"files":[{"filesize":1,"fileid":4294967296}]}}"#,
    ]

    static let details: [String] = [
        "", #""statusDetails":{"self_test":"ready","updatedBy":"0x01020003"},"#,
        #""statusDetails":{"self_test":"active","updatedBy":16909060},"#,
        #""statusDetails":{"self_test":["x"],"updatedBy":-1,"other":{"self_test":1}},"#,
        #""statusDetails":[{"self_test":"ready"}],"#,
    ]

    static var messages: [[UInt8]] {
        var messages: [[UInt8]] = [
            Array(#"{"timestamp":1}"#.utf8), Array(#"{"clientToken":"1:dev","timestamp":1,"execution":null}"#.utf8),
        ]
        for document in documents {
            for detail in details {
                messages.append(
                    Array(
                        (#"{"clientToken":"1:dev","timestamp":1,"execution":{"jobId":"AFR_OTA-u1","thingName":"dev","#
                            + detail + #""status":"QUEUED","versionNumber":1,"jobDocument":"# + document + "}}").utf8))
            }
        }
        return messages
    }

    @Test func theAgentReadsJobMessagesAsTheFullParserDoes() {
        var compared = 0
        for message in Self.messages {
            guard case .reading(let expected) = Self.oracleReading(message) else { continue }
            #expect(Self.agentReading(message) == expected, "\(Self.text(message))")
            compared += 1
        }
        #expect(compared == Self.messages.count)
        // Both readers find a job, a conforming file and self-test details in the messages built to have them.
        #expect(Self.messages.compactMap(Self.agentReading).filter { $0.file != nil && $0.selfTest != nil }.count >= 4)
    }

    @Test func randomCorruptionsOfJobMessagesAreReadAlikeOrRefusedAlike() {
        var random = Random(state: 0x9E37_79B9_7F4A_7C15)
        let alphabet = Array(#"{}[]:,"\ u0aA9-.eE+/tfn"#.utf8) + [0x00, 0x1F, 0x7F, 0xC3, 0xA9, 0xED, 0xA0, 0xF4, 0x90]
        var compared = 0
        var accepted = 0
        for message in Self.messages {
            for _ in 0..<400 {
                let bytes = random.corrupt(message, edits: 4, alphabet: alphabet)
                guard case .reading(let expected) = Self.oracleReading(bytes) else { continue }
                let reading = Self.agentReading(bytes)
                #expect(reading == expected, "\(bytes)")
                compared += 1
                if reading != nil { accepted += 1 }
            }
        }
        // Most corruptions break the JSON, but many leave a readable job: both outcomes are exercised.
        #expect(compared > 10_000 && accepted > 1_000 && compared - accepted > 1_000, "\(compared) \(accepted)")
    }

    @Test func nestingDeeperThanTheLimitIsRefusedLikeTheFullParser() {
        let deep = Array(repeating: UInt8(ascii: "["), count: 40) + Array(repeating: UInt8(ascii: "]"), count: 40)
        let message = Array(#"{"execution":{"jobId":"j","x":"#.utf8) + deep + Array("}}".utf8)
        #expect(Self.oracleReading(message) == .reading(nil))
        #expect(Self.agentReading(message) == nil)
    }

    @Test func aRepeatedFieldTheAgentReadsMakesTheMessageUnreadable() {
        let repeated = Array(#"{"execution":{"jobId":"a","jobId":"b"}}"#.utf8)
        #expect(Self.agentReading(repeated) == nil)
        // A repeat the agent does not read is not its business (the full parser refuses it).
        let elsewhere = Array(#"{"execution":{"jobId":"a","x":1,"x":2}}"#.utf8)
        #expect(Self.agentReading(elsewhere)?.jobID == Array("a".utf8))
        #expect(Self.oracleReading(elsewhere) == .skip)
    }

    // MARK: Data blocks

    static func oracleBlock(_ message: [UInt8]) -> (UInt64, [UInt8])?? {
        do {
            _ = try CBORDecoder.decode(message)
        } catch {
            if error.reason.hasPrefix("duplicate key") { return .none }
        }
        return .some(StreamDataBlock.decodeCBOR(message).map { ($0.blockIndex, $0.payload) })
    }

    static func agentBlock(_ message: [UInt8]) -> (UInt64, [UInt8])? {
        StreamCodec.block(message).map { ($0.index, Array($0.payload)) }
    }

    static var blockMessages: [[UInt8]] {
        let payload = (0..<40).map { UInt8($0 * 7 & 0xFF) }
        let plain = StreamDataBlock(fileID: 0, blockIndex: 3, payload: payload).cborEncoded
        // Indefinite map, a text key in chunks, an indefinite byte string, extra keys of every kind, other order.
        var indefinite: [UInt8] = [0xBF, 0x61, 0x69, 0x03, 0x7F, 0x61, 0x66, 0xFF, 0x00, 0x61, 0x6C, 0x18, 40]
        indefinite += [0x61, 0x70, 0x5F, 0x44] + payload[0..<4] + [0x58, 36] + payload[4...] + [0xFF]
        indefinite += [0x61, 0x78, 0x82, 0xF9, 0x3C, 0x00, 0xC1, 0x1A, 0, 0, 0, 1, 0x01, 0xA1, 0x61, 0x79, 0xF6, 0xFF]
        return [plain, indefinite, StreamDataBlock(fileID: 9, blockIndex: 70_000, payload: []).cborEncoded]
    }

    @Test func theAgentReadsDataBlocksAsTheFullDecoderDoes() {
        for message in Self.blockMessages {
            let expected = Self.oracleBlock(message)
            #expect(expected != nil && expected! != nil)
            let reading = Self.agentBlock(message)
            #expect(reading?.0 == expected??.0 && reading?.1 == expected??.1)
        }
    }

    @Test func randomCorruptionsOfDataBlocksAreReadAlikeOrRefusedAlike() {
        var random = Random(state: 0xD1B5_4A32_D192_ED03)
        let anyByte = (0...255).map { UInt8($0) }
        var compared = 0
        var accepted = 0
        for message in Self.blockMessages {
            for _ in 0..<3_000 {
                let bytes = random.corrupt(message, edits: 3, alphabet: anyByte)
                guard let expected = Self.oracleBlock(bytes) else { continue }
                let reading = Self.agentBlock(bytes)
                #expect(reading?.0 == expected?.0 && reading?.1 == expected?.1, "\(bytes)")
                compared += 1
                if reading != nil { accepted += 1 }
            }
        }
        #expect(compared > 5_000 && accepted > 200 && compared - accepted > 1_000, "\(compared) \(accepted)")
    }

    @Test func theBlockRequestIsTheBytesGenerationASends() {
        for (fileID, bitmap) in [(UInt32(0), [UInt8](repeating: 0xFF, count: 3)), (70_000, [0x01]), (1, [])] {
            let expected = StreamRequest(
                clientToken: "rdy", fileID: UInt64(fileID), blockSize: 4096, blockOffset: 0, bitmap: bitmap,
                numberOfBlocks: 8
            ).cborEncoded
            #expect(StreamCodec.request(fileID: fileID, bitmap: bitmap) == expected)
        }
    }
}
