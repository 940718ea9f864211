/// Whether a larger or a smaller metric value means a better model.
public enum MetricDirection: String, Sendable {
    case higherIsBetter = "higher"
    case lowerIsBetter = "lower"
}

/// One named evaluation score.
public struct MetricValue: Sendable, Equatable, Codable {
    public let name: String
    public let value: Double

    public init(name: String, value: Double) {
        self.name = name
        self.value = value
    }
}

/// Evaluation metrics.
public enum Metrics {
    /// mse, rmse, mae and r2 (scikit-learn's definition), in that order.
    /// Empty input yields nan for every metric, since there is nothing to score.
    public static func regression(predicted: [Double], actual: [Double]) -> [MetricValue] {
        precondition(predicted.count == actual.count, "predicted and actual must have the same length")
        let n = actual.count
        guard n > 0 else {
            return ["mse", "rmse", "mae", "r2"].map { MetricValue(name: $0, value: .nan) }
        }
        var squared = 0.0
        var absolute = 0.0
        var total = 0.0
        for i in 0..<n {
            let residual = actual[i] - predicted[i]
            squared += residual * residual
            absolute += abs(residual)
            total += actual[i]
        }
        let mean = total / Double(n)
        var spread = 0.0
        for value in actual {
            spread += (value - mean) * (value - mean)
        }
        let mse = squared / Double(n)
        let r2: Double
        if spread == 0 {
            // scikit-learn's convention for a constant target.
            r2 = squared == 0 ? 1.0 : 0.0
        } else {
            r2 = 1.0 - squared / spread
        }
        return [
            MetricValue(name: "mse", value: mse),
            MetricValue(name: "rmse", value: mse.squareRoot()),
            MetricValue(name: "mae", value: absolute / Double(n)),
            MetricValue(name: "r2", value: r2),
        ]
    }

    /// Which way is better for a known metric name; nil for unknown names.
    public static func direction(of name: String) -> MetricDirection? {
        switch name.lowercased() {
        case "mse", "rmse", "mae", "loss", "log_loss": return .lowerIsBetter
        case "r2", "accuracy", "precision", "recall", "f1", "auc", "roc_auc",
            "precision_macro", "recall_macro", "f1_macro",
            "precision_weighted", "recall_weighted", "f1_weighted":
            return .higherIsBetter
        default: return nil
        }
    }
}
