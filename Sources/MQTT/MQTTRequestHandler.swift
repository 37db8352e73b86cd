// The hook through which a service answers request topics itself, the way AWS IoT Core answers
// `$aws/things/<T>/jobs/...`: it sees every authorized PUBLISH first and replies to the requesting session
// directly, without that session subscribing to the response topic (aws-ota-wire.md §2).

/// One connected session, as the request handler sees it.
public struct MQTTSessionContext: Sendable {
    public let clientID: String
    public let identity: ClientIdentity?
    let endpoint: any MQTTConnectionEndpoint

    /// Sends a PUBLISH to this session only, whatever it subscribed to. QoS 0: responses are re-requested, not
    /// redelivered (the FreeRTOS agent connects with a clean session and asks again after a reconnect).
    public func deliver(topic: String, payload: [UInt8]) {
        endpoint.send([.publish(PublishPacket(topic: topic, payload: payload))])
    }

    /// Several messages encoded already, in one hop to the connection's event loop and one write (a stream
    /// response's blocks; see `PublishBatch`).
    public func deliver(_ batch: PublishBatch) {
        endpoint.send(batch)
    }

    /// Closes this session's connection (for example after a protocol abuse the service detects).
    public func disconnect(reason: String) {
        endpoint.close(reason: reason)
    }

    /// Whether both contexts stand for the same connection. A client id outlives its connections (a device that
    /// reconnects takes its session over), so whatever a handler keeps per session must be released only by the
    /// connection that made it.
    public func isSameConnection(as other: MQTTSessionContext) -> Bool {
        endpoint === other.endpoint
    }
}

public protocol MQTTRequestHandler: Sendable {
    /// Called for every authorized PUBLISH before it is routed. Return true when the handler consumed it
    /// (it is then not routed to subscribers); the call must not block: do slow work asynchronously.
    func handle(_ publish: PublishPacket, from session: MQTTSessionContext) -> Bool
    /// A session finished CONNECT; `sessionPresent` as in the CONNACK.
    func sessionConnected(_ session: MQTTSessionContext)
    /// A session's connection closed. After a takeover a newer connection of the same client id may already be
    /// connected: compare with `isSameConnection(as:)` before releasing anything kept by client id.
    func sessionDisconnected(_ session: MQTTSessionContext)
}

extension MQTTRequestHandler {
    public func sessionConnected(_ session: MQTTSessionContext) {}
    public func sessionDisconnected(_ session: MQTTSessionContext) {}
}
