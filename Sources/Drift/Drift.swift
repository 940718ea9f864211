// Drift: distributions of data columns and how far apart two of them are. It builds the
// reference profile a version keeps (ModelFormat's `ReferenceProfile`), observes current
// data against it one value at a time (so any amount of data streams through in constant
// memory), and computes the statistics `mv monitor` reports: PSI, Kolmogorov–Smirnov,
// chi-square, Jensen–Shannon and normalised Wasserstein, each defined in docs/MONITORING.md.
// Pure computation: no files, no Git.
