import Testing

@testable import OTAWire

@Suite struct JobsMessageTests {
    static let document = OTAJobDocument(
        streamName: "AFR_OTA-0123",
        files: [
            OTAFileEntry(filePath: "/", fileSize: 5000, fileID: 0, certFile: "Code Verify Key", signature: "MEUCIQ==")
        ])

    @Test func jobDocumentIsCompactWithAWSKeyOrder() {
        #expect(
            Self.document.json.serializedText
                == #"{"afr_ota":{"protocols":["MQTT"],"streamname":"AFR_OTA-0123","files":[{"filepath":"/","filesize":5000,"fileid":0,"certfile":"Code Verify Key","sig-sha256-ecdsa":"MEUCIQ=="}]}}"#
        )
    }

    @Test func jobDocumentParsesBackWithTheAgentsRules() throws {
        #expect(try OTAJobDocument(parsing: Self.document.json) == Self.document)
        let quoted = try JSONParser.parse(
            #"{"afr_ota":{"protocols":["MQTT"],"files":[{"filesize":"1024","fileid":0,"fileType":2},{"x":1}]}}"#)
        let parsed = try OTAJobDocument(parsing: quoted)
        #expect(parsed.files.count == 1 && parsed.files[0].fileSize == 1024 && parsed.files[0].fileType == 2)
        #expect(throws: JobDocumentError.notAnOTAJob) { try OTAJobDocument(parsing: .object(JSONObject())) }
        let noSize = try JSONParser.parse(#"{"afr_ota":{"protocols":["MQTT"],"files":[{"fileid":0}]}}"#)
        #expect(throws: JobDocumentError.missingKey("filesize")) { try OTAJobDocument(parsing: noSize) }
        let negative = try JSONParser.parse(#"{"afr_ota":{"protocols":["MQTT"],"files":[{"filesize":-1,"fileid":0}]}}"#)
        #expect(throws: JobDocumentError.badValue("filesize")) { try OTAJobDocument(parsing: negative) }
    }

    @Test func emptyNextResponseHasOnlyTokenAndTimestamp() {
        let bytes = jobExecutionResponse(clientToken: ":my-thing", timestamp: 1_602_795_143, execution: nil)
        #expect(String(decoding: bytes, as: UTF8.self) == #"{"clientToken":":my-thing","timestamp":1602795143}"#)
    }

    @Test func executionResponseEmbedsTheDocumentAsAnObject() throws {
        let execution = JobExecutionMessage(
            jobID: "AFR_OTA-job1", thingName: "my-thing", status: .inProgress,
            statusDetails: JSONObject([
                JSONMember("self_test", .string("ready")), JSONMember("updatedBy", .string("0x01020002")),
            ]),
            queuedAt: 10, startedAt: 11, lastUpdatedAt: 12, versionNumber: 3, executionNumber: 1,
            jobDocument: Self.document.json)
        let value = try JSONParser.parse(jobExecutionResponse(clientToken: nil, timestamp: 13, execution: execution))
        #expect(value["clientToken"] == nil)
        #expect(value["execution"]?["jobDocument"]?["afr_ota"]?["streamname"] == .string("AFR_OTA-0123"))
        #expect(value["execution"]?["statusDetails"]?["self_test"] == .string("ready"))
        #expect(value["execution"]?["versionNumber"] == .number("3"))
    }

    @Test func updateRequestsParseWithStringOrNumberVersions() throws {
        let genA = try UpdateJobExecutionRequest(
            parsing: JSONParser.parse(#"{"status":"IN_PROGRESS","statusDetails":{"receive":"1/2"}}"#))
        #expect(genA.status == .inProgress && genA.statusDetails?["receive"] == .string("1/2"))
        #expect(genA.expectedVersion == nil && !genA.includeJobExecutionState)
        let jobsLib = try UpdateJobExecutionRequest(
            parsing: JSONParser.parse(#"{"status":"SUCCEEDED","expectedVersion":"2"}"#))
        #expect(jobsLib.expectedVersion == 2)
        let number = try UpdateJobExecutionRequest(
            parsing: JSONParser.parse(#"{"status":"FAILED","expectedVersion":7}"#))
        #expect(number.expectedVersion == 7)
    }

    @Test(arguments: [
        #"{}"#, #"{"status":"DONE"}"#, #"{"status":1}"#, #"{"status":"FAILED","statusDetails":"x"}"#,
        #"{"status":"FAILED","statusDetails":{"bad key":"v"}}"#, #"{"status":"FAILED","statusDetails":{"k":1}}"#,
        #"{"status":"FAILED","statusDetails":{"k":""}}"#, #"{"status":"FAILED","statusDetails":{"k":"a\nb"}}"#,
        #"{"status":"FAILED","expectedVersion":"x"}"#, #"{"status":"FAILED","expectedVersion":-1}"#,
        #"{"status":"FAILED","includeJobDocument":"yes"}"#,
    ])
    func refusesBadUpdateRequests(_ text: String) throws {
        let body = try JSONParser.parse(text)
        #expect(throws: JobsRequestError.self) { try UpdateJobExecutionRequest(parsing: body) }
    }

    @Test func refusesOversizedStatusDetails() throws {
        let long = String(repeating: "v", count: 1025)
        let body = try JSONParser.parse(#"{"status":"FAILED","statusDetails":{"reason":"\#(long)"}}"#)
        #expect(throws: JobsRequestError.self) { try UpdateJobExecutionRequest(parsing: body) }
        let longKey = String(repeating: "k", count: 129)
        let keyBody = try JSONParser.parse(#"{"status":"FAILED","statusDetails":{"\#(longKey)":"v"}}"#)
        #expect(throws: JobsRequestError.self) { try UpdateJobExecutionRequest(parsing: keyBody) }
    }

    @Test func requestBodiesAndTokens() throws {
        #expect(try jobsRequestBody([]) == .object(JSONObject()))
        #expect(throws: JobsRequestError.self) { try jobsRequestBody(Array("[1]".utf8)) }
        #expect(throws: JobsRequestError.self) { try jobsRequestBody(Array("{".utf8)) }
        let tooLong = try JSONParser.parse(#"{"clientToken":"\#(String(repeating: "t", count: 65))"}"#)
        #expect(throws: JobsRequestError.self) { try jobsClientToken(in: tooLong) }
    }
}

@Suite struct StartNextRequestTests {
    @Test func startNextReadsStatusDetailsAndStepTimeout() throws {
        let request = try StartNextPendingJobExecutionRequest(
            parsing: JSONParser.parse(#"{"clientToken":"t","statusDetails":{"a":"b"},"stepTimeoutInMinutes":"30"}"#))
        #expect(request.clientToken == "t" && request.statusDetails?["a"] == .string("b"))
        #expect(request.stepTimeoutInMinutes == 30)
        let empty = try StartNextPendingJobExecutionRequest(parsing: JSONParser.parse("{}"))
        #expect(empty.statusDetails == nil && empty.stepTimeoutInMinutes == nil)
    }

    @Test(arguments: [
        #"{"statusDetails":"x"}"#, #"{"statusDetails":["a"]}"#, #"{"statusDetails":{"k":1}}"#,
        #"{"stepTimeoutInMinutes":-1}"#, #"{"stepTimeoutInMinutes":1.5}"#, #"{"stepTimeoutInMinutes":"x"}"#,
        #"{"stepTimeoutInMinutes":0}"#, #"{"stepTimeoutInMinutes":10081}"#, #"{"stepTimeoutInMinutes":true}"#,
        #"{"stepTimeoutInMinutes":"0x10"}"#, #"{"clientToken":7}"#,
    ])
    func startNextRefusesBadFields(_ text: String) throws {
        let body = try JSONParser.parse(text)
        #expect(throws: JobsRequestError.self) { try StartNextPendingJobExecutionRequest(parsing: body) }
    }

    @Test func updateRefusesAStepTimeoutOutOfRange() throws {
        // Int64.max minutes used to reach `minutes * 60` in the engine and trap.
        for minutes in ["9223372036854775807", "10081", "0"] {
            let body = try JSONParser.parse(#"{"status":"IN_PROGRESS","stepTimeoutInMinutes":\#(minutes)}"#)
            #expect(throws: JobsRequestError.self) { try UpdateJobExecutionRequest(parsing: body) }
        }
    }
}
