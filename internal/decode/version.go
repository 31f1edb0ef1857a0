package decode

// Version names what the decoders make of a file. Bump it with any change
// that can make the same bytes decode to other rows, values or types (a
// parsing fix, a new inference rule): a repeated load keeps the rows an
// earlier load decoded only while this is unchanged (coordinator.Config's
// DecodeVersion, part of a table's reuse fingerprint).
const Version = "1"
