"""The evaluation JSON as trial columns: figures, and a 1.0/0.0 ``*_collapsed`` column per classifier."""

from __future__ import annotations

from raysweep.tune.driver import flatten_evaluation


def test_collapsed_columns_per_protocol_and_shot() -> None:
    figures = {
        "emotion": {"ami": 0.2},
        "downstream": {
            "isarcasm": {
                "probe": {"macro_f1": 0.6, "pos_f1": 0.4, "collapsed": False},
                "fewshot": {
                    "k8": {"macro_f1_mean": 0.5, "collapsed": [False, True, False]},
                    "k64": {"macro_f1_mean": 0.6, "collapsed": [False] * 3},
                },
                "finetune": {"macro_f1": 0.462, "collapsed": True},
            },
            "old": {"probe": {"macro_f1": 0.7}},  # an evaluation written before the flag: no column
        },
    }
    flat = flatten_evaluation(figures)
    assert flat["isarcasm_finetune_f1"] == 0.462 and flat["isarcasm_finetune_collapsed"] == 1.0
    assert flat["isarcasm_probe_collapsed"] == 0.0
    assert flat["isarcasm_fewshot_k8_collapsed"] == 1.0 and flat["isarcasm_fewshot_k64_collapsed"] == 0.0
    assert "isarcasm_fewshot_collapsed" not in flat and "old_probe_collapsed" not in flat
