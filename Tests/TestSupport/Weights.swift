import Foundation
import XCTest

extension GitTestCase {
    /// A safetensors file of eight float32 tensors of 64×64 (`layer0.weight`…) and one of
    /// 100×100 (`embedding`), from numpy's generator seeded with `seed`; each tensor named in
    /// `changed` gets its first element increased by 1.
    @discardableResult
    public func writeSafetensors(_ name: String, seed: Int = 7, changed: [String] = [], in folder: URL? = nil) throws -> URL {
        let url = (folder ?? root).appendingPathComponent(name)
        let script = """
            import sys, numpy as np
            from safetensors.numpy import save_file
            rng = np.random.default_rng(int(sys.argv[2]))
            t = {f'layer{i}.weight': rng.standard_normal((64, 64)).astype('<f4') for i in range(8)}
            t['embedding'] = rng.standard_normal((100, 100)).astype('<f4')
            for name in sys.argv[3].split(',') if sys.argv[3] else []:
                t[name][0, 0] += 1
            save_file(t, sys.argv[1])
            """
        let result = try Self.run(["python3", "-c", script, url.path, String(seed), changed.joined(separator: ",")], in: root)
        XCTAssertEqual(result.status, 0, result.stderr)
        return url
    }
}

extension GitTestCase {
    /// Where git-lfs keeps object `oid` in the clone at `folder`: `.git/lfs/objects/<aa>/<bb>/<oid>`.
    public func lfsObject(_ oid: String, in folder: URL) -> URL {
        folder.appendingPathComponent(".git/lfs/objects/\(oid.prefix(2))/\(oid.dropFirst(2).prefix(2))/\(oid)")
    }
}
