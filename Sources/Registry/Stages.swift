import Foundation
import Git

extension Registry {
    /// The version currently holding `stage` (placeholder until stage tags land).
    func stageHolder(model: ModelName, stage: String) throws -> SemanticVersion? { nil }
}
