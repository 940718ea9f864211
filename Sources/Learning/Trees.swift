import Foundation

/// Hyperparameters both tree algorithms read.
private struct TreeOptions {
    var settings: TreeSettings
    var seed: UInt64
}

private let criterionAliases = ["squared_error": "mse", "log_loss": "entropy"]

/// Turns max_features text into a count: none/all, sqrt, log2, a whole number or a fraction in (0, 1].
private func maxFeatureCount(_ text: String, features d: Int) -> Int? {
    switch text {
    case "none", "all": return d
    case "sqrt": return max(1, Int(Double(d).squareRoot()))
    case "log2": return max(1, Int(log2(Double(max(d, 1)))))
    default:
        if let whole = Int(text), whole >= 1 { return min(whole, d) }
        if let fraction = Double(text), fraction > 0, fraction <= 1 { return max(1, Int(fraction * Double(d))) }
        return nil
    }
}

/// A CART decision tree as scikit-learn's DecisionTreeClassifier/Regressor: gini or entropy
/// for classification, mse for regression (the criterion picks the task).
public struct DecisionTree: Trainer {
    public let algorithm = "decision-tree"
    /// The default criterion (gini) classifies; criterion=mse makes a regression tree.
    public let task = Task.classification
    public let summary = "CART decision tree: criterion gini or entropy (classification), mse (regression)"
    public let hyperparameters = [
        HyperparameterSpec(name: "criterion", defaultValue: "gini", summary: "gini, entropy (classification) or mse (regression)"),
        HyperparameterSpec(name: "max_depth", defaultValue: "none", summary: "deepest level, or none to grow until leaves are pure"),
        HyperparameterSpec(name: "min_samples_split", defaultValue: "2", summary: "fewest rows a node needs to be split"),
        HyperparameterSpec(name: "min_samples_leaf", defaultValue: "1", summary: "fewest rows in each child of a split"),
        HyperparameterSpec(
            name: "max_features", defaultValue: "none", summary: "features tried per split: none (all), sqrt, log2, a count or a fraction"),
        HyperparameterSpec(
            name: "seed", defaultValue: "0",
            summary: "scikit-learn random_state: the order features are tried in, which settles ties between equally good splits"),
    ]

    public init() {}

    public func task(for hyperparameters: [String: String]) throws -> Task {
        var reader = try HyperparameterReader(self, hyperparameters)
        return (SplitCriterion(rawValue: try reader.choice("criterion", ["gini", "entropy", "mse"], aliases: criterionAliases)) ?? .gini)
            .task
    }

    private func read(_ given: [String: String], features d: Int) throws -> (TreeOptions, [Hyperparameter]) {
        var r = try HyperparameterReader(self, given)
        let criterion = SplitCriterion(rawValue: try r.choice("criterion", ["gini", "entropy", "mse"], aliases: criterionAliases)) ?? .gini
        let maxDepth = try r.optionalInt("max_depth", atLeast: 1)
        let minSplit = try r.int("min_samples_split", atLeast: 2)
        let minLeaf = try r.int("min_samples_leaf", atLeast: 1)
        let text = r.raw("max_features").lowercased()
        guard let maxFeatures = maxFeatureCount(text, features: d) else {
            throw LearningError.invalidHyperparameter(
                algorithm: algorithm, key: "max_features", value: text,
                expected: "none, sqrt, log2, a whole number or a fraction in (0, 1]")
        }
        r.set("max_features", text)
        let seed = try r.seed("seed")
        let settings = TreeSettings(
            criterion: criterion, maxDepth: maxDepth, minSamplesSplit: minSplit,
            minSamplesLeaf: minLeaf, maxFeatures: maxFeatures)
        return (TreeOptions(settings: settings, seed: seed), r.resolved)
    }

