// Tests use the raw clients as their own helpers.
@_exported import RawClients
