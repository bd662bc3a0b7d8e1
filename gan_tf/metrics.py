"""Sample-quality figures as pure numpy functions of an evaluator's features and logits, in float64 (each
defined in docs/evaluation.md; FD grows as n shrinks, so compare runs at the same n)."""
import collections

import numpy as np

COVERAGE_FRACTION = 0.02   # a class "is covered" if it holds 2% of the samples (uniform is 10%)
CONFIDENT = 0.9   # a channel is read with confidence when its argmax class has this probability
PRECISION_K, DENSITY_K = 3, 5   # Kynkaanniemi et al.'s k for precision and recall; Naeem et al.'s for the others

Figure = collections.namedtuple("Figure", "label form bootstrap table")
# Each figure's label and format, written once: make eval's table (table=True, in this order), the
# eval/<key> TensorBoard scalars, RESULTS.md's columns and the bootstrap's intervals read them here.
FIGURES = {
    "modes": Figure("modes", ",.0f", False, True), "mode_kl": Figure("KL to uniform (nats)", ".3f", False, True),
    "confident_share": Figure("confident share", ".1%", False, True),
    "classifier_score": Figure("classifier score", ".2f", True, True),
    "frechet_features": Figure("FD features", ".2f", True, True), "kid_mean": Figure("KID", ".4f", True, True),
    "precision": Figure("precision", ".3f", True, True), "recall": Figure("recall", ".3f", True, True),
    "density": Figure("density", ".3f", True, True), "coverage": Figure("coverage", ".3f", True, True),
    "classes_covered": Figure("classes covered", "d", False, True),
    "label_accuracy": Figure("label accuracy", ".2%", True, True),
    "intra_frechet": Figure("intra-class FD", ".2f", True, True),
    "frechet_logits": Figure("FD logits", ".2f", False, False), "kid_std": Figure("KID std", ".4f", False, False),
    "effective_classes": Figure("effective classes", ".2f", False, False),
    "classes_per_sample": Figure("classes per sample", ".3f", False, False),
}


def softmax(logits):
  """Row-wise softmax in float64."""
  logits = np.asarray(logits, np.float64)
  e = np.exp(logits - logits.max(axis=1, keepdims=True))
  return e / e.sum(axis=1, keepdims=True)


def _entropy(p):
  """Row-wise entropy in nats of probabilities [..., classes], with 0 log 0 = 0."""
  with np.errstate(divide="ignore", invalid="ignore"):   # 0 log 0 = 0, masked below
    return -np.where(p > 0, p * np.log(p), 0.0).sum(axis=-1)


def classifier_score_factors(probabilities):
  """(exp(H(p(y))), exp(E_x H(p(y|x)))) of probabilities [N, classes]: the classes the samples spread over and
  the classes one sample looks like; their ratio is the classifier score, as E_x KL = H(p(y)) - E_x H(p(y|x))."""
  p = np.asarray(probabilities, np.float64)
  return float(np.exp(_entropy(p.mean(axis=0)))), float(np.exp(_entropy(p).mean()))


def classifier_score(probabilities):
  """exp(E_x[KL(p(y|x) || p(y))]) of class probabilities [N, classes]: 1 (no diversity) to classes."""
  effective_classes, classes_per_sample = classifier_score_factors(probabilities)
  return effective_classes / classes_per_sample


def gaussian_moments(x):
  """(mean, covariance) of the rows of x, in float64."""
  x = np.asarray(x, np.float64)
  if x.ndim != 2 or len(x) < 2:
    raise ValueError(f"need at least 2 row vectors, got shape {x.shape}")
  return x.mean(axis=0), np.cov(x, rowvar=False)


def _psd_sqrt(matrix):
  values, vectors = np.linalg.eigh((matrix + matrix.T) / 2)
  return (vectors * np.sqrt(np.clip(values, 0.0, None))) @ vectors.T


