import CoreMetrics
import Hummingbird

// Times every management API request into swiftota_api_request_seconds{method, route, status}. The route is the
// matched pattern (`/api/v1/things/{name}`), never the path a client sent: an unknown path is "unmatched", so no
// client can grow the series without bound.

struct APIMetricsMiddleware<Context: RequestContext>: RouterMiddleware {
    let metrics: ServiceMetrics

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        let start = ContinuousClock.now
        do {
            let response = try await next(request, context)
            record(request, context, status: response.status, since: start)
            return response
        } catch {
            record(
                request, context, status: (error as? any HTTPResponseError)?.status ?? .internalServerError,
                since: start)
            throw error
        }
    }

    private func record(
        _ request: Request, _ context: Context, status: HTTPResponse.Status, since start: ContinuousClock.Instant
    ) {
        let dimensions = [
            ("method", request.method.rawValue), ("route", context.endpointPath ?? "unmatched"),
            ("status", String(status.code)),
        ]
        Timer(label: "swiftota_api_request_seconds", dimensions: dimensions, factory: metrics.factory)
            .recordNanoseconds((ContinuousClock.now - start).nanoseconds)
    }
}
