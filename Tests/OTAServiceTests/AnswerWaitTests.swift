import Foundation
import NIOCore
import NIOPosix
import Synchronization
import Testing

@testable import OTAService

// A statement's answer that never comes on a connection that closed must not hold a store thread forever.
@Suite struct AnswerWaitTests {
    let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)

    @Test func anAnswerThatNeverComesOnAClosedConnectionEndsTheWait() throws {
        let promise = group.next().makePromise(of: Int.self)
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
        let promise = group.next().makePromise(of: Int.self)
        group.next().scheduleTask(in: .milliseconds(100)) { promise.succeed(7) }
        try AnswerWait.wait(for: promise.futureResult, slice: .milliseconds(10)) { false }
        #expect(try promise.futureResult.wait() == 7)
    }

    @Test func anAnswerThatCameBeforeTheCloseIsUsed() throws {
        let promise = group.next().makePromise(of: Int.self)
        promise.succeed(7)
        try AnswerWait.wait(for: promise.futureResult, slice: .milliseconds(10)) { true }
        #expect(try promise.futureResult.wait() == 7)
    }
}