def gaussian_frechet_distance(mean1, cov1, mean2, cov2):
  """|m1 - m2|^2 + tr(C1 + C2 - 2 (C1^1/2 C2 C1^1/2)^1/2), the Fréchet distance of two Gaussians."""
  mean1, mean2 = np.asarray(mean1, np.float64), np.asarray(mean2, np.float64)
  cov1, cov2 = np.atleast_2d(np.asarray(cov1, np.float64)), np.atleast_2d(np.asarray(cov2, np.float64))
  # tr sqrt(C1 C2) = tr sqrt(C1^1/2 C2 C1^1/2): similar matrices, and the latter is symmetric PSD, so eigh
  # gives its square root's trace exactly (scipy's sqrtm on the non-symmetric product is not needed).
  root1 = _psd_sqrt(cov1)
  cross = root1 @ cov2 @ root1
  trace_sqrt = np.sqrt(np.clip(np.linalg.eigvalsh((cross + cross.T) / 2), 0.0, None)).sum()
  diff = mean1 - mean2
  distance = diff @ diff + np.trace(cov1) + np.trace(cov2) - 2.0 * trace_sqrt
  return float(max(distance, 0.0))   # rounding can leave -1e-13 for identical sets


def frechet_distance(x, y):
  """Fréchet distance between Gaussians fitted to two sets of row vectors (FID's formula)."""
  return gaussian_frechet_distance(*gaussian_moments(x), *gaussian_moments(y))


def kid(x, y, subsets=10, subset_size=1000, seed=0):
  """KID: (mean, std) over random subsets of the unbiased MMD^2 with k(a, b) = (a.b / d + 1)^3."""
  x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
  m = min(subset_size, len(x), len(y))
  if m < 2:
    raise ValueError(f"KID needs subsets of at least 2 vectors; got {len(x)} and {len(y)}")
  rng = np.random.default_rng(seed)
  dim = x.shape[1]
  values = []
  for _ in range(subsets):
    a = x[rng.choice(len(x), m, replace=False)]
    b = y[rng.choice(len(y), m, replace=False)]
    k_aa = (a @ a.T / dim + 1.0) ** 3
    k_bb = (b @ b.T / dim + 1.0) ** 3
    k_ab = (a @ b.T / dim + 1.0) ** 3
    # Unbiased: the within-set sums leave out k(a_i, a_i).
    within = (k_aa.sum() - np.trace(k_aa) + k_bb.sum() - np.trace(k_bb)) / (m * (m - 1))
    values.append(within - 2.0 * k_ab.mean())
  return float(np.mean(values)), float(np.std(values))


def class_histogram(logits, num_classes):
  """Number of rows of logits (or probabilities) whose argmax is each class."""
  return np.bincount(np.argmax(np.asarray(logits), axis=1), minlength=num_classes)


def classes_covered(histogram, min_fraction=COVERAGE_FRACTION):
  """Number of classes holding at least min_fraction of the samples."""
  histogram = np.asarray(histogram)
  total = histogram.sum()
  return int(np.sum(histogram >= min_fraction * total)) if total else 0


def pairwise_distances(x, y):
  """Euclidean distances [len(x), len(y)] between rows, in float64."""
  x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
  squared = (x * x).sum(axis=1)[:, None] - 2.0 * x @ y.T + (y * y).sum(axis=1)[None, :]
  return np.sqrt(np.maximum(squared, 0.0))


def knn_radii(x, ks, batch_size=1000):
  """For each k of ks, each row's distance to its k-th nearest other row of x (its k-NN ball's radius)."""
  radii = [np.partition(pairwise_distances(x[start:start + batch_size], x), ks, axis=1)[:, ks]
           for start in range(0, len(x), batch_size)]   # column 0 of the partition is the row itself
  return np.concatenate(radii).T


def prdc_terms(real, fake, batch_size=1000):
  """Per point, the terms whose means are precision and density (one per fake row) and recall and coverage
  (one per real row), with k-NN balls strictly inside as in the reference implementation, prdc 0.2."""
  real, fake = np.asarray(real, np.float64), np.asarray(fake, np.float64)
  real_precision, real_density = knn_radii(real, [PRECISION_K, DENSITY_K], batch_size)
  fake_radii, = knn_radii(fake, [PRECISION_K], batch_size)
  terms = {"precision": np.zeros(len(fake)), "density": np.zeros(len(fake)),
           "recall": np.zeros(len(real), bool), "coverage": np.zeros(len(real), bool)}
  for start in range(0, len(fake), batch_size):
    part = slice(start, start + batch_size)
    distances = pairwise_distances(real, fake[part])   # [real, fakes of this part]
    terms["precision"][part] = (distances < real_precision[:, None]).any(axis=0)   # in some real ball
    inside = distances < real_density[:, None]
    terms["density"][part] = inside.sum(axis=0) / DENSITY_K   # real balls holding it, / k
    terms["coverage"] |= inside.any(axis=1)                   # a fake in its own ball
    terms["recall"] |= (distances < fake_radii[None, part]).any(axis=1)   # in some fake ball
  return {name: values.astype(np.float64) for name, values in terms.items()}


