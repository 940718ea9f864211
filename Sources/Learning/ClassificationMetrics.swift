import Foundation

/// How per-class precision, recall and F1 are combined over several classes.
public enum MetricAverage: String, Sendable {
    /// Unweighted mean over the classes present in the actual or predicted labels.
    case macro
    /// Mean weighted by each class's number of actual examples.
    case weighted
}

extension Metrics {
    /// The clipping scikit-learn's log_loss applies to probabilities: machine epsilon of Double.
    public static let logLossEpsilon = Double.ulpOfOne

    /// Classification scores, matching scikit-learn on the same predictions.
    ///
    /// Labels are class indices `0..<classCount`. With two classes: accuracy, precision,
    /// recall, f1 (the positive class is the last one, index 1, like pos_label=1), then
    /// roc_auc and log_loss when `probabilities` (rows × classCount) are given. With more
    /// classes: accuracy, precision/recall/f1 with `_macro` and `_weighted` averages, then
    /// roc_auc (one-vs-rest, macro) and log_loss. Empty input yields nan for every metric.
    public static func classification(predicted: [Int], actual: [Int], classCount: Int, probabilities: Matrix? = nil) -> [MetricValue] {
        precondition(predicted.count == actual.count, "predicted and actual must have the same length")
        precondition(classCount >= 2, "classification needs at least two classes")
        if let probabilities {
            precondition(
                probabilities.rows == actual.count && probabilities.columns == classCount,
                "probabilities must be rows × classCount")
        }
        var names: [String]
        if classCount == 2 {
            names = ["accuracy", "precision", "recall", "f1"]
        } else {
            names = [
                "accuracy", "precision_macro", "recall_macro", "f1_macro",
                "precision_weighted", "recall_weighted", "f1_weighted",
            ]
        }
        if probabilities != nil {
            names += ["roc_auc", "log_loss"]
        }
        guard !actual.isEmpty else {
            return names.map { MetricValue(name: $0, value: .nan) }
        }
        var values = [accuracy(predicted: predicted, actual: actual)]
        if classCount == 2 {
            let scores = precisionRecallF1(predicted: predicted, actual: actual, positive: 1)
            values += [scores.precision, scores.recall, scores.f1]
        } else {
            let macro = precisionRecallF1(predicted: predicted, actual: actual, classCount: classCount, average: .macro)
            let weighted = precisionRecallF1(predicted: predicted, actual: actual, classCount: classCount, average: .weighted)
            values += [macro.precision, macro.recall, macro.f1, weighted.precision, weighted.recall, weighted.f1]
        }
        if let probabilities {
            if classCount == 2 {
                values.append(rocAUC(scores: probabilities.column(1), positives: actual.map { $0 == 1 }))
            } else {
                values.append(rocAUCOneVsRest(probabilities: probabilities, actual: actual))
            }
            values.append(logLoss(probabilities: probabilities, actual: actual))
        }
        return zip(names, values).map { MetricValue(name: $0, value: $1) }
    }

    /// Same as the integer form, for labels as `TrainedModel.predict` returns them (class indices as Doubles).
    public static func classification(predicted: [Double], actual: [Double], classCount: Int, probabilities: Matrix? = nil) -> [MetricValue]
    {
        classification(
            predicted: predicted.map { Int($0) }, actual: actual.map { Int($0) },
            classCount: classCount, probabilities: probabilities)
    }

    /// Fraction of predictions equal to the actual label.
    public static func accuracy(predicted: [Int], actual: [Int]) -> Double {
        precondition(predicted.count == actual.count, "predicted and actual must have the same length")
        guard !actual.isEmpty else { return .nan }
        var hits = 0
        for i in actual.indices where predicted[i] == actual[i] { hits += 1 }
        return Double(hits) / Double(actual.count)
    }

    /// Counts: row = actual class, column = predicted class, as scikit-learn's confusion_matrix.
    public static func confusionMatrix(predicted: [Int], actual: [Int], classCount: Int) -> [[Int]] {
        precondition(predicted.count == actual.count, "predicted and actual must have the same length")
        var matrix = Array(repeating: Array(repeating: 0, count: classCount), count: classCount)
        for i in actual.indices {
            matrix[actual[i]][predicted[i]] += 1
        }
        return matrix
    }

    /// Precision, recall and F1 of one class; 0 where a ratio has a zero denominator,
    /// as scikit-learn's zero_division default reports.
    public static func precisionRecallF1(predicted: [Int], actual: [Int], positive: Int) -> (precision: Double, recall: Double, f1: Double)
    {
        var tp = 0
        var fp = 0
        var fn = 0
        for i in actual.indices {
            let p = predicted[i] == positive
            let a = actual[i] == positive
            if p && a { tp += 1 } else if p { fp += 1 } else if a { fn += 1 }
        }
        return scores(tp: tp, fp: fp, fn: fn)
    }

