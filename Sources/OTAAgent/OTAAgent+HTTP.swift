// The HTTP data plane (aws-ota-wire.md §8): one block per request, strictly in order (the lowest block still
// needed, so a resumed bitmap costs nothing extra), `Range: bytes=a-b`. Only 206 is data, and its body must be
// exactly the requested bytes or the job fails at once (`0x000000e0`, §8.1). 400/403/404 mean the URL expired or
// was refused: the agent asks for its job document again, whose fresh URL replaces the old one with the bitmap
// kept (§4.3). Anything else, a transport failure included, waits for the request timer, and the momentum limit
// ends the download as for MQTT.
import OTAWire

extension OTAAgent {
    /// The host's answer to the request it was given through `OTAConnection.getRange`: the HTTP status (0 when
    /// no response came) and the body. An answer to an older request than the outstanding one is ignored.
    public mutating func handleHTTPResponse(to request: HTTPRangeRequest, status: Int, body: [UInt8])
        -> [AgentEvent]
    {
        guard phase == .downloading, let current = download, current.httpRequest == request else { return [] }
        current.httpRequest = nil
        switch status {
        case 206:
            guard body.count == request.length else {
                return fail(current.jobID, AgentReports.ingestFailure(.uninitialized), abortFile: true)
            }
            let index = Int(request.first) / AgentLimits.blockSize
            if current.bitmap.isNeeded(index) {
                if let failure = receive(index, body[...], into: current) { return failure }
            }
            if current.bitmap.isComplete { return closeFile() }
            requestData(current)
        case 400, 403, 404:
            requestJob()
        default:
            break  // the request timer asks again
        }
        return []
    }

    mutating func requestRange(_ current: Download, url: ByteString) {
        guard let block = current.bitmap.firstNeeded else { return }
        let first = UInt32(block * AgentLimits.blockSize)
        let last = min(first + UInt32(AgentLimits.blockSize) - 1, current.fileSize - 1)
        let request = HTTPRangeRequest(url: url, first: first, last: last)
        current.httpRequest = request
        current.momentum += 1
        current.lastActivity = platform.nowMilliseconds
        connection.getRange(request)
    }
}
