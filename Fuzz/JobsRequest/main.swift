// libFuzzer target: Jobs request bodies as the gateway reads them (scripts/fuzz): the body under the device
// limits, the client token, UpdateJobExecution and StartNextPendingJobExecution. Every failure must be a typed
// rejection; a step timer that is accepted must be in AWS's range (the engine multiplies it by 60).
import OTAWire

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJobsRequest(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard let body = try? jobsRequestBody(bytes) else { return 0 }
    _ = try? jobsClientToken(in: body)
    if let update = try? UpdateJobExecutionRequest(parsing: body), let minutes = update.stepTimeoutInMinutes {
        precondition(JobsRequestFields.stepTimeoutMinutes.contains(minutes), "update step timer out of range")
    }
    if let startNext = try? StartNextPendingJobExecutionRequest(parsing: body),
        let minutes = startNext.stepTimeoutInMinutes
    {
        precondition(JobsRequestFields.stepTimeoutMinutes.contains(minutes), "start-next step timer out of range")
    }
    return 0
}
