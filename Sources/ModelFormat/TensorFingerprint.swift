import CPolyHash
import Crypto
import Foundation

/// The secret of a repository's tensor fingerprints: 16 bytes for the polynomial hash (a
/// nonzero element of GF(2^128)) and 16 that make a fingerprint reveal nothing about them.
public struct FingerprintKey: Sendable, Equatable {
    public static let byteCount = 32
    public let bytes: [UInt8]

    /// nil when `bytes` is not 32 bytes or the hash's half is zero (it would hash every
    /// message of one length alike).
    public init?(bytes: [UInt8]) {
        guard bytes.count == Self.byteCount, bytes[..<16].contains(where: { $0 != 0 }) else { return nil }
        self.bytes = bytes
    }

    /// A key from the system's random source.
    public static func random() -> FingerprintKey {
        var generator = SystemRandomNumberGenerator()
        while true {
            if let key = FingerprintKey(bytes: (0..<byteCount).map { _ in UInt8.random(in: .min ... .max, using: &generator) }) {
                return key
            }
        }
    }
}

/// A keyed fingerprint of a byte string, computed in pieces: equal bytes give equal
/// fingerprints; different bytes of the same length give equal ones with probability below
/// (n − 1)/2^128 for n 16-byte blocks — below 2^-100 up to 4 GiB, below 2^-106 for the units mv
/// fingerprints (whole tensors up to 64 MiB, chunks of 32 MiB) — as long as whoever chose them
/// did not know the key.
///
/// Why: to find that a tensor of a new version equals the previous one, mv compared it byte by
/// byte with the stored blob: two streams through memory. The fingerprint needs only the new
/// bytes, at ~15 GB/s (a polynomial hash over GF(2^128) with the CPU's carry-less multiply,
/// 16 lanes), and the old blob need not be in memory at all. SHA-256 would do the same at
/// ~1.6 GB/s. The polynomial value is passed through SHA-256 with the key's second half, so
/// that a fingerprint someone reads cannot be used to recover the polynomial's key.
public final class TensorFingerprinter {
    /// How the polynomial is computed; all give the same fingerprints.
    public enum Implementation: Int32, CaseIterable, Sendable {
        case portable = 0
        case pclmul = 1
        case avx2 = 2
        case avx512 = 4
    }

    private let state: UnsafeMutablePointer<mv_polyhash_state>
    private let key: FingerprintKey

    /// Whether this CPU computes fingerprints fast enough (wide carry-less multiplies) for mv
    /// to prefer them to comparing bytes.
    public static var isFast: Bool {
        let best = mv_polyhash_best_path()
        return best == Implementation.avx512.rawValue || best == Implementation.avx2.rawValue
    }

    /// nil when this CPU lacks `implementation`.
    public init?(key: FingerprintKey, implementation: Implementation? = nil) {
        state = .allocate(capacity: 1)
        self.key = key
        let path = implementation?.rawValue ?? mv_polyhash_best_path()
        // Every stored property is set, so `deinit` runs (and frees `state`) on failure too.
        guard key.bytes.withUnsafeBufferPointer({ mv_polyhash_init(state, $0.baseAddress, path) }) == 0 else { return nil }
    }

    deinit { state.deallocate() }

    public func update(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return }
        mv_polyhash_update(state, base, bytes.count)
    }

    public func update(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { update($0) }
    }

    /// The fingerprint (32 hex digits) of everything given to `update`; the fingerprinter is
    /// then empty again, ready for the next tensor.
    public func finalize() -> String {
        var polynomial = [UInt8](repeating: 0, count: 16)
        let length = state.pointee.length
        polynomial.withUnsafeMutableBufferPointer { mv_polyhash_final(state, $0.baseAddress) }
        var hasher = SHA256()
        hasher.update(data: key.bytes[16...])
        hasher.update(data: polynomial)
        withUnsafeBytes(of: length.littleEndian) { hasher.update(bufferPointer: $0) }
        mv_polyhash_reset(state)
        return ContentHash.hex(bytes: hasher.finalize().prefix(16))
    }

    /// The fingerprint of `bytes` in one piece.
    public static func fingerprint(of bytes: UnsafeRawBufferPointer, key: FingerprintKey) -> String? {
        guard let fingerprinter = TensorFingerprinter(key: key) else { return nil }
        fingerprinter.update(bytes)
        return fingerprinter.finalize()
    }
}
