/// Waits until `condition` holds, polling every 20 ms, for at most `seconds`, and at least as many polls as that
/// many seconds hold.
///
/// The poll count is the floor because the whole suite runs at once on two cores: CPU-bound tests can keep every
/// thread of Swift concurrency busy for seconds, and then the task this waits for gets no thread either. Counting
/// polls, each of which needed a thread as that task does, measures the time it was given rather than the time that
/// passed; on an idle machine the two are the same.
///
/// The floor has a ceiling, so that a condition which never holds, and is slow to evaluate, still fails in bounded
/// time: 3 × `seconds` more, at least 30 s.
public func eventually(within seconds: Double = 5, _ condition: () async -> Bool) async -> Bool {
    let interval = Duration.milliseconds(20)
    let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
    let ceiling = deadline + .milliseconds(Int(max(3 * seconds, 30) * 1000))
    let minimumPolls = Int(seconds * 1000 / 20)
    var polls = 0
    while ContinuousClock.now < deadline || (polls < minimumPolls && ContinuousClock.now < ceiling) {
        if await condition() { return true }
        polls += 1
        try? await Task.sleep(for: interval)
    }
    return await condition()
}
