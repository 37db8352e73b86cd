import Hummingbird

// GET /metrics: the Prometheus text exposition of this instance's registry, behind the metrics token (or the admin
// token). States are sampled first (MetricsSampler), so a scrape sees the connected devices of this moment.

extension ManagementAPI {
    func addMetricsRoute(to router: Router<APIRequestContext>) {
        let server = server
        let sampler = MetricsSampler(metrics: server.metrics)
        router.group("metrics")
            .add(middleware: BearerTokenMiddleware(tokens: [server.metricsToken, token], expected: "metrics token"))
            .get { _, _ in
                await sampler.sample(server)
                return Response(
                    status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                    body: .init(byteBuffer: ByteBuffer(bytes: server.metrics.registry?.emitToBuffer() ?? [])))
            }
    }
}
