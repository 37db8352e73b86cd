import Hummingbird

// The management API's request context: Hummingbird's core, the client's address (for the audit trail) and, once
// AccessMiddleware has authenticated the call, who is calling.

public struct APIRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The peer's IP address: the client's, or the load balancer's when one passes TCP through.
    public let remoteAddress: String
    public var principal: Principal?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress?.ipAddress ?? "unknown"
    }
}
