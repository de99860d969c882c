"""``convert`` of bgzipped text: which format a path names, and the typed refusals (no Spark)."""
from __future__ import annotations

import pytest

from sparkbam_py.errors import ConfigError
from sparkbam_py.text.read import text_format_of


@pytest.mark.parametrize("paths, expected", [
    ("calls.vcf.gz", "vcf"), ("s3://bucket/CALLS.VCF.BGZ", "vcf"), (["a.bed.gz", "b.bam"], "bed"),
    ("genes.gff3.gz", "gff"), ("genes.gtf", "gff"), ("reads.bam", None), ("x.vcf.gz.tbi", None), ([], None)])
def test_the_format_comes_from_the_first_path_s_name(paths, expected):
    assert text_format_of(paths) == expected


class OldSpark:
    version = "3.5.3"


def test_spark_3_5_gets_a_typed_error_naming_the_version(monkeypatch):
    from sparkbam_py.spark import text_convert

    monkeypatch.setattr(text_convert, "spark_major_version", lambda spark: 3)
    with pytest.raises(ConfigError, match=r"Spark >= 4.0 \(this is 3.5.3\)"):
        text_convert.convert_text(OldSpark(), "calls.vcf.gz", "out", "vcf")


def test_an_unknown_format_is_a_config_error(monkeypatch):
    from sparkbam_py.spark import text_convert

    monkeypatch.setattr(text_convert, "spark_major_version", lambda spark: 4)
    with pytest.raises(ConfigError, match="text formats: bgzf_text, vcf"):
        text_convert.convert_text(OldSpark(), "calls.txt.gz", "out", "csv")

