import Foundation
import OTAService
import TestSupport
import Testing

// The operator part of the storage contract, on every backend: accounts and tokens round-trip, a token is found by
// its digest only, a token of an unknown account is refused, and audit entries get increasing sequences and come
// back in order from any point.
@Suite(.serialized) struct OperatorStoreContractTests {
    @Test(arguments: StoreContractTests.backends) func accountsTokensAndTheAuditTrail(
        _ backend: StoreContractTests.Backend
    ) async throws {
        let directory = try TemporaryDirectory("store")
        let store = try await backend.make(directory)
        let account = OperatorAccount(name: "ana", role: .operator, passwordHash: "scrypt$x", createdAt: 3)
        let token = APITokenRecord(id: "0a1b2c3d", operatorName: "ana", digest: "d1", label: "laptop", createdAt: 4)
        try await store.write { writer in
            try writer.save(account)
            try writer.save(OperatorAccount(name: "bo", role: .viewer, disabled: true, createdAt: 5))
            try writer.save(token)
        }
        #expect(try await store.read { try $0.operatorAccount(named: "ana") } == account)
        #expect(try await store.read { try $0.operatorAccounts() }.map(\.name) == ["ana", "bo"])
        #expect(try await store.read { try $0.operatorAccount(named: "bo") }?.disabled == true)
        #expect(try await store.read { try $0.apiToken(digest: "d1") } == token)
        #expect(try await store.read { try $0.apiToken(digest: "d2") } == nil)
        let revoked = APITokenRecord(
            id: "0a1b2c3d", operatorName: "ana", digest: "d1", label: "laptop", createdAt: 4, revokedAt: 9)
        try await store.write { try $0.save(revoked) }
        #expect(try await store.read { try $0.apiTokens(of: "ana") } == [revoked])
        await #expect(throws: (any Error).self, "a token of an account that does not exist") {
            try await store.write {
                try $0.save(APITokenRecord(id: "ffff", operatorName: "nobody", digest: "d3", label: "", createdAt: 1))
            }
        }

        var sequences: [Int64] = []
        for n in 1...5 {
            let entry = AuditEntry(
                at: Int64(n), actor: "ana", role: "operator", source: "127.0.0.1", action: "POST /api/v1/things",
                target: n == 1 ? nil : "thing t\(n)", status: 201, before: n == 1 ? nil : "{}", after: #"{"n":\#(n)}"#)
            sequences.append(try await store.write { try $0.append(entry) }.sequence ?? -1)
        }
        #expect(sequences == sequences.sorted() && Set(sequences).count == 5 && sequences.allSatisfy { $0 > 0 })
        let all = try await store.read { try $0.auditEntries(after: 0, limit: 100) }
        #expect(all.map(\.sequence) == sequences.map { Optional($0) })
        #expect(all.first?.target == nil && all.last?.after == #"{"n":5}"#)
        let second = sequences[1]
        let page = try await store.read { try $0.auditEntries(after: second, limit: 2) }
        #expect(page.map(\.at) == [3, 4])
        let newest = try await store.read { try $0.latestAuditEntries(before: Int64.max, limit: 2) }
        #expect(newest.map(\.at) == [5, 4])
        let fourth = sequences[3]
        #expect(try await store.read { try $0.latestAuditEntries(before: fourth, limit: 10) }.map(\.at) == [3, 2, 1])

        // Console sessions: found by digest, ended one by one or when idle past a time.
        let fresh = ConsoleSession(digest: "s1", operatorName: "ana", csrfToken: "c1", createdAt: 10, lastSeenAt: 100)
        let stale = ConsoleSession(digest: "s2", operatorName: "ana", csrfToken: "c2", createdAt: 10, lastSeenAt: 20)
        try await store.write { writer in
            try writer.save(fresh)
            try writer.save(stale)
        }
        #expect(try await store.read { try $0.consoleSession(digest: "s1") } == fresh)
        try await store.write { try $0.deleteConsoleSessions(digest: nil, operatorName: nil, idleBefore: 50) }
        #expect(try await store.read { try $0.consoleSession(digest: "s2") } == nil)
        #expect(try await store.read { try $0.consoleSession(digest: "s1") } == fresh)
        try await store.write { try $0.deleteConsoleSessions(digest: "s1", operatorName: nil, idleBefore: 0) }
        #expect(try await store.read { try $0.consoleSession(digest: "s1") } == nil)
        try await store.write { writer in
            try writer.save(fresh)
            try writer.save(OperatorAccount(name: "cy", role: .viewer, createdAt: 5))
            try writer.save(
                ConsoleSession(digest: "s4", operatorName: "cy", csrfToken: "c4", createdAt: 90, lastSeenAt: 100))
        }
        try await store.write { try $0.deleteConsoleSessions(digest: nil, operatorName: "ana", idleBefore: 0) }
        #expect(try await store.read { try $0.consoleSession(digest: "s1") } == nil, "ana's sessions end")
        #expect(try await store.read { try $0.consoleSession(digest: "s4") } != nil, "cy's stay")
        await #expect(throws: (any Error).self, "a session of an account that does not exist") {
            try await store.write {
                try $0.save(
                    ConsoleSession(digest: "s3", operatorName: "nobody", csrfToken: "c", createdAt: 1, lastSeenAt: 1))
            }
        }
        await store.close()
    }
}
