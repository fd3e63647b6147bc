"""Pure metric functions on arrays (embeddings, labels, predictions), shared by the search-time dev
metrics (``train/objectives``) and the test-time evaluation (``evaluation/``), so both report the
same figure under the same name. The bottom of the stack: no raysweep import, no model code.

* ``clustering``: AMI, ARI, FMS of seeded k-means (scikit-learn), the mean over 5 runs;
* ``retrieval``: MRR, P@1, exact MAP@R of within-set cosine retrieval, in bounded memory;
* ``drift``: Δemb (mean cosine distance) and the k-NN overlap between two embeddings of the same texts;
* ``classification``: macro-F1, accuracy and the positive class's F1 of class predictions, and
  whether the predictions collapsed onto one class;
* ``paired``: the paired bootstrap comparison of two methods' per-example outputs.

Every figure that is a mean over examples also has its per-example form (``per_query_retrieval``,
``per_text_drift``), the outputs a paired comparison resamples. Retrieval and drift use torch for
their tensor arithmetic (top-k, matrix products) only.
"""

from raysweep.metrics.classification import classification_scores, collapsed
from raysweep.metrics.clustering import cluster_scores, clustering_metrics, kmeans_clusters
from raysweep.metrics.drift import cosine_drift, drift_metrics, knn_overlap, per_text_drift
from raysweep.metrics.retrieval import per_query_retrieval, retrieval_metrics

__all__ = [
    "classification_scores",
    "cluster_scores",
    "clustering_metrics",
    "collapsed",
    "cosine_drift",
    "drift_metrics",
    "kmeans_clusters",
    "knn_overlap",
    "per_query_retrieval",
    "per_text_drift",
    "retrieval_metrics",
]
