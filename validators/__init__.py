"""Record-boundary validators: does a BAM record start at this uncompressed position?

Installed as ``sparkbam_py.validators``. One predicate (:func:`records.check_records`),
many drivers: the split finder, the eager and full checkers and the check commands all
call it, so the checker we measure is the checker that splits.

Public API
----------
- :func:`search.find_record_start` ``(reader, block_start, header, config=CheckerConfig(),
  stop=None) -> Optional[Pos]``: the first position ``>= Pos(block_start, 0)`` the eager
  checker accepts; ``None`` when the data ends or ``stop`` is reached first (an empty
  split); :class:`~sparkbam_py.errors.RecordStartNotFoundError` after
  ``config.max_read_size`` positions. What a split calls on its executor.
- :func:`search.next_record_start` ``(reader, start: Pos, checker, max_positions, stop)``:
  the same search from any position with any checker that has ``calls_range``.
- :class:`eager.EagerChecker` ``(References.of(header), reads_to_check=10, vetoes=None)``:
  ``calls_range(RunView(run), lo, hi)`` / ``calls_at(view, indices)`` -> ``EagerCalls
  (accepted, need_more)``; ``eager.DEFAULT_VETOES`` is the measured veto set.
- :class:`full.FullChecker`: every failing check of the first failing record, and how many
  records passed before it (``ChainResult``).
- :class:`hadoop_bam.HadoopBamChecker`: hadoop-bam's ``BAMSplitGuesser`` heuristic, the
  baseline (nothing but the comparison commands uses it).
- :mod:`hadoop_bam_splits`: hadoop-bam's whole split computation on the driver, with that
  checker: the baseline splits the comparison commands (and only they) measure against.
- :mod:`indexed`: the true record starts, from ``.records`` or by walking the chain.
- :mod:`flags`: check names (spark-bam's, in its order, then the new ones) and bit masks.
- :class:`fields.RunView` wraps an :class:`~sparkbam_py.bgzf.run.InflatedRun` for checkers;
  :class:`records.References` carries the header's contig count and lengths.
"""
