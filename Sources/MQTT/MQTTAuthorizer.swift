// Decides who may connect, publish and subscribe. The server asks for every CONNECT, PUBLISH and SUBSCRIBE
// filter; refusals follow the spec (CONNACK code, SUBACK 0x80, disconnect on a forbidden publish).

public protocol MQTTAuthorizer: Sendable {
    /// `identity` is nil only on the plain-TCP listener for local tooling.
    func authorizeConnect(identity: ClientIdentity?, connect: ConnectPacket) -> Authorization
    func authorizePublish(identity: ClientIdentity?, clientID: String, topic: String) -> Authorization
    func authorizeSubscribe(identity: ClientIdentity?, clientID: String, filter: String) -> Authorization
}

/// A decision and, when refused, the reason the server logs.
public enum Authorization: Equatable, Sendable {
    case allowed
    case refused(String)
}

/// The device rule (AWS IoT's usual policy): the client id must be the certificate's thing name (the name its
/// registration binds it to, else its CN), and a device may only use topics under `$aws/things/<its own thing>/`.
public struct DeviceAuthorizer: MQTTAuthorizer {
    public init() {}

    public func authorizeConnect(identity: ClientIdentity?, connect: ConnectPacket) -> Authorization {
        guard let identity else { return .refused("no client certificate") }
        guard let thing = identity.thingName else {
            return .refused("the client certificate has no common name and is not registered to a thing")
        }
        guard connect.clientID == thing else {
            return .refused("client id '\(connect.clientID)' is not the certificate's thing name '\(thing)'")
        }
        // The thing name becomes a topic level: wildcards or separators in it would widen the namespace.
        guard !thing.isEmpty, !thing.utf8.contains(where: { $0 == 0x2F || $0 == 0x2B || $0 == 0x23 }) else {
            return .refused("thing name '\(thing)' contains '/', '+' or '#'")
        }
        return .allowed
    }

    public func authorizePublish(identity: ClientIdentity?, clientID: String, topic: String) -> Authorization {
        topic.hasPrefix(Self.prefix(clientID)) ? .allowed : .refused("'\(topic)' is outside \(Self.prefix(clientID))")
    }

    /// The filter must start with the literal prefix, so `#`, `$aws/things/+/...` and other things' topics fail.
    public func authorizeSubscribe(identity: ClientIdentity?, clientID: String, filter: String) -> Authorization {
        filter.hasPrefix(Self.prefix(clientID))
            ? .allowed : .refused("'\(filter)' reaches outside \(Self.prefix(clientID))")
    }

    static func prefix(_ thing: String) -> String { "$aws/things/" + thing + "/" }
}

/// Everything allowed: for tests and the optional plain-TCP listener used by local tools.
public struct AllowAllAuthorizer: MQTTAuthorizer {
    public init() {}
    public func authorizeConnect(identity: ClientIdentity?, connect: ConnectPacket) -> Authorization { .allowed }
    public func authorizePublish(identity: ClientIdentity?, clientID: String, topic: String) -> Authorization {
        .allowed
    }
    public func authorizeSubscribe(identity: ClientIdentity?, clientID: String, filter: String) -> Authorization {
        .allowed
    }
}