def prdc(real, fake):
  """Precision and recall (k = 3, Kynkaanniemi et al. 2019), density and coverage (k = 5, Naeem et al. 2020)
  of fake rows against real rows; compare sets of equal size."""
  return {name: float(values.mean()) for name, values in prdc_terms(real, fake).items()}


def label_accuracy(logits, labels):
  """The fraction of rows whose argmax class is their label."""
  return float(np.mean(np.argmax(np.asarray(logits), axis=1) == np.asarray(labels)))


def intra_class_frechet(fake_features, fake_labels, real_features, real_labels):
  """(mean, per class) Frechet distance between the fake and the real features of each class, over the
  classes with at least 2 rows on both sides."""
  fake_labels, real_labels = np.asarray(fake_labels), np.asarray(real_labels)
  per_class = {}
  for c in np.unique(fake_labels):
    fake, real = fake_features[fake_labels == c], real_features[real_labels == c]
    if len(fake) >= 2 and len(real) >= 2:
      per_class[int(c)] = frechet_distance(fake, real)
  if not per_class:
    raise ValueError("no class has at least 2 fake and 2 real rows")
  return float(np.mean(list(per_class.values()))), per_class


def nearest_neighbours(queries, pool, batch_size=500):
  """(distances, indices): each query row's Euclidean distance to its nearest row of pool, and which."""
  queries, pool = np.asarray(queries, np.float64), np.asarray(pool, np.float64)
  pool_sq = (pool * pool).sum(axis=1)
  distances, indices = [], []
  for start in range(0, len(queries), batch_size):
    q = queries[start:start + batch_size]
    squared = (q * q).sum(axis=1)[:, None] - 2.0 * q @ pool.T + pool_sq[None, :]
    nearest = np.argmin(squared, axis=1)
    distances.append(np.sqrt(np.maximum(squared[np.arange(len(q)), nearest], 0.0)))
    indices.append(nearest)
  return np.concatenate(distances).astype(np.float64), np.concatenate(indices)


def nearest_ratio(sample_distances, heldout_distances):
  """Mean nearest-training distance of the samples over that of held-out real images."""
  return float(np.mean(sample_distances) / np.mean(heldout_distances))


def compare_embeddings(fake, real, kid_subsets=10, kid_subset_size=1000, seed=0, fake_labels=None,
                       real_labels=None):
  """All figures for fake vs real (features, logits) pairs, as a JSON-ready dict (precision, recall, density and
  coverage on the first prdc_n rows of each); with the labels the fakes were asked for and the real ones, a
  conditional model's label accuracy and intra-class FD too."""
  (fake_features, fake_logits), (real_features, real_logits) = fake, real
  histogram = class_histogram(fake_logits, real_logits.shape[1])
  kid_mean, kid_std = kid(fake_features, real_features, kid_subsets, kid_subset_size, seed)
  effective_classes, classes_per_sample = classifier_score_factors(softmax(fake_logits))
  equal = min(len(fake_features), len(real_features))   # the k-NN figures compare sets of one size
  return {
      "n": len(fake_features),
      "n_reference": len(real_features),
      "classifier_score": effective_classes / classes_per_sample,
      "effective_classes": effective_classes,
      "classes_per_sample": classes_per_sample,
      "frechet_features": frechet_distance(fake_features, real_features),
      "frechet_logits": frechet_distance(fake_logits, real_logits),
      "kid_mean": kid_mean,
      "kid_std": kid_std,
      "histogram": histogram.tolist(),
      "classes_covered": classes_covered(histogram),
      **prdc(real_features[:equal], fake_features[:equal]),
      "prdc_n": equal,
      **_conditional_figures(fake_features, fake_logits, fake_labels, real_features, real_labels),
  }


