import Foundation
import Git
import SystemIO

/// The packs mv installed for versions not yet published, each recorded with its writer's
/// process id before it becomes visible (`StateFiles.pendingPacks`), and forgotten once
/// the version's refs moved.
///
/// Why: a pack is installed before the commit that refers to it is written (a tree may only
/// name objects that exist). A writer killed in between leaves a pack no commit refers to —
/// the size of every tensor it stored — which `git gc` would keep for two weeks. The next
/// writer deletes such a pack once its writer is gone and nothing reaches its objects.
/// Meanwhile no writer relies on another's pending objects: it stores its own copy of a blob
/// found only there (`avoided`), so deleting a dead writer's pack can never break a commit
/// made after it.
struct PendingPacks {
    let state: StateFiles
    let objects: ObjectDatabase

    /// Records pack `name` of this process, before it is installed.
    func record(_ name: String) throws {
        try FileManager.default.createDirectory(at: state.pendingPacks, withIntermediateDirectories: true)
        try Data().writeUnsynced(to: state.pendingPacks.appendingPathComponent("\(Processes.current)-\(name)"))
    }

    /// Forgets this process's packs: its version was published, so its commit refers to them.
    func forgetOwn() {
        for entry in entries() where entry.pid == Processes.current { FileSystem.remove(entry.file) }
    }

    /// Deletes this process's packs when its version will not be published (the command
    /// failed after storing), unless another writer recorded the same pack; forgets them.
    func discardOwn() {
        let all = entries()
        for entry in all where entry.pid == Processes.current {
            if !all.contains(where: { $0.pid != entry.pid && $0.pack == entry.pack }) { _ = BlobPack.removePack(entry.pack, objects) }
            FileSystem.remove(entry.file)
        }
    }

    /// The objects in packs other processes installed and have not published: not to be
    /// relied on, as their writers may be gone before they publish.
    func avoided() -> Set<ObjectID> {
        Set(entries().filter { $0.pid != Processes.current }.flatMap { BlobPack.objectIDs(inPack: $0.pack, objects) ?? [] })
    }

    /// Deletes the packs of writers that are gone whose objects nothing reaches (and that no
    /// running writer recorded too: two writers of the same bytes share one pack), and
    /// forgets the records of all gone writers; returns the bytes freed.
    func removeOrphans(_ repository: Repository) throws -> Int64 {
        var freed: Int64 = 0
        let all = entries()
        let live = Set(all.filter { Processes.isAlive($0.pid) }.map(\.pack))
        for entry in all where !Processes.isAlive(entry.pid) {
            if !live.contains(entry.pack), let ids = BlobPack.objectIDs(inPack: entry.pack, objects), !ids.isEmpty,
                try !repository.reachesAny(Set(ids))
            {
                freed += BlobPack.removePack(entry.pack, objects)
            }
            FileSystem.remove(entry.file)
        }
        return freed
    }

    private struct Entry {
        let file: URL
        let pid: Int32
        let pack: String
    }

    private func entries() -> [Entry] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: state.pendingPacks.path)) ?? []
        return names.compactMap { name in
            guard let dash = name.firstIndex(of: "-"), let pid = Int32(name[..<dash]) else { return nil }
            return Entry(file: state.pendingPacks.appendingPathComponent(name), pid: pid, pack: String(name[name.index(after: dash)...]))
        }
    }
}
