import Foundation
import NIOCore
import PostgresNIO

// Records to and from PostgreSQL rows through Codable, with the conventions the SQLite backend gets from GRDB:
// one column per stored property, strings and integers as themselves, enums by raw value, and nested values
// (attributes, targets, rollout) as JSON text. Keeping every record's Codable conformance the single description
// of its columns means the two backends cannot drift apart on a field.

/// One column's value on its way into a statement.
enum PostgresColumnValue: Sendable, Equatable {
    case text(String)
    case integer(Int64)
    case double(Double)
    case bool(Bool)
    case textArray([String])
    case bytes([UInt8])
    case null

    func append(to bindings: inout PostgresBindings) {
        switch self {
        case .text(let value): bindings.append(value)
        case .integer(let value): bindings.append(value)
        case .double(let value): bindings.append(value)
        case .bool(let value): bindings.append(value)
        case .textArray(let value): bindings.append(value)
        case .bytes(let value): bindings.append(ByteBuffer(bytes: value))
        case .null: bindings.appendNull()
        }
    }
}

enum PostgresRecordEncoder {
    /// The record's columns in declaration order. Nil optionals are left out (as synthesized Codable leaves them);
    /// the statement builder sets every column of the table the record does not name to NULL.
    static func columns<Record: Encodable>(of record: Record) throws -> [(name: String, value: PostgresColumnValue)] {
        let sink = ColumnSink()
        try record.encode(to: RowEncoder(sink: sink))
        return sink.columns
    }

    fileprivate final class ColumnSink {
        var columns: [(name: String, value: PostgresColumnValue)] = []
    }

