import Foundation

// Dynamic group queries: `attr=value` terms joined by ` AND ` (e.g. `model=esp32c3 AND ring=beta`); a thing
// matches when every attribute equals its value. Deliberately small: exact matches only, validated at creation.

public struct GroupQuery: Sendable, Equatable {
    public let terms: [(key: String, value: String)]

    public static func == (lhs: GroupQuery, rhs: GroupQuery) -> Bool {
        lhs.terms.elementsEqual(rhs.terms) { $0.key == $1.key && $0.value == $1.value }
    }

    public init(_ text: String) throws(OTAServiceError) {
        var terms: [(key: String, value: String)] = []
        for part in text.components(separatedBy: " AND ") {
            let pieces = part.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard pieces.count == 2 else { throw .invalidRequest("query term '\(part)' is not attr=value") }
            let key = pieces[0].trimmingCharacters(in: .whitespaces)
            let value = pieces[1].trimmingCharacters(in: .whitespaces)
            guard Names.isAttributeName(key), !value.isEmpty else {
                throw .invalidRequest("query term '\(part)' needs an attribute name and a value")
            }
            terms.append((key, value))
        }
        guard !terms.isEmpty else { throw .invalidRequest("an empty query matches nothing") }
        self.terms = terms
    }

    public func matches(_ thing: Thing) -> Bool {
        terms.allSatisfy { thing.attributes[$0.key] == $0.value }
    }
}