    /// Precision, recall and F1 averaged over classes. Macro averages the classes that occur in
    /// `actual` or `predicted` (scikit-learn's unique_labels); weighted uses actual counts as weights.
    public static func precisionRecallF1(predicted: [Int], actual: [Int], classCount: Int, average: MetricAverage) -> (
        precision: Double, recall: Double, f1: Double
    ) {
        let confusion = confusionMatrix(predicted: predicted, actual: actual, classCount: classCount)
        var precision = 0.0
        var recall = 0.0
        var f1 = 0.0
        var totalWeight = 0.0
        for k in 0..<classCount {
            let support = confusion[k].reduce(0, +)
            let predictedCount = confusion.reduce(0) { $0 + $1[k] }
            if support == 0 && predictedCount == 0 { continue }
            let tp = confusion[k][k]
            let s = scores(tp: tp, fp: predictedCount - tp, fn: support - tp)
            let weight = average == .macro ? 1.0 : Double(support)
            precision += weight * s.precision
            recall += weight * s.recall
            f1 += weight * s.f1
            totalWeight += weight
        }
        guard totalWeight > 0 else { return (0, 0, 0) }
        return (precision / totalWeight, recall / totalWeight, f1 / totalWeight)
    }

    private static func scores(tp: Int, fp: Int, fn: Int) -> (precision: Double, recall: Double, f1: Double) {
        let precision = tp + fp == 0 ? 0 : Double(tp) / Double(tp + fp)
        let recall = tp + fn == 0 ? 0 : Double(tp) / Double(tp + fn)
        // scikit-learn computes F1 from counts, 2tp / (2tp + fp + fn), not from the rounded ratios.
        let denominator = 2 * tp + fp + fn
        let f1 = denominator == 0 ? 0 : Double(2 * tp) / Double(denominator)
        return (precision, recall, f1)
    }

    /// Area under the ROC curve: the probability that a random positive scores above a random
    /// negative, ties counting half (the Mann–Whitney form of scikit-learn's trapezoids).
    /// nan when only one class is present.
    public static func rocAUC(scores: [Double], positives: [Bool]) -> Double {
        precondition(scores.count == positives.count, "scores and labels must have the same length")
        let order = scores.indices.sorted { scores[$0] < scores[$1] }
        var positiveCount = 0.0
        var rankSum = 0.0
        var i = 0
        while i < order.count {
            var j = i
            while j + 1 < order.count && scores[order[j + 1]] == scores[order[i]] { j += 1 }
            // Tied scores share the mean of their 1-based ranks.
            let rank = Double(i + j + 2) / 2
            for k in i...j where positives[order[k]] {
                positiveCount += 1
                rankSum += rank
            }
            i = j + 1
        }
        let negativeCount = Double(scores.count) - positiveCount
        guard positiveCount > 0, negativeCount > 0 else { return .nan }
        return (rankSum - positiveCount * (positiveCount + 1) / 2) / (positiveCount * negativeCount)
    }

    /// The ROC curve's corners as the threshold falls through the distinct scores, from
    /// (0, 0) to (1, 1), as scikit-learn's roc_curve with drop_intermediate=False; with more
    /// than `maxPoints` corners, evenly spaced ones (the ends kept), which a picture cannot
    /// tell apart. nil when only one class is present.
    public static func rocCurve(scores: [Double], positives: [Bool], maxPoints: Int = 201) -> (fpr: [Double], tpr: [Double])? {
        precondition(scores.count == positives.count, "scores and labels must have the same length")
        let positiveCount = positives.filter { $0 }.count
        let negativeCount = positives.count - positiveCount
        guard positiveCount > 0, negativeCount > 0 else { return nil }
        let order = scores.indices.sorted { scores[$0] > scores[$1] }
        var fpr = [0.0]
        var tpr = [0.0]
        var (truePositives, falsePositives) = (0, 0)
        var i = 0
        while i < order.count {
            // Tied scores cross the threshold together: one corner.
            var j = i
            while j < order.count && scores[order[j]] == scores[order[i]] {
                if positives[order[j]] { truePositives += 1 } else { falsePositives += 1 }
                j += 1
            }
            fpr.append(Double(falsePositives) / Double(negativeCount))
            tpr.append(Double(truePositives) / Double(positiveCount))
            i = j
        }
        guard fpr.count > maxPoints, maxPoints >= 2 else { return (fpr, tpr) }
        let kept = (0..<maxPoints).map { $0 * (fpr.count - 1) / (maxPoints - 1) }
        return (kept.map { fpr[$0] }, kept.map { tpr[$0] })
    }

    /// One-vs-rest ROC AUC averaged over classes, as roc_auc_score(multi_class="ovr", average="macro").
    public static func rocAUCOneVsRest(probabilities: Matrix, actual: [Int]) -> Double {
        var total = 0.0
        for k in 0..<probabilities.columns {
            total += rocAUC(scores: probabilities.column(k), positives: actual.map { $0 == k })
        }
        return total / Double(probabilities.columns)
    }

    /// Mean negative log-likelihood of the actual classes, probabilities clipped to
    /// [eps, 1 - eps] with eps = `logLossEpsilon`, as scikit-learn's log_loss.
    public static func logLoss(probabilities: Matrix, actual: [Int]) -> Double {
        precondition(probabilities.rows == actual.count, "one probability row per label")
        guard !actual.isEmpty else { return .nan }
        let eps = logLossEpsilon
        var total = 0.0
        for i in actual.indices {
            let p = min(max(probabilities[i, actual[i]], eps), 1 - eps)
            total -= log(p)
        }
        return total / Double(actual.count)
    }
}
