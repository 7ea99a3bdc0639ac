"""The risk model: features, simulated history, training, evaluation, and the in-process scorer.

Entry points (imported from their modules, so importing this package loads nothing heavy):

- ``entrygate.risk.features``: ``RiskFeatures``, ``InstrumentHistory``, ``to_vector``;
- ``entrygate.risk.scorer``: ``RiskScorer`` (``from_directory``, ``bundled``; ``score``,
  ``recommend``), ``default_model_dir``;
- ``entrygate.risk.train``: ``train``, ``save_model``, ``load_current``;
- ``entrygate.risk.evaluate``: ``evaluate``, ``plot_report``;
- ``entrygate.risk.model_store``: ``ModelStore`` (the versions of ``ENTRYGATE_MODEL_DIR`` and the bundled one);
- ``entrygate.risk.operations``: ``ModelOperations`` (promote, shadow), ``ModelRoles`` and its port;
- ``entrygate.risk.backtest``, ``entrygate.risk.shadow_report``: the backtest and the shadow report;
- ``entrygate.risk.cli``: ``make_app`` (the ``entrygate risk`` sub-app; model operations in ``cli_ops``);
- ``entrygate.risk.sources``: ``TrainingData``, ``TrainingSource``, ``DatabaseSource`` and their errors.

The recommendation itself is pure policy and lives in ``entrygate.domain.risk_policy``.
See docs/risk-model.md.
"""