    fileprivate struct RowEncoder: Encoder {
        let sink: ColumnSink
        var codingPath: [any CodingKey] { [] }
        var userInfo: [CodingUserInfoKey: Any] { [:] }

        func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
            KeyedEncodingContainer(RowContainer<Key>(sink: sink))
        }
        func unkeyedContainer() -> any UnkeyedEncodingContainer {
            preconditionFailure("a stored record is a keyed container")
        }
        func singleValueContainer() -> any SingleValueEncodingContainer {
            preconditionFailure("a stored record is a keyed container")
        }
    }

    fileprivate struct RowContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
        let sink: ColumnSink
        var codingPath: [any CodingKey] { [] }

        private func put(_ value: PostgresColumnValue, _ key: Key) { sink.columns.append((key.stringValue, value)) }

        mutating func encodeNil(forKey key: Key) throws { put(.null, key) }
        mutating func encode(_ value: Bool, forKey key: Key) throws { put(.bool(value), key) }
        mutating func encode(_ value: String, forKey key: Key) throws { put(.text(value), key) }
        mutating func encode(_ value: Double, forKey key: Key) throws { put(.double(value), key) }
        mutating func encode(_ value: Int, forKey key: Key) throws { put(.integer(Int64(value)), key) }
        mutating func encode(_ value: Int64, forKey key: Key) throws { put(.integer(value), key) }
        mutating func encode(_ value: Int32, forKey key: Key) throws { put(.integer(Int64(value)), key) }

        // Synthesized Codable skips nil optionals; a stored record names them as NULL so that saving a record
        // over an older one clears the fields it no longer has.
        mutating func encodeIfPresent(_ value: Bool?, forKey key: Key) throws { try optional(value, key) }
        mutating func encodeIfPresent(_ value: String?, forKey key: Key) throws { try optional(value, key) }
        mutating func encodeIfPresent(_ value: Double?, forKey key: Key) throws { try optional(value, key) }
        mutating func encodeIfPresent(_ value: Float?, forKey key: Key) throws { try optional(value, key) }
        mutating func encodeIfPresent(_ value: Int?, forKey key: Key) throws { try optional(value, key) }
        mutating func encodeIfPresent(_ value: Int8?, forKey key: Key) throws { try optional(value, key) }
        mutating func encodeIfPresent(_ value: Int16?, forKey key: Key) throws { try optional(value, key) }
        mutating func encodeIfPresent(_ value: Int32?, forKey key: Key) throws { try optional(value, key) }
        mutating func encodeIfPresent(_ value: Int64?, forKey key: Key) throws { try optional(value, key) }
        mutating func encodeIfPresent(_ value: UInt?, forKey key: Key) throws { try optional(value, key) }
        mutating func encodeIfPresent(_ value: UInt8?, forKey key: Key) throws { try optional(value, key) }
        mutating func encodeIfPresent(_ value: UInt16?, forKey key: Key) throws { try optional(value, key) }
        mutating func encodeIfPresent(_ value: UInt32?, forKey key: Key) throws { try optional(value, key) }
        mutating func encodeIfPresent(_ value: UInt64?, forKey key: Key) throws { try optional(value, key) }
        mutating func encodeIfPresent<T: Encodable>(_ value: T?, forKey key: Key) throws { try optional(value, key) }

        private mutating func optional<T: Encodable>(_ value: T?, _ key: Key) throws {
            if let value { try encode(value, forKey: key) } else { put(.null, key) }
        }

        mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
            // A raw-value enum encodes one value: store it as that value. Anything with structure becomes JSON.
            let probe = ValueProbe()
            try value.encode(to: probe)
            if let single = probe.single, !probe.needsJSON {
                put(single, key)
            } else {
                let encoder = JSONEncoder()
                encoder.outputFormatting = .sortedKeys
                put(.text(String(decoding: try encoder.encode(value), as: UTF8.self)), key)
            }
        }

        mutating func nestedContainer<NestedKey: CodingKey>(
            keyedBy keyType: NestedKey.Type, forKey key: Key
        ) -> KeyedEncodingContainer<NestedKey> {
            preconditionFailure("nested values are encoded through encode(_:forKey:)")
        }
        mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
            preconditionFailure("nested values are encoded through encode(_:forKey:)")
        }
        mutating func superEncoder() -> any Encoder { preconditionFailure("records have no superclass") }
        mutating func superEncoder(forKey key: Key) -> any Encoder { preconditionFailure("records have no superclass") }
    }

    /// Encodes a property's value to learn whether it is one scalar; asks for JSON as soon as it shows structure.
    fileprivate final class ValueProbe: Encoder, SingleValueEncodingContainer {
        var single: PostgresColumnValue?
        var needsJSON = false
        var codingPath: [any CodingKey] { [] }
        var userInfo: [CodingUserInfoKey: Any] { [:] }

        func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
            needsJSON = true
            return KeyedEncodingContainer(DiscardingContainer<Key>())
        }
        func unkeyedContainer() -> any UnkeyedEncodingContainer {
            needsJSON = true
            return DiscardingUnkeyedContainer()
        }
        func singleValueContainer() -> any SingleValueEncodingContainer { self }

        func encodeNil() throws { single = .null }
        func encode(_ value: Bool) throws { single = .bool(value) }
        func encode(_ value: String) throws { single = .text(value) }
        func encode(_ value: Double) throws { single = .double(value) }
        func encode(_ value: Int) throws { single = .integer(Int64(value)) }
        func encode(_ value: Int64) throws { single = .integer(value) }
        func encode<T: Encodable>(_ value: T) throws { needsJSON = true }
    }

    fileprivate struct DiscardingContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
        var codingPath: [any CodingKey] { [] }
        mutating func encodeNil(forKey key: Key) throws {}
        mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {}
        mutating func nestedContainer<NestedKey: CodingKey>(
            keyedBy keyType: NestedKey.Type, forKey key: Key
        ) -> KeyedEncodingContainer<NestedKey> { KeyedEncodingContainer(DiscardingContainer<NestedKey>()) }
        mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
            DiscardingUnkeyedContainer()
        }
        mutating func superEncoder() -> any Encoder { ValueProbe() }
        mutating func superEncoder(forKey key: Key) -> any Encoder { ValueProbe() }
    }

    fileprivate struct DiscardingUnkeyedContainer: UnkeyedEncodingContainer {
        var codingPath: [any CodingKey] { [] }
        var count = 0
        mutating func encodeNil() throws {}
        mutating func encode<T: Encodable>(_ value: T) throws {}
        mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type)
            -> KeyedEncodingContainer<NestedKey>
        { KeyedEncodingContainer(DiscardingContainer<NestedKey>()) }
        mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer { DiscardingUnkeyedContainer() }
        mutating func superEncoder() -> any Encoder { ValueProbe() }
    }
}

enum PostgresRecordDecoder {
    static func decode<Record: Decodable>(_ type: Record.Type, from row: PostgresRow) throws -> Record {
        try Record(from: RowDecoder(row: row.makeRandomAccess(), record: Record.self))
    }

    // The decoders keep the record's type and name its table (and column) only when they throw: building those
    // strings for every row and enum column cost more than the rest of decoding a job execution.

