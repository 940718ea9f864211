import Foundation
import Registry

/// What `mv checkout` wrote, and where.
struct CheckedOut: Rendered {
    let resolved: ResolvedVersion
    let files: Int
    let place: String

    var text: String { "Checked out \(resolved.label) into \(place) (\(files) files)\n" }

    var json: Any {
        [
            "model": resolved.model.value, "version": resolved.version?.description ?? NSNull(),
            "commit": resolved.commit.description, "files": files, "path": place,
        ] as [String: Any]
    }
}

/// What `mv export` wrote.
struct Exported: Rendered {
    let resolved: ResolvedVersion
    let tensors: Int
    let format: ExportFormat
    let path: String

    var text: String { "Exported \(tensors) tensors of \(resolved.label) to \(path) (\(format.rawValue))\n" }

    var json: Any {
        [
            "model": resolved.model.value, "version": resolved.version?.description ?? NSNull(),
            "format": format.rawValue, "tensors": tensors, "path": path,
        ] as [String: Any]
    }
}

/// What `mv verify` found.
struct Verification: Rendered {
    let resolved: ResolvedVersion
    let results: [(tensor: String, file: String, ok: Bool)]

    var mismatches: [(tensor: String, file: String, ok: Bool)] { results.filter { !$0.ok } }

    /// Mismatches are reported as the command's error instead.
    var text: String { mismatches.isEmpty ? "\(resolved.label): all \(results.count) tensors match their sha256\n" : "" }

    var json: Any {
        [
            "version": resolved.label, "tensors": results.count, "ok": mismatches.isEmpty,
            "mismatches": mismatches.map { ["tensor": $0.tensor, "file": $0.file] },
        ] as [String: Any]
    }
}

/// What `mv init` did.
struct Initialized: Rendered {
    let outcome: Registry.InitOutcome
    let root: String
    let modelsRoot: String

    var text: String {
        var lines: [String] = []
        if outcome.createdRepository { lines.append("Created a Git repository in \(root)") }
        if let commit = outcome.commit {
            lines.append("Committed \(outcome.committedFiles.joined(separator: " and ")) (\(commit.prefix(8)))")
        } else {
            lines.append("Already initialized: \(root)")
        }
        lines.append("Tensor diffs: git diff renders *.npy through '\(outcome.diffDriver ?? "-")'")
        lines.append(
            outcome.storage == .lfs
                ? "Storage: lfs (tensor bytes are Git LFS objects in .git/lfs; mv push uploads them)"
                : "Storage: git (tensor bytes are Git blobs)")
        for path in outcome.reassembled { lines.append("Assembled \(path) from its chunks") }
        lines.append("Models live under \(modelsRoot)/. Next: mv train <model> --data train.csv --target y")
        return lines.joined(separator: "\n") + "\n"
    }

    var json: Any {
        [
            "created_repository": outcome.createdRepository, "commit": outcome.commit ?? NSNull(),
            "committed_files": outcome.committedFiles, "repository": root,
            "models_root": modelsRoot, "diff_driver": outcome.diffDriver ?? NSNull(),
            "reassembled": outcome.reassembled, "storage": outcome.storage.rawValue,
        ] as [String: Any]
    }
}
