import Foundation
import Registry

/// One line on the LFS objects a push, pull or clone moved.
struct LFSSummary {
    enum Direction { case up, down }

    let movement: LFSMovement
    let direction: Direction

    init(_ movement: LFSMovement, direction: Direction) {
        self.movement = movement
        self.direction = direction
    }

    var text: String {
        let verb = direction == .up ? "uploaded" : "downloaded"
        let place = movement.endpoint.map { direction == .up ? " to \($0)" : " from \($0)" } ?? ""
        let megabytes = String(format: "%.1f", Double(movement.bytes) / 1_048_576)
        return
            "\(verb) \(movement.objects) tensor object\(movement.objects == 1 ? "" : "s") (\(megabytes) MiB)\(place); \(movement.present) already there\n"
    }
}