    fileprivate struct RowDecoder: Decoder {
        let row: PostgresRandomAccessRow
        let record: any Any.Type
        var table: String { String(describing: record) }
        var codingPath: [any CodingKey] { [] }
        var userInfo: [CodingUserInfoKey: Any] { [:] }

        func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
            KeyedDecodingContainer(RowContainer<Key>(row: row, record: record))
        }
        func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
            throw StoreError.corrupt("\(table): a stored record is a keyed container")
        }
        func singleValueContainer() throws -> any SingleValueDecodingContainer {
            throw StoreError.corrupt("\(table): a stored record is a keyed container")
        }
    }

    fileprivate struct RowContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
        let row: PostgresRandomAccessRow
        let record: any Any.Type
        var table: String { String(describing: record) }
        var codingPath: [any CodingKey] { [] }
        var allKeys: [Key] { (0..<row.count).compactMap { Key(stringValue: row[$0].columnName) } }

        func contains(_ key: Key) -> Bool { row.contains(key.stringValue) }

        private func cell(_ key: Key) throws -> PostgresCell {
            guard row.contains(key.stringValue) else {
                throw StoreError.corrupt("\(table) has no column \(key.stringValue)")
            }
            return row[key.stringValue]
        }

        private func scalar<T: PostgresDecodable>(_ type: T.Type, _ key: Key) throws -> T {
            let cell = try cell(key)
            guard cell.bytes != nil else { throw StoreError.corrupt("\(table).\(key.stringValue) is NULL") }
            do { return try cell.decode(T.self) } catch {
                throw StoreError.corrupt("\(table).\(key.stringValue) does not hold a \(T.self): \(error)")
            }
        }

        func decodeNil(forKey key: Key) throws -> Bool { try cell(key).bytes == nil }
        func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try scalar(Bool.self, key) }
        func decode(_ type: String.Type, forKey key: Key) throws -> String { try scalar(String.self, key) }
        func decode(_ type: Double.Type, forKey key: Key) throws -> Double { try scalar(Double.self, key) }
        func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try scalar(Int64.self, key) }
        func decode(_ type: Int.Type, forKey key: Key) throws -> Int { Int(try scalar(Int64.self, key)) }
        func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 {
            guard let value = Int32(exactly: try scalar(Int64.self, key)) else {
                throw StoreError.corrupt("\(table).\(key.stringValue) is out of range")
            }
            return value
        }

        func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
            let cell = try cell(key)
            // A raw-value enum reads one scalar; anything with structure was stored as JSON text.
            do {
                return try T(from: CellDecoder(cell: cell, record: record, column: key.stringValue))
            } catch let error as DecodingError {
                // A raw value the enum does not have (a newer schema's, or another program's).
                throw StoreError.corrupt("\(table).\(key.stringValue) does not hold a \(T.self): \(error)")
            } catch is NeedsJSON {
                let text = try scalar(String.self, key)
                do { return try JSONDecoder().decode(T.self, from: Data(text.utf8)) } catch {
                    throw StoreError.corrupt("\(table).\(key.stringValue) holds JSON that is not a \(T.self)")
                }
            }
        }

        func nestedContainer<NestedKey: CodingKey>(
            keyedBy type: NestedKey.Type, forKey key: Key
        ) throws -> KeyedDecodingContainer<NestedKey> {
            throw StoreError.corrupt("\(table): nested values are stored as JSON text")
        }
        func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
            throw StoreError.corrupt("\(table): nested values are stored as JSON text")
        }
        func superDecoder() throws -> any Decoder { throw StoreError.corrupt("records have no superclass") }
        func superDecoder(forKey key: Key) throws -> any Decoder {
            throw StoreError.corrupt("records have no superclass")
        }
    }

    /// Thrown when a property's type asks for structure: its column holds JSON.
    fileprivate struct NeedsJSON: Error {}

    fileprivate struct CellDecoder: Decoder, SingleValueDecodingContainer {
        let cell: PostgresCell
        let record: any Any.Type
        let column: String
        var path: String { "\(String(describing: record)).\(column)" }
        var codingPath: [any CodingKey] { [] }
        var userInfo: [CodingUserInfoKey: Any] { [:] }

        func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
            throw NeedsJSON()
        }
        func unkeyedContainer() throws -> any UnkeyedDecodingContainer { throw NeedsJSON() }
        func singleValueContainer() throws -> any SingleValueDecodingContainer { self }

        private func scalar<T: PostgresDecodable>(_ type: T.Type) throws -> T {
            guard cell.bytes != nil else { throw StoreError.corrupt("\(path) is NULL") }
            do { return try cell.decode(T.self) } catch {
                throw StoreError.corrupt("\(path) does not hold a \(T.self)")
            }
        }

        func decodeNil() -> Bool { cell.bytes == nil }
        func decode(_ type: Bool.Type) throws -> Bool { try scalar(Bool.self) }
        func decode(_ type: String.Type) throws -> String { try scalar(String.self) }
        func decode(_ type: Double.Type) throws -> Double { try scalar(Double.self) }
        func decode(_ type: Int64.Type) throws -> Int64 { try scalar(Int64.self) }
        func decode(_ type: Int.Type) throws -> Int { Int(try scalar(Int64.self)) }
        func decode<T: Decodable>(_ type: T.Type) throws -> T { throw NeedsJSON() }
    }
}
