// Who decides which client certificates the server accepts, when the answer changes while the server runs (an
// operator registers a CA or a certificate, revokes one, deactivates a CA). The server asks at every TLS handshake
// through NIOSSL's custom verification callback, so a new answer needs no restart and no new TLS context. The MQTT
// target knows nothing of registries: the owner (the OTA service) implements the protocol.
import NIOConcurrencyHelpers

/// The owner's decision about the certificates a client presented.
public enum ClientTrustVerdict: Sendable, Equatable {
    /// Accepted. `boundName` is the name a registration binds the certificate to: the client must use it as its
    /// client id (and topic prefix) whatever the certificate says. Nil lets the certificate's CN name the client.
    case trusted(boundName: String?)
    /// Refused, with the reason the server logs.
    case refused(String)
}

public protocol ClientCertificateTrust: Sendable {
    /// Decides on `chain`: DER certificates as the client presented them, leaf first. Must fail closed: anything
    /// it cannot check is `.refused`.
    func evaluate(chain: [[UInt8]]) async -> ClientTrustVerdict

    /// The verdict on `chain` when it is known without evaluating (the owner judged the same chain against the same
    /// trust before), or nil. Asked on the connection's event loop during the handshake: it must not block.
    func knownVerdict(chain: [[UInt8]]) -> ClientTrustVerdict?
}

extension ClientCertificateTrust {
    public func knownVerdict(chain: [[UInt8]]) -> ClientTrustVerdict? { nil }
}

/// One connection's verdict, written by the verification callback (on whatever thread finishes the evaluation)
/// and read on the channel's event loop at CONNECT.
final class ClientVerdictBox: Sendable {
    private let box = NIOLockedValueBox<ClientTrustVerdict?>(nil)

    var value: ClientTrustVerdict? {
        get { box.withLockedValue { $0 } }
        set { box.withLockedValue { $0 = newValue } }
    }
}
