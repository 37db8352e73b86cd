import MQTT
import OTAWire

// A device's plain progress report sent at QoS 0 is held and recorded with others (ProgressLedger.swift); its
// answer goes out once it is recorded. Everything else a device asks is answered after what is held of it.

extension DeviceGateway {
    /// Hands a QoS 0 plain progress report to the engine to hold; false for any other request (handled at once).
    func heldProgress(
        _ request: DeviceRequest, _ publish: PublishPacket, body: JSONValue, thing: String, token: String?,
        session: MQTTSessionContext
    ) async throws -> Bool {
        guard publish.qos == .atMostOnce, case .updateJob(let jobID) = request, !jobID.isEmpty, jobID != "$next"
        else { return false }
        let update = try UpdateJobExecutionRequest(parsing: body)
        guard update.isPlainProgressReport, !update.includeJobExecutionState, !update.includeJobDocument else {
            return false
        }
        let time = engine.now()
        try await engine.holdProgress(thing: thing, jobID: jobID, request: update) { [self] outcome in
            switch outcome {
            case .success:
                session.deliver(
                    topic: ThingTopics.response(to: publish.topic, accepted: true),
                    payload: Self.updateAnswer(nil, token: token, time: time))
            case .failure(let error):
                reject(publish, with: error, thing: thing, token: token, time: time, session: session)
            }
        }
        return true
    }

    /// An accepted UpdateJobExecution's answer: the token and time, and the state and document when asked for.
    static func updateAnswer(_ outcome: JobEngine.UpdateOutcome?, token: String?, time: Int64) -> [UInt8] {
        var object = JSONObject()
        if let token { object.set("clientToken", .string(token)) }
        object.set("timestamp", .number(String(time)))
        if let outcome, outcome.includeState { object.set("executionState", outcome.execution.executionStateJSON) }
        if let outcome, outcome.includeDocument, let document = outcome.execution.jobDocument {
            object.set("jobDocument", document)
        }
        return JSONValue.object(object).serialized
    }
}
