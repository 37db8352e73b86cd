import PostgresNIO

// PostgreSQL's failures as the store's typed errors. PSQLError's own description is deliberately vague; these keep
// what an operator needs (the server's message and SQLSTATE) and never a bound value or a password.

enum PostgresErrors {
    static func translate(_ error: any Error, context: String) -> any Error {
        if error is StoreError { return error }
        guard let error = error as? PSQLError else {
            // Connection setup failures arrive as NIO channel errors (refused, timed out, unreachable).
            return StoreError.unavailable("\(context): \(error)")
        }
        guard error.code == .server, let info = error.serverInfo else {
            return StoreError.unavailable("\(context): \(error.code)")
        }
        let state = info[.sqlState] ?? "?????"
        let message = info[.message] ?? "no message"
        switch state.prefix(2) {
        // 08: connection exception; 57: operator intervention (shutdown, cannot connect now, a statement_timeout);
        // 53: out of resources; 28: the password or user refused; 3D: no such database; 40: the transaction rolled
        // back (a deadlock, a serialization failure); 55: a lock not available (a lock_timeout the operator set). Each
        // may succeed later; none says anything about the stored data.
        case "08", "57", "53", "28", "3D", "40", "55":
            return StoreError.unavailable("\(context): \(message) (SQLSTATE \(state))")
        // 23: integrity constraint violation (a reference to nothing, a duplicate key).
        case "23":
            return StoreError.conflict("\(message) (SQLSTATE \(state))")
        default:
            return StoreError.corrupt("PostgreSQL refused a statement: \(message) (SQLSTATE \(state))")
        }
    }
}
