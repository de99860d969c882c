"""Each reference's slice of a BAI found in one pass (what a server keeps instead of the parsed
index) equals the ``.bai.json`` chunks of the full parse, on every corpus BAI; damage is a typed error."""
from __future__ import annotations

import pytest

from index_oracle import corpus_files, corpus_params
from sparkbam_py.errors import IndexFormatError
from sparkbam_py.index.bai import parse_bai
from sparkbam_py.index.bai_json import bai_json_of
from sparkbam_py.index.slices import reference_spans


@pytest.mark.parametrize("bai", corpus_params(corpus_files(".bai")))
def test_spans_equal_the_full_parse(bai):
    data = bai.read_bytes()
    try:
        expected = bai_json_of(parse_bai(data, str(bai))).chunks
    except IndexFormatError:
        with pytest.raises(IndexFormatError):
            reference_spans(data, str(bai))
        return
    assert reference_spans(data, str(bai)) == expected


def test_damaged_bai_is_a_typed_error(tmp_path):
    good = next(iter(corpus_files(".bai")), None)
    if good is None:
        pytest.skip("the corpus is absent")
    data = good.read_bytes()
    for broken in (b"BAM\x01" + data[4:], data[:9], data[:len(data) - 9]):
        with pytest.raises(IndexFormatError, match="x.bai"):
            reference_spans(broken, "x.bai")
