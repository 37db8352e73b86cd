import MQTT
import OTAWire

// A device's plain progress report sent at QoS 0 is held and recorded with others (ProgressLedger.swift); its
// answer goes out once it is recorded. Everything else a device asks is answered after what is held of it.

extension DeviceGateway {
    /// Holds a QoS 0 plain progress report on the connection's event loop, when the inbox let it go ahead
    /// (`DeviceInbox.takeJobsTurn`) and the job's in-progress timeout is known; false otherwise (it is queued, and
    /// the inbox's task handles it, errors included).
    func holdAtOnce(_ request: DeviceRequest, _ publish: PublishPacket, session: MQTTSessionContext) -> Bool {
        let token: String?
        let jobID: String
        let update: UpdateJobExecutionRequest
        do {
            let body = try jobsRequestBody(publish.payload)
            token = try jobsClientToken(in: body)
            guard let plain = try Self.plainProgress(request, publish, body: body) else { return false }
            (jobID, update) = plain
        } catch {
            return false
        }
        guard let timeout = engine.knownInProgressTimeout(of: jobID) else { return false }
        let thing = session.clientID
        return engine.holdProgress(
            thing: thing, jobID: jobID, request: update, inProgressTimeoutMinutes: timeout,
            answer: progressAnswer(publish, thing: thing, token: token, time: engine.now(), session: session))
    }

    /// Hands a QoS 0 plain progress report to the engine to hold (from the inbox's task); false for any other
    /// request (handled at once).
    func heldProgress(
        _ request: DeviceRequest, _ publish: PublishPacket, body: JSONValue, thing: String, token: String?,
        session: MQTTSessionContext
    ) async throws -> Bool {
        guard let (jobID, update) = try Self.plainProgress(request, publish, body: body) else { return false }
        return try await engine.holdProgress(
            thing: thing, jobID: jobID, request: update,
            answer: progressAnswer(publish, thing: thing, token: token, time: engine.now(), session: session))
    }

    /// The job and report of a plain progress report sent at QoS 0 that asks for neither state nor document; nil
    /// for any other request.
    private static func plainProgress(_ request: DeviceRequest, _ publish: PublishPacket, body: JSONValue) throws
        -> (String, UpdateJobExecutionRequest)?
    {
        guard publish.qos == .atMostOnce, case .updateJob(let jobID) = request, !jobID.isEmpty, jobID != "$next"
        else { return nil }
        let update = try UpdateJobExecutionRequest(parsing: body)
        guard update.isPlainProgressReport, !update.includeJobExecutionState, !update.includeJobDocument else {
            return nil
        }
        return (jobID, update)
    }

    private func progressAnswer(
        _ publish: PublishPacket, thing: String, token: String?, time: Int64, session: MQTTSessionContext
    ) -> @Sendable (Result<Void, any Error>) -> Void {
        { [self] outcome in
            switch outcome {
            case .success:
                session.deliver(
                    topic: ThingTopics.response(to: publish.topic, accepted: true),
                    payload: Self.updateAnswer(nil, token: token, time: time))
            case .failure(let error):
                reject(publish, with: error, thing: thing, token: token, time: time, session: session)
            }
        }
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
