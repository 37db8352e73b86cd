import Hummingbird

// The request context of the management API and the console: Hummingbird's core, the client's address (for the
// audit trail) and, once AccessMiddleware or the console's session has authenticated the call, who is calling.

public struct APIRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The peer's IP address: the client's, or the load balancer's when one passes TCP through.
    public let remoteAddress: String
    public var principal: Principal?
    /// A console session's CSRF token, which every form it posts must carry back.
    public var csrfToken: String?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress?.ipAddress ?? "unknown"
    }
}