    public func fit(_ data: Dataset, hyperparameters given: [String: String]) throws -> TrainedModel {
        let (options, resolved) = try read(given, features: data.features.columns)
        try TrainingChecks.features(data, algorithm: algorithm)
        // The seed maps to scikit-learn's random_state, so seed=0 grows random_state=0's tree.
        let randomState = SklearnTreeRandom(sklearnSeed: UInt32(truncatingIfNeeded: options.seed)).state
        if options.settings.criterion.task == .classification {
            let (classes, encoded) = try TrainingChecks.classes(data, algorithm: algorithm)
            let treeData = TreeData(data.features, labels: encoded, classCount: classes.count, target: nil)
            let tree = TreeGrower.grow(treeData, weights: nil, settings: options.settings, randomState: randomState)
            return TreeModels.model(
                algorithm: algorithm, trees: [tree], forest: false, classes: classes,
                features: data.features.columns, hyperparameters: resolved)
        }
        let treeData = TreeData(data.features, labels: nil, classCount: 0, target: data.target)
        let tree = TreeGrower.grow(treeData, weights: nil, settings: options.settings, randomState: randomState, sklearnOrder: true)
        return TreeModels.model(
            algorithm: algorithm, trees: [tree], forest: false, classes: nil,
            features: data.features.columns, hyperparameters: resolved)
    }

    public func load(parameters: [NamedTensor], hyperparameters: [String: String], featureCount: Int) throws -> TrainedModel {
        let (options, resolved) = try read(hyperparameters, features: featureCount)
        return try TreeModels.load(
            algorithm: algorithm, parameters: parameters, task: options.settings.criterion.task,
            forest: false, featureCount: featureCount, hyperparameters: resolved)
    }
}

/// A random forest as scikit-learn's RandomForestClassifier/Regressor: bootstrap samples
/// (as row weights), max_features drawn per split, probabilities or values averaged.
/// Trees grow in parallel; each tree's generator derives from (seed, tree index), so the
/// result depends only on the seed, never on thread timing.
public struct RandomForest: Trainer {
    public let algorithm = "random-forest"
    /// The default criterion (gini) classifies; criterion=mse makes a regression forest.
    public let task = Task.classification
    public let summary = "random forest of CART trees (bootstrap, feature subsampling), classification or regression"
    public let hyperparameters = [
        HyperparameterSpec(name: "n_estimators", defaultValue: "100", summary: "number of trees"),
        HyperparameterSpec(name: "criterion", defaultValue: "gini", summary: "gini, entropy (classification) or mse (regression)"),
        HyperparameterSpec(name: "max_depth", defaultValue: "none", summary: "deepest level, or none"),
        HyperparameterSpec(name: "min_samples_split", defaultValue: "2", summary: "fewest rows a node needs to be split"),
        HyperparameterSpec(name: "min_samples_leaf", defaultValue: "1", summary: "fewest rows in each child of a split"),
        HyperparameterSpec(
            name: "max_features", defaultValue: "auto",
            summary: "features tried per split: auto (sqrt for classification, 1.0 for regression), none, sqrt, log2, a count or a fraction"
        ),
        HyperparameterSpec(name: "bootstrap", defaultValue: "true", summary: "train each tree on a bootstrap sample"),
        HyperparameterSpec(name: "seed", defaultValue: "0", summary: "seed for bootstrap samples and feature draws"),
    ]

    public init() {}

    public func task(for hyperparameters: [String: String]) throws -> Task {
        var reader = try HyperparameterReader(self, hyperparameters)
        return (SplitCriterion(rawValue: try reader.choice("criterion", ["gini", "entropy", "mse"], aliases: criterionAliases)) ?? .gini)
            .task
    }

    private func read(_ given: [String: String], features d: Int) throws -> (TreeOptions, Int, Bool, [Hyperparameter]) {
        var r = try HyperparameterReader(self, given)
        let trees = try r.int("n_estimators", atLeast: 1)
        let criterion = SplitCriterion(rawValue: try r.choice("criterion", ["gini", "entropy", "mse"], aliases: criterionAliases)) ?? .gini
        let maxDepth = try r.optionalInt("max_depth", atLeast: 1)
        let minSplit = try r.int("min_samples_split", atLeast: 2)
        let minLeaf = try r.int("min_samples_leaf", atLeast: 1)
        var text = r.raw("max_features").lowercased()
        if text == "auto" {
            // scikit-learn ≥ 1.1 defaults: sqrt for classifiers, all features for regressors.
            text = criterion.task == .classification ? "sqrt" : "1.0"
        }
        guard let maxFeatures = maxFeatureCount(text, features: d) else {
            throw LearningError.invalidHyperparameter(
                algorithm: algorithm, key: "max_features", value: text,
                expected: "auto, none, sqrt, log2, a whole number or a fraction in (0, 1]")
        }
        r.set("max_features", text)
        let bootstrap = try r.bool("bootstrap")
        let seed = try r.seed("seed")
        let settings = TreeSettings(
            criterion: criterion, maxDepth: maxDepth, minSamplesSplit: minSplit,
            minSamplesLeaf: minLeaf, maxFeatures: maxFeatures)
        return (TreeOptions(settings: settings, seed: seed), trees, bootstrap, r.resolved)
    }

