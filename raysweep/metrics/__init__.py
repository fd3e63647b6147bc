"""Pure metric functions on arrays (embeddings, labels, predictions), shared by the search-time dev
metrics (``train/objectives``) and the test-time evaluation (``evaluation/``), so both report the
same figure under the same name. The bottom of the stack: no raysweep import, no model code.

* ``clustering``: AMI, ARI, FMS of one seeded k-means (scikit-learn);
* ``retrieval``: MRR, P@1, exact MAP@R of within-set cosine retrieval, in bounded memory;
* ``drift``: Δemb (mean cosine distance) and the k-NN overlap between two embeddings of the same texts;
* ``classification``: macro-F1, accuracy and the positive class's F1 of class predictions.

Retrieval and drift use torch for their tensor arithmetic (top-k, matrix products) only.
"""

from raysweep.metrics.classification import classification_scores
from raysweep.metrics.clustering import clustering_metrics
from raysweep.metrics.drift import cosine_drift, drift_metrics, knn_overlap
from raysweep.metrics.retrieval import retrieval_metrics

__all__ = [
    "classification_scores",
    "clustering_metrics",
    "cosine_drift",
    "drift_metrics",
    "knn_overlap",
    "retrieval_metrics",
]
