import ArgumentParser

/// Which version a command acts on: every command that names one version takes it this way.
struct VersionArguments: ParsableArguments {
    @Argument(help: "The version: churn@v3, v3 (one model), churn#production, churn@latest, or a Git revision.")
    var reference: String

    @Option(help: "The model, when the reference does not name one.")
    var model: String?
}

/// The same for commands whose version may be left out (the latest of the only model).
struct OptionalVersionArguments: ParsableArguments {
    @Argument(help: "The version (default: the latest of the only model): churn@v3, v3, churn#production, or a Git revision.")
    var reference: String?

    @Option(help: "The model, when the reference does not name one.")
    var model: String?
}

/// The options of every stage change: which stage, which model, and why.
struct StageOptions: ParsableArguments {
    @Option(help: "The stage.")
    var stage = "production"

    @Option(help: "The model, when the reference does not name one.")
    var model: String?

    @Option(name: [.customShort("m"), .customLong("message"), .customLong("reason")], help: "Why (recorded in the tag and the commit).")
    var reason: String?
}

/// The options of every command that registers a new version.
struct NewVersionOptions: ParsableArguments {
    @Option(help: "Version to create, e.g. v2.1.0 (default: the next major version).")
    var version: String?

    @Flag(help: "Replace uncommitted changes in the model folder.")
    var force = false
}
