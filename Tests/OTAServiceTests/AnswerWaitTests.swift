import Foundation
import NIOCore
import NIOPosix
import Synchronization
import Testing

@testable import OTAService

// A statement's answer that never comes on a connection that closed must not hold a store thread forever; an answer
// that came is never thrown away.
@Suite struct AnswerWaitTests {
    let loop = MultiThreadedEventLoopGroup.singleton.next()

    @Test func anAnswerThatNeverComesOnAClosedConnectionEndsTheWait() throws {
        let promise = loop.makePromise(of: Int.self)
        let looks = Mutex(0)
        #expect(throws: AnswerWait.ConnectionClosedUnanswered.self) {
            try AnswerWait.wait(for: promise.futureResult, slice: .milliseconds(10)) {
                looks.withLock { $0 += 1 }
                return looks.withLock { $0 } >= 3  // open for two looks, then closed
            }
        }
        #expect(looks.withLock { $0 } == 3)
        promise.succeed(0)  // NIO requires every promise completed
    }

    @Test func anAnswerOnAnOpenConnectionIsWaitedForAcrossSlices() throws {
        let promise = loop.makePromise(of: Int.self)
        let answered = Atomic(false)
        loop.scheduleTask(in: .milliseconds(100)) {
            answered.store(true, ordering: .sequentiallyConsistent)
            promise.succeed(7)
        }
        try AnswerWait.wait(for: promise.futureResult, slice: .milliseconds(10)) { false }
        let answeredFirst = answered.load(ordering: .sequentiallyConsistent)
        #expect(answeredFirst, "returned only once the answer came")
        #expect(try promise.futureResult.wait() == 7)
    }

    @Test func anAnswerThatCameBeforeTheCloseIsUsed() throws {
        let promise = loop.makePromise(of: Int.self)
        promise.succeed(7)
        // A generous slice: the answer's callback runs on the loop thread, which a busy machine may delay.
        try AnswerWait.wait(for: promise.futureResult, slice: .seconds(5)) { true }
        #expect(try promise.futureResult.wait() == 7)
    }

    @Test func anAnswerThatCameAsTheConnectionClosedIsUsed() throws {
        let promise = loop.makePromise(of: Int.self)
        let answered = Mutex(false)
        try AnswerWait.wait(for: promise.futureResult, slice: .milliseconds(10)) {
            // The answer comes, and its callbacks (AnswerWait's first, as registered first) run, just before the
            // connection is seen closed.
            if !answered.withLock({ $0 }) {
                answered.withLock { $0 = true }
                promise.succeed(7)
                _ = try? promise.futureResult.wait()
            }
            return true
        }
        #expect(try promise.futureResult.wait() == 7)
    }
}