def _conditional_figures(fake_features, fake_logits, fake_labels, real_features, real_labels):
  if fake_labels is None:
    return {}
  intra, per_class = intra_class_frechet(fake_features, fake_labels, real_features, real_labels)
  return {"label_accuracy": label_accuracy(fake_logits, fake_labels), "intra_frechet": intra,
          "intra_frechet_per_class": [per_class.get(c) for c in range(int(max(per_class)) + 1)]}


def bootstrap_intervals(fake, real, resamples=100, level=0.95, seed=0, fake_labels=None, real_labels=None,
                        kid_subsets=10, kid_subset_size=1000):
  """{figure: [low, high]}: seeded percentile intervals of compare_embeddings' figures over resamples of the
  points each averages over: the samples, but the real images for recall and coverage (resampling the
  samples would drop a third of them, biasing both down)."""
  (fake_features, fake_logits), (real_features, _) = fake, real
  rng = np.random.default_rng(seed)
  equal = min(len(fake_features), len(real_features))
  terms = prdc_terms(real_features[:equal], fake_features[:equal])
  probabilities = softmax(fake_logits)
  real_moments = gaussian_moments(real_features)
  correct = None if fake_labels is None else np.argmax(fake_logits, axis=1) == np.asarray(fake_labels)
  values = {name: [] for name, figure in FIGURES.items() if figure.bootstrap}
  for _ in range(resamples):
    rows = rng.integers(0, len(fake_features), len(fake_features))
    values["classifier_score"].append(classifier_score(probabilities[rows]))
    values["frechet_features"].append(gaussian_frechet_distance(*gaussian_moments(fake_features[rows]),
                                                                *real_moments))
    values["kid_mean"].append(kid(fake_features[rows], real_features, kid_subsets, kid_subset_size,
                                  int(rng.integers(2 ** 31)))[0])
    for name, points in terms.items():
      values[name].append(points[rng.integers(0, len(points), len(points))].mean())
    if correct is not None:
      values["label_accuracy"].append(correct[rows].mean())
      values["intra_frechet"].append(intra_class_frechet(fake_features[rows], np.asarray(fake_labels)[rows],
                                                         real_features, real_labels)[0])
  tail = 100 * (1 - level) / 2
  return {name: [float(x) for x in np.percentile(v, [tail, 100 - tail])] for name, v in values.items() if v}


def stacked_modes(channel_logits):
  """(mode [N], confident [N]) of channel logits [N, C, classes]: the number the argmax classes spell in base
  `classes` (100 a + 10 b + c for three digits), and whether each channel's has probability >= CONFIDENT."""
  logits = np.asarray(channel_logits, np.float64)
  n, channels, classes = logits.shape
  modes = np.argmax(logits, axis=2) @ classes ** np.arange(channels - 1, -1, -1)
  confident = softmax(logits.reshape(-1, classes)).max(axis=1).reshape(n, channels).min(axis=1) >= CONFIDENT
  return modes, confident


def mode_figures(modes, confident, num_modes):
  """Modes covered, KL(mode distribution || uniform over num_modes) in nats over the modes that occur
  (PacGAN's formula, natural log), the confident share, and each mode's count, of stacked_modes' output."""
  counts = np.bincount(np.asarray(modes), minlength=num_modes)
  p = counts[counts > 0] / counts.sum()
  return {"modes": int(np.count_nonzero(counts)), "num_modes": int(num_modes),
          "mode_kl": float(np.sum(p * np.log(p * num_modes))), "confident_share": float(np.mean(confident)),
          "mode_counts": counts.tolist()}


def mode_intervals(confident, resamples=100, level=0.95, seed=0):
  """{"confident_share": [low, high]} over seeded resamples. Modes and KL get none: a resample drops about a
  third of the samples, so it finds fewer modes and a larger KL (biased, not spread around the figure)."""
  rng = np.random.default_rng(seed)
  confident = np.asarray(confident, np.float64)
  values = [confident[rng.integers(0, len(confident), len(confident))].mean() for _ in range(resamples)]
  tail = 100 * (1 - level) / 2
  return {"confident_share": [float(x) for x in np.percentile(values, [tail, 100 - tail])]}
