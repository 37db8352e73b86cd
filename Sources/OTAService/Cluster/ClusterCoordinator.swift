import Foundation
import Logging
import MQTT
import Synchronization

// One instance's part in a cluster: it announces what changed here (trust changes are announced by the registry's
// callback in OTAServer, which exists before this) and acts on what the others announce, so that
// any instance serves any device. A job created through instance A reaches a device connected to B at once (B sends
// the notify-next); a certificate revoked through A is refused by B's gateway and ends the device's connection
// there; a device that reconnects to B has its older connection on A closed.

final class ClusterCoordinator: Sendable {
    let bus: any ClusterBus
    private let engine: JobEngine
    private let gateway: DeviceGateway
    private let trust: GatewayTrust
    private let store: any OTAStore
    private let mqtt: MQTTServer
    private let sessions: LiveSessions
    private let logger: Logger
    /// When each thing last connected here (milliseconds since 1970), to compare with its connections elsewhere.
    private let localConnections = Mutex<[String: Int64]>([:])

    init(
        bus: any ClusterBus, engine: JobEngine, gateway: DeviceGateway, trust: GatewayTrust, store: any OTAStore,
        mqtt: MQTTServer, sessions: LiveSessions, logger: Logger
    ) {
        self.bus = bus
        self.engine = engine
        self.gateway = gateway
        self.trust = trust
        self.store = store
        self.mqtt = mqtt
        self.sessions = sessions
        self.logger = logger
        engine.setNextChangeObserver { changes in await bus.announce(.nextChanged(changes)) }
        gateway.setConnectionObserver { [self] thing in
            // The time is taken now: the announcement may go out after a newer connection's elsewhere.
            let milliseconds = Int64(Date().timeIntervalSince1970 * 1000)
            localConnections.withLock { $0[thing] = milliseconds }
            Task { await bus.announce(.deviceConnected(thing: thing, milliseconds: milliseconds)) }
        }
    }

    func start() async throws {
        try await bus.start(
            events: { [self] event in await handle(event) },
            missed: { [self] in await catchUp() })
    }

    func stop() async {
        await bus.stop()
    }

    func handle(_ event: ClusterEvent) async {
        do {
            switch event {
            case .nextChanged(let changes):
                for change in changes { gateway.nextExecutionChanged(of: change.thing) }
                for change in changes where mqtt.isConnected(clientID: change.thing) {
                    try await engine.renotify(change)
                }
            case .certificateChanged(let fingerprint):
                if let record = try await store.read({ try $0.certificate(fingerprint: fingerprint) }) {
                    apply(.certificate(record))
                }
            case .authorityChanged(let fingerprint):
                if let record = try await store.read({ try $0.caCertificate(fingerprint: fingerprint) }) {
                    apply(.authority(record))
                }
            case .deviceConnected(let thing, let milliseconds):
                // Only an older connection gives way: the late news of a connection elsewhere must not close the
                // one the device made here since (it moved there and straight back).
                let local = localConnections.withLock { $0[thing] }
                if let local, local < milliseconds {
                    mqtt.disconnect(clientID: thing, reason: "it connected to another instance")
                }
            }
        } catch {
            logger.error("cluster event not applied", metadata: ["event": "\(event)", "error": "\(error)"])
        }
    }

    private func apply(_ change: TrustChange) {
        trust.apply(change)
        sessions.end(trust.things(cutOffBy: change), reason: "its certificate is no longer trusted")
    }

    /// Events may have been lost: the trust snapshot is read again whole (revocations must never be missed), and
    /// every stream grant is checked again.
    private func catchUp() async {
        gateway.clusterEventsMissed()
        do {
            try await trust.load(from: store)
        } catch {
            logger.error("cluster: gateway trust not reloaded", metadata: ["error": "\(error)"])
        }
    }
}