    public func fit(_ data: Dataset, hyperparameters given: [String: String]) throws -> TrainedModel {
        let (options, count, bootstrap, resolved) = try read(given, features: data.features.columns)
        try TrainingChecks.features(data, algorithm: algorithm)
        var classes: [Double]?
        let treeData: TreeData
        if options.settings.criterion.task == .classification {
            let (found, encoded) = try TrainingChecks.classes(data, algorithm: algorithm)
            classes = found
            treeData = TreeData(data.features, labels: encoded, classCount: found.count, target: nil)
        } else {
            treeData = TreeData(data.features, labels: nil, classCount: 0, target: data.target)
        }
        let n = data.count
        let slots = ResultSlots<TreeArrays>(count: count)
        let settings = options.settings
        let seed = options.seed
        DispatchQueue.concurrentPerform(iterations: count) { t in
            // SplitMix-style spreading of (seed, t) gives every tree its own stream.
            var generator = SeededGenerator(seed: seed &+ UInt64(t + 1) &* 0x9E37_79B9_7F4A_7C15)
            var weights: [Double]?
            if bootstrap {
                var w = [Double](repeating: 0, count: n)
                for _ in 0..<n { w[Int(generator.nextInt(below: UInt64(n)))] += 1 }
                weights = w
            }
            let state = UInt32(truncatingIfNeeded: generator.next() >> 33) | 1
            slots.set(t, TreeGrower.grow(treeData, weights: weights, settings: settings, randomState: state))
        }
        let trees = (0..<count).compactMap { slots.get($0) }
        return TreeModels.model(
            algorithm: algorithm, trees: trees, forest: true, classes: classes,
            features: data.features.columns, hyperparameters: resolved)
    }

    public func load(parameters: [NamedTensor], hyperparameters: [String: String], featureCount: Int) throws -> TrainedModel {
        let (options, _, _, resolved) = try read(hyperparameters, features: featureCount)
        return try TreeModels.load(
            algorithm: algorithm, parameters: parameters, task: options.settings.criterion.task,
            forest: true, featureCount: featureCount, hyperparameters: resolved)
    }
}

extension TreeModels {
    static func model(
        algorithm: String, trees: [TreeArrays], forest: Bool, classes: [Double]?, features: Int,
        hyperparameters: [Hyperparameter]
    ) -> TrainedModel {
        var parameters = tensors(trees, forest: forest)
        if let classes {
            parameters.append(NamedTensor(name: "classes", shape: [classes.count], values: classes))
            return TrainedModel(
                algorithm: algorithm, task: .classification, hyperparameters: hyperparameters, parameters: parameters,
                trainingLoss: [], featureCount: features, classes: classes,
                predictor: { x in argmaxRows(predictValues(trees, x)).map { classes[$0] } },
                probabilities: { x in predictValues(trees, x) })
        }
        return TrainedModel(
            algorithm: algorithm, task: .regression, hyperparameters: hyperparameters, parameters: parameters,
            trainingLoss: [], featureCount: features, classes: nil,
            predictor: { x in predictValues(trees, x).values }, probabilities: nil)
    }

    static func load(
        algorithm: String, parameters: [NamedTensor], task: Task, forest: Bool, featureCount: Int,
        hyperparameters: [Hyperparameter]
    ) throws -> TrainedModel {
        var classes: [Double]?
        var outputs = 1
        if task == .classification {
            let stored = try TrainingChecks.tensor(parameters, "classes", algorithm: algorithm)
            guard stored.values.count >= 2 else {
                throw LearningError.invalidStoredModel(algorithm: algorithm, reason: "tensor 'classes' needs at least 2 values")
            }
            classes = stored.values
            outputs = stored.values.count
        }
        let trees = try self.trees(from: parameters, outputs: outputs, featureCount: featureCount, forest: forest, algorithm: algorithm)
        return model(
            algorithm: algorithm, trees: trees, forest: forest, classes: classes, features: featureCount,
            hyperparameters: hyperparameters)
    }
}
