// Report: pictures of a model's history for `mv report` — a small chart module of mv's own
// (scales with nice ticks, linear or logarithmic; SVG line and point charts with titles,
// axis labels, legends, text alternatives and the Okabe–Ito palette), kept apart from the
// registry code. Pure text out: no files, no Git.
